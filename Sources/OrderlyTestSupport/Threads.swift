import Foundation

/// Runs blocking `body` on a new thread of its own and awaits it.
///
/// For tests that must block (a barrier between two transactions): blocking inside a Task would
/// hold one of the cooperative pool's few threads and can stall the whole test run.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

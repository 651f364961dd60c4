import Dispatch
import Foundation
import Synchronization

/// A thread of its own that runs blocking libpq calls one after another.
///
/// libpq blocks the calling thread for every round trip. Running that on Swift's cooperative pool
/// (two threads on a two-core machine) would stall every task in the process, so each pooled
/// connection owns one of these and all of its work happens here.
final class ConnectionThread: Sendable {
    private struct Queue {
        var jobs: [@Sendable () -> Void] = []
        var stopped = false
    }
    private let queue = Mutex(Queue())
    private let wakeup = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func loop() {
        while true {
            wakeup.wait()
            let next: (@Sendable () -> Void)? = queue.withLock { queue in
                queue.jobs.isEmpty ? nil : queue.jobs.removeFirst()
            }
            guard let next else { return }  // woken with nothing queued: stop() was called
            next()
        }
    }

    /// Runs `job` on this thread after the jobs before it. Jobs submitted after `stop()` are dropped.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = queue.withLock { queue in
            guard !queue.stopped else { return false }
            queue.jobs.append(job)
            return true
        }
        if accepted { wakeup.signal() }
        return accepted
    }

    /// Runs `body` here and suspends the caller until it has finished.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = submit { continuation.resume(with: Result { try body() }) }
            if !accepted {
                continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the connection was shut down"))
            }
        }
    }

    /// Lets the queued jobs finish, then ends the thread.
    func stop() {
        queue.withLock { $0.stopped = true }
        wakeup.signal()
    }
}

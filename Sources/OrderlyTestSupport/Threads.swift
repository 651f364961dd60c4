import Foundation

/// Runs blocking `body` on a thread of its own and awaits it, inside the calling task.
///
/// For tests that must block (a barrier between two transactions, a blocking socket client):
/// blocking on the cooperative pool would hold one of its few threads and can stall the whole run.
/// The body runs as part of the caller's task (a task executor preference, not a detached thread),
/// so task-locals come along: an `#expect` inside it is reported against the test that called it.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let executor = ThreadTaskExecutor()
    defer { executor.finish() }
    return try await withTaskExecutorPreference(executor) { try body() }
}

/// A task executor with one thread of its own: the jobs enqueued on it run there, in order.
///
/// `@unchecked Sendable`: its mutable state (the job queue and the finished flag) is only touched
/// with `condition` held.
final class ThreadTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    init() {
        let thread = Thread { [self] in runJobs() }
        thread.name = "orderly-test-onThread"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once the jobs already enqueued have run.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

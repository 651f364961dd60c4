public import Foundation
public import Logging
public import Orderly
public import OrderlyCore
public import ServiceLifecycle
import Synchronization

/// Runs in the transaction that discards a job for good (its retries spent), with the job and its
/// last error: `StandardJobs.onDiscard` holds the job's order for a person to look at.
public typealias DiscardHook = @Sendable (ClaimedJob, String, Transaction) throws -> Void

/// Does one kind of job. `perform` runs inside the transaction that also marks the job completed, so
/// its effects and the completion commit together, or neither does (DESIGN.md invariant 5).
public protocol JobHandler: Sendable {
    var kind: String { get }
    /// True when jobs of this kind may share one transaction (their effects are all in the database,
    /// and they take no lock another job of the batch could want in another order). A worker then runs
    /// a claimed batch of them in one transaction with one completion: one commit for the lot. If any
    /// fails, the batch is rolled back and each job runs again in its own transaction.
    var batchable: Bool { get }
    func perform(_ job: ClaimedJob, in transaction: Transaction) throws
}

extension JobHandler {
    public var batchable: Bool { false }
}

/// How a worker claims and runs jobs.
public struct WorkerConfiguration: Sendable {
    /// Names this worker in `jobs.attempted_by`; unique per process.
    public var id: String
    public var queues: [String]
    /// Jobs running at once.
    public var concurrency: Int
    public var leaseSeconds: Double
    /// How often to look for due jobs when no NOTIFY arrives (scheduled jobs, retries, rescues).
    public var pollInterval: Duration
    public var backoffBase: Double
    public var backoffCap: Double
    /// Batchable jobs per transaction (default: the concurrency). Each transaction commits one batch's
    /// effects and completions and claims the next batch: one commit per batch.
    public var batchSize: Int?
    /// How often each sweep (expiry, backorders) is enqueued; nil schedules none.
    public var sweepInterval: Duration?
    /// Fault injection for crash tests: jobs of these kinds sleep this long inside their transaction,
    /// after their effects and before their completion (`orderly-test-worker` sets it from
    /// ORDERLY_WORKER_PAUSE; `orderly worker` never does).
    public var pauseInTransaction: [String: Duration] = [:]
    /// A file whose modification time the claim loop renews (at most once a second): a container's
    /// health check reads its age. Nil writes none.
    public var heartbeatPath: String?
    /// How often the worker's row in `worker_processes` is renewed (`WORKER LIST`); silent for three
    /// of these, it is reported dead.
    public var heartbeatSeconds: Double = 5

    public init(
        id: String = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)",
        queues: [String] = ["default", "fulfillment", "payments", "notifications", "alerts", "maintenance"],
        concurrency: Int = 4,
        leaseSeconds: Double = 30,
        pollInterval: Duration = .seconds(1),
        backoffBase: Double = 1,
        backoffCap: Double = 3600,
        sweepInterval: Duration? = nil
    ) {
        self.id = id
        self.queues = queues
        self.concurrency = max(1, concurrency)
        self.leaseSeconds = leaseSeconds
        self.pollInterval = pollInterval
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.sweepInterval = sweepInterval
    }
}

/// `orderly worker`'s runner, a swift-service-lifecycle `Service`: claims due jobs up to its
/// concurrency, runs each in its own transaction with its completion, extends the leases of running
/// jobs, rescues lapsed ones, wakes on NOTIFY with polling as the fallback, and on graceful shutdown
/// stops claiming and lets running jobs finish.
public final class Worker: Service, Sendable {
    let jobs: JobService
    /// Whether the worker wakes on NOTIFY (a connection of its own); polling alone otherwise.
    let listens: Bool
    let handlers: [String: any JobHandler]
    let idempotentHandlers: [String: any IdempotentJobHandler]
    let configuration: WorkerConfiguration
    let logger: Logger
    private let wakeup = Wakeup()
    private let stopping = Atomic<Bool>(false)
    private let running = Mutex<Set<Int64>>([])
    private let claimsMade = Atomic<Int>(0)
    private let onDiscard: DiscardHook?
    /// Jobs claimed, completed, failed and discarded, by kind (`orderly_jobs_total`).
    let metrics: OrderlyMetrics

    public init(
        database: OrderlyDatabase,
        listens: Bool = true,
        handlers: [any JobHandler],
        idempotentHandlers: [any IdempotentJobHandler] = [],
        configuration: WorkerConfiguration,
        onDiscard: DiscardHook? = nil,
        metrics: OrderlyMetrics = OrderlyMetrics(),
        logger: Logger
    ) {
        self.onDiscard = onDiscard
        self.metrics = metrics
        self.jobs = JobService(database: database)
        self.listens = listens
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { _, last in last })
        self.idempotentHandlers = Dictionary(
            idempotentHandlers.map { ($0.kind, $0) },
            uniquingKeysWith: { _, last in last }
        )
        self.configuration = configuration
        self.logger = logger
    }

    /// Claim round trips made so far (each may claim nothing). The first one comes after the worker
    /// LISTENs, so a test can wait for it instead of guessing how long start-up takes.
    public var claimRounds: Int { claimsMade.load(ordering: .relaxed) }

    /// Renews the heartbeat file's modification time (creating it if needed).
    static func beat(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        futimens(fd, nil)
        close(fd)
    }

    /// Stops claiming; `run()` returns once running jobs are done (graceful shutdown does the same).
    public func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeup.signal()
    }

    public func run() async throws {
        let listener = listens ? try await jobs.wakeUps(logger: logger) : nil
        let events = listener?.events
        let wakeup = self.wakeup
        let listening = Task {
            guard let events else { return }
            for await _ in events { wakeup.signal() }
        }
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.shutdown()
        }
        listening.cancel()
        listener?.stop()
    }

    private func loop() async {
        let leaseKeeper = Task { await self.keepLeases() }
        let heart = Task { await self.keepHeartbeat() }
        // One ticker wakes the loop every poll interval (due scheduled jobs, retries, rescues); waits
        // themselves arm no timer, so a busy worker does not churn timers on every finished batch.
        let (wakeup, poll) = (self.wakeup, configuration.pollInterval)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: poll)
                wakeup.signal()
            }
        }
        // A discarding group: a worker runs for months, and a plain task group keeps every finished
        // child until it is awaited (memory grew by kilobytes a job).
        await withDiscardingTaskGroup { group in
            var lastRescue = ContinuousClock.now - .seconds(3600)
            var lastHeartbeat = ContinuousClock.now - .seconds(3600)
            var lastSweep = ContinuousClock.now - .seconds(86_400)
            while !stopping.load(ordering: .sequentiallyConsistent) {
                if ContinuousClock.now - lastRescue > .seconds(max(1, configuration.leaseSeconds / 2)) {
                    lastRescue = .now
                    _ = try? await jobs.rescue()
                }
                if let path = configuration.heartbeatPath, ContinuousClock.now - lastHeartbeat >= .seconds(1) {
                    lastHeartbeat = .now
                    Self.beat(path)
                }
                if let interval = configuration.sweepInterval, ContinuousClock.now - lastSweep > interval {
                    lastSweep = .now
                    await scheduleSweeps()
                }
                let busy = running.withLock { $0.count }
                let free = configuration.concurrency - busy
                // Claims wait for half the slots to be free: one claim round trip serves several jobs.
                let threshold = max(1, configuration.concurrency / 2)
                var claimed: [ClaimedJob] = []
                if free >= threshold || (busy == 0 && free > 0) {
                    do {
                        claimed = try await jobs.claim(claim(limit: free))
                        claimsMade.add(1, ordering: .relaxed)
                        count(claimed, .claimed)
                    } catch  where DatabaseFailure(error) == .closed {
                        logger.error("the database pool is closed; the worker stops")
                        stopping.store(true, ordering: .sequentiallyConsistent)
                        break
                    } catch {
                        logger.warning("claim failed", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: max(configuration.pollInterval, .milliseconds(500)))
                    }
                }
                running.withLock { set in for job in claimed { set.insert(job.id) } }
                // Batchable jobs in transactions of up to half the slots each: while one commits, the
                // loop claims the next jobs and another batch runs.
                let together = claimed.filter { handlers[$0.kind]?.batchable == true }
                if together.count > 1 {
                    let size = configuration.batchSize ?? configuration.concurrency
                    for start in stride(from: 0, to: together.count, by: size) {
                        let batch = Array(together[start..<min(start + size, together.count)])
                        group.addTask { await self.processBatch(batch) }
                    }
                }
                for job in claimed where together.count <= 1 || handlers[job.kind]?.batchable != true {
                    group.addTask { await self.process(job) }
                }
                // A full batch may mean more is due; otherwise wait for a NOTIFY, a finished job, or the poll.
                if claimed.count < free || free < threshold {
                    await wakeup.wait()
                }
            }
        }
        leaseKeeper.cancel()
        ticker.cancel()
        heart.cancel()
        await heart.value
        do {
            try await jobs.stopped(worker: configuration.id)
        } catch {
            logger.warning("could not mark this worker stopped", metadata: ["error": "\(error)"])
        }
    }

    /// This process's row in `worker_processes`, renewed every `heartbeatSeconds` with the jobs it
    /// is running. A failed beat is logged and tried again at the next.
    private func keepHeartbeat() async {
        // What the row says of the process is fixed (the host name is looked up once); each beat
        // brings the running count.
        var beat = WorkerHeartbeat(
            id: configuration.id,
            host: ProcessInfo.processInfo.hostName,
            pid: ProcessInfo.processInfo.processIdentifier,
            queues: configuration.queues,
            concurrency: configuration.concurrency,
            heartbeatSeconds: configuration.heartbeatSeconds,
            jobsRunning: 0,
            starting: true
        )
        while !Task.isCancelled {
            beat.jobsRunning = running.withLock { $0.count }
            do {
                try await jobs.beat(beat)
                beat.starting = false
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(configuration.heartbeatSeconds))
        }
    }

    /// One pending job per sweep across all workers (the unique key); whoever is due enqueues it.
    private func scheduleSweeps() async {
        let jobs = StandardJobs.sweeps.filter { configuration.queues.contains($0.queue) }
        do {
            try await self.jobs.enqueue(jobs)
        } catch {
            logger.warning("could not schedule sweeps", metadata: ["error": "\(error)"])
        }
    }

    private func keepLeases() async {
        let interval = Duration.seconds(max(0.05, configuration.leaseSeconds / 3))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let ids = Array(running.withLock { $0 })
            guard !ids.isEmpty else { continue }
            let (id, lease) = (configuration.id, configuration.leaseSeconds)
            _ = try? await jobs.extendLeases(ids: ids, worker: id, leaseSeconds: lease)
        }
    }

    /// What this worker claims when `limit` slots are free.
    private func claim(limit: Int) -> JobService.Claim {
        JobService.Claim(
            queues: configuration.queues,
            limit: limit,
            worker: configuration.id,
            leaseSeconds: configuration.leaseSeconds
        )
    }

    /// Batchable jobs in one transaction with one completion; the same transaction claims as many jobs
    /// again (one round trip and one commit per batch of no-op jobs), and batchable ones among them run
    /// here next. Any failure (a handler's, a lost lease, the commit's) rolls the batch back (and its
    /// claim) and runs each job on its own.
    private func processBatch(_ jobs: [ClaimedJob]) async {
        await LogContext.$job.withValue(jobs.map { String($0.id) }.joined(separator: ",")) {
            await runBatch(jobs)
        }
    }

    private func runBatch(_ jobs: [ClaimedJob]) async {
        let handlers = self.handlers
        var batch = jobs
        let pauses = configuration.pauseInTransaction
        while !batch.isEmpty {
            let current = batch
            do {
                // Decided after the handlers: a shutdown that came while the batch ran claims nothing more.
                let claimNext: @Sendable () -> JobService.Claim? = { [self] in
                    stopping.load(ordering: .sequentiallyConsistent) ? nil : claim(limit: current.count)
                }
                let next = try await self.jobs.run(current, worker: configuration.id, thenClaim: claimNext) { tx in
                    for job in current {
                        guard let handler = handlers[job.kind] else {
                            throw WorkerError("no handler for job kind '\(job.kind)'")
                        }
                        try handler.perform(job, in: tx)
                        if let pause = pauses[job.kind] { Thread.sleep(forTimeInterval: pause.seconds) }
                    }
                }
                running.withLock { set in
                    for job in current { set.remove(job.id) }
                    for job in next { set.insert(job.id) }
                }
                count(current, .completed)
                count(next, .claimed)
                wakeup.signal()
                batch = next.filter { handlers[$0.kind]?.batchable == true }
                for job in next where handlers[job.kind]?.batchable != true { await process(job) }
            } catch {
                logger.debug("batch rolled back; running its jobs one by one", metadata: ["error": "\(error)"])
                await withTaskGroup(of: Void.self) { group in
                    for job in current { group.addTask { await self.process(job) } }
                }
                batch = []
            }
        }
    }

    private func count(_ jobs: [ClaimedJob], _ outcome: OrderlyMetrics.JobOutcome) {
        for job in jobs { metrics.job(job.kind, outcome) }
    }

    private func process(_ job: ClaimedJob) async {
        await LogContext.$job.withValue(String(job.id)) { await perform(job) }
    }

    private func perform(_ job: ClaimedJob) async {
        defer {
            running.withLock { _ = $0.remove(job.id) }
            wakeup.signal()
        }
        let worker = configuration.id
        let pause = configuration.pauseInTransaction[job.kind]
        do {
            if let handler = handlers[job.kind] {
                // The completion and COMMIT travel together; a lost lease fails both.
                _ = try await jobs.run([job], worker: worker) { tx in
                    try handler.perform(job, in: tx)
                    if let pause { Thread.sleep(forTimeInterval: pause.seconds) }
                }
                metrics.job(job.kind, .completed)
            } else if let handler = idempotentHandlers[job.kind] {
                try await handler.perform(job)
                if try await jobs.complete(job, worker: worker) {
                    metrics.job(job.kind, .completed)
                } else {
                    logger.warning("lease lost after an idempotent job ran", metadata: ["job": "\(job.id)"])
                }
            } else {
                throw WorkerError("no handler for job kind '\(job.kind)'")
            }
        } catch is JobService.LeaseLost {
            logger.warning("lease lost; the job's effects were rolled back", metadata: ["job": "\(job.id)"])
        } catch {
            let delay = JobService.backoff(
                attempt: job.attempt,
                base: configuration.backoffBase,
                cap: configuration.backoffCap
            )
            let message = "\(error)"
            let onDiscard = self.onDiscard.map { hook in { @Sendable (tx: Transaction) in try hook(job, message, tx) } }
            let state = try? await jobs.fail(
                job,
                worker: worker,
                error: message,
                retryInSeconds: delay,
                onDiscard: onDiscard,
                logger: logger
            )
            switch state {
            case .discarded?: metrics.job(job.kind, .discarded)
            case .some: metrics.job(job.kind, .failed)
            case nil: break  // the lease was lost, or the failure could not be recorded
            }
            logger.info(
                "job failed",
                metadata: [
                    "job": "\(job.id)", "kind": "\(job.kind)", "state": "\(state?.rawValue ?? "?")",
                    "error": "\(message)",
                ]
            )
        }
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

public struct WorkerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A signal one waiter awaits; a signal while nobody waits is remembered once.
final class Wakeup: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next signal (or at once for one that came while nobody waited).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = state.withLock { state in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

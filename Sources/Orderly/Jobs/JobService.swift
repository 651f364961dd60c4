import LibPQ
public import Logging
public import OrderlyCore
import OrderlyStore

/// The job queue as a worker (and an admin) uses it: claims with leases, runs in the transaction that
/// completes, failures with backoff, rescues of lapsed leases, and the NOTIFY wake-ups (DESIGN.md,
/// "Job queue").
public struct JobService: Sendable {
    public let database: OrderlyDatabase

    public init(database: OrderlyDatabase) {
        self.database = database
    }

    /// A claim: up to `limit` due jobs of `queues`, leased to `worker` for `leaseSeconds`.
    public struct Claim: Sendable, Hashable {
        public var queues: [String]
        public var limit: Int
        public var worker: String
        public var leaseSeconds: Double

        public init(queues: [String], limit: Int, worker: String, leaseSeconds: Double) {
            self.queues = queues
            self.limit = limit
            self.worker = worker
            self.leaseSeconds = leaseSeconds
        }

        var statement: PostgresStatement {
            JobQueue.claimStatement(queues: queues, limit: limit, worker: worker, leaseSeconds: leaseSeconds)
        }
    }

    /// The job's lease was lost before its completion committed (it lapsed and the job was rescued):
    /// its effects were rolled back, and another run will do them.
    public struct LeaseLost: Error, Sendable {}

    /// Every queue's depth, for `/metrics`.
    public func gauges() async throws -> [QueueGauge] {
        try await database.pool.withConnection { try JobQueue.gauges($0) }
    }

    /// Claims due jobs, highest priority first; jobs other workers hold are skipped, not waited for.
    public func claim(_ claim: Claim) async throws -> [ClaimedJob] {
        try await database.pool.withConnection {
            try JobQueue.claim(
                $0,
                queues: claim.queues,
                limit: claim.limit,
                worker: claim.worker,
                leaseSeconds: claim.leaseSeconds
            )
        }
    }

    /// Runs `body` (the jobs' handlers) in one transaction whose COMMIT travels with the jobs'
    /// completion, so their effects and completion commit together or neither does (invariant 5). When
    /// `next()`, asked after `body`, gives a claim, it goes in the same round trip: the jobs it claims
    /// are returned. A lost lease throws `LeaseLost` (and rolls everything back).
    public func run(
        _ jobs: [ClaimedJob],
        worker: String,
        thenClaim next: @escaping @Sendable () -> Claim? = { nil },
        _ body: @escaping @Sendable (Transaction) throws -> Void
    ) async throws -> [ClaimedJob] {
        do {
            return try await database.pool.withConnection { connection in
                try connection.transaction { tx -> [ClaimedJob] in
                    try body(Transaction(tx))
                    var statements = [JobQueue.completion(jobs, worker: worker)]
                    if let claim = next() { statements.append(claim.statement) }
                    let results = try tx.commit(after: statements)
                    return results.count > 1 ? try JobQueue.decodeClaimed(results[1]) : []
                }
            }
        } catch  where JobQueue.isLeaseLost(error) {
            throw LeaseLost()
        }
    }

    /// Marks a job completed after work that committed by itself (an idempotent job). Returns false
    /// when the worker no longer held it.
    public func complete(_ job: ClaimedJob, worker: String) async throws -> Bool {
        try await database.pool.withConnection { try JobQueue.complete($0, job, worker: worker) }
    }

    /// Records a failed attempt: retryable after `retryInSeconds`, or discarded once its attempts are
    /// spent. A discard runs `onDiscard` in the same transaction (so a crash cannot discard the job and
    /// skip its consequence), inside a savepoint: a failing hook is logged and does not keep the job
    /// alive. Returns the job's new state (nil when the worker no longer held it).
    public func fail(
        _ job: ClaimedJob,
        worker: String,
        error: String,
        retryInSeconds delay: Double,
        onDiscard: (@Sendable (Transaction) throws -> Void)?,
        logger: Logger
    ) async throws -> JobState? {
        try await database.pool.withConnection { connection in
            try connection.transaction { tx in
                let state = try JobQueue.fail(tx, job, worker: worker, error: error, retryInSeconds: delay)
                if state == .discarded, let onDiscard {
                    do {
                        try tx.savepoint { try onDiscard(Transaction($0)) }
                    } catch {
                        logger.error(
                            "after discarding a job",
                            metadata: ["job": "\(job.id)", "kind": "\(job.kind)", "error": "\(error)"]
                        )
                    }
                }
                return state
            }
        }
    }

    /// Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^(attempt-1))].
    public static func backoff(attempt: Int, base: Double, cap: Double) -> Double {
        JobQueue.backoff(attempt: attempt, base: base, cap: cap)
    }

    /// Extends the leases `worker` holds on `ids`. Returns how many it still held.
    @discardableResult
    public func extendLeases(ids: [Int64], worker: String, leaseSeconds: Double) async throws -> Int {
        try await database.pool.withConnection {
            try JobQueue.extendLeases($0, ids: ids, worker: worker, leaseSeconds: leaseSeconds)
        }
    }

    /// A worker process's heartbeat: its row in `worker_processes` inserted or renewed.
    public func beat(_ beat: WorkerHeartbeat) async throws {
        try await database.pool.withConnection { try JobQueue.beat($0, beat) }
    }

    /// A worker that shut down cleanly: its row marked stopped.
    public func stopped(worker: String) async throws {
        try await database.pool.withConnection { try JobQueue.stopped($0, worker: worker) }
    }

    /// The rows of workers stopped or silent for more than `seconds` deleted; returns how many.
    @discardableResult
    public func pruneWorkers(olderThanSeconds seconds: Double) async throws -> Int {
        try await database.pool.withConnection { try JobQueue.pruneWorkers($0, olderThanSeconds: seconds) }
    }

    /// Gives back jobs whose lease lapsed (their worker crashed or hung). Returns how many.
    @discardableResult
    public func rescue() async throws -> Int {
        try await database.pool.withConnection { try JobQueue.rescue($0) }
    }

    /// Enqueues jobs in their order (a pending job's unique key skips its duplicate). Returns how many
    /// were inserted.
    @discardableResult
    public func enqueue(_ jobs: [NewJob]) async throws -> Int {
        try await database.pool.withConnection { try JobQueue.enqueue($0, jobs) }
    }

    /// One slice (10,000 at most) of finished jobs past their retention deleted; returns how many.
    public func prune(completedSeconds: Double, discardedSeconds: Double) async throws -> Int {
        try await database.pool.withConnection {
            try JobQueue.prune($0, completedSeconds: completedSeconds, discardedSeconds: discardedSeconds)
        }
    }

    /// Makes a discarded, retryable or scheduled job available now (`JOBS RETRY`). Returns its state.
    public func retry(_ id: Int64, alongside: CommitAlongside<String>? = nil) async throws -> String {
        try await database.write(alongside: alongside) { try AdminQueries.retryJob($0, id: id) }
    }

    /// Discards a job that has not completed (`JOBS DISCARD`). Returns its state.
    public func discard(_ id: Int64, alongside: CommitAlongside<String>? = nil) async throws -> String {
        try await database.write(alongside: alongside) { try AdminQueries.discardJob($0, id: id) }
    }

    /// Wake-ups for workers: an event soon after each commit that enqueued jobs (a statement trigger on
    /// `jobs` sends NOTIFY), on a connection of its own that reconnects by itself.
    public func wakeUps(logger: Logger) async throws -> JobWakeUps {
        let listener = try await PostgresListener.start(
            configuration: database.pool.configuration,
            channels: [JobQueue.channel],
            logger: logger
        )
        return JobWakeUps(listener: listener)
    }
}

/// `JobService.wakeUps`: one event per NOTIFY (or reconnect); `stop()` closes the connection.
public struct JobWakeUps: Sendable {
    let listener: PostgresListener
    public let events: AsyncStream<Void>

    init(listener: PostgresListener) {
        self.listener = listener
        let notifications = listener.events
        events = AsyncStream { continuation in
            let forwarding = Task {
                for await _ in notifications { continuation.yield() }
                continuation.finish()
            }
            continuation.onTermination = { _ in forwarding.cancel() }
        }
    }

    public func stop() { listener.stop() }
}

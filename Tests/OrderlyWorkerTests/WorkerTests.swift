import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import OrderlyWorker
import Testing

/// Records each job's id in a table: an effect that must happen exactly once.
struct EffectHandler: JobHandler {
    let kind = "effect"
    let table: String
    func perform(_ job: ClaimedJob, in transaction: Transaction) throws {
        try transaction.connection.execute("INSERT INTO \(table) (job_id) VALUES ($1)", [job.id])
    }
}

/// `EffectHandler` whose jobs share transactions; `failOn` names jobs that fail after their write.
struct BatchedEffectHandler: JobHandler {
    let kind = "batched"
    let batchable = true
    let table: String
    func perform(_ job: ClaimedJob, in transaction: Transaction) throws {
        try transaction.connection.execute("INSERT INTO \(table) (job_id) VALUES ($1)", [job.id])
        if job.args.contains("fail") { throw WorkerError("this one fails") }
    }
}

/// Always fails, after writing something that must be rolled back.
struct FailingHandler: JobHandler {
    let kind = "failing"
    let table: String
    func perform(_ job: ClaimedJob, in transaction: Transaction) throws {
        try transaction.connection.execute("INSERT INTO \(table) (job_id) VALUES ($1)", [-job.id])
        throw WorkerError("carrier API said no")
    }
}

/// Logs a line while it runs, through the logger it is given.
struct LoggingHandler: IdempotentJobHandler {
    let kind = "logging"
    let logger: Logger
    func perform(_ job: ClaimedJob) async throws {
        logger.warning("working", metadata: ["saw": "\(job.id)"])
    }
}

@Suite(.migratedDatabase)
struct WorkerTests {
    let queue = "w_\(UInt32.random(in: 0...UInt32.max))"

    func worker(
        _ pool: PostgresPool,
        id: String,
        handlers: [any JobHandler],
        poll: Duration = .milliseconds(100)
    )
        throws -> Worker
    {
        var logger = Logger(label: "test.worker")
        logger.logLevel = .warning
        return Worker(
            database: OrderlyDatabase(pool: pool),
            listens: true,
            handlers: handlers,
            configuration: WorkerConfiguration(
                id: id,
                queues: [queue],
                concurrency: 4,
                leaseSeconds: 5,
                pollInterval: poll,
                backoffBase: 0.01,
                backoffCap: 0.05
            ),
            logger: logger
        )
    }

    func waitUntil(
        _ pool: PostgresPool,
        _ sql: String,
        _ bindings: [any PostgresEncodable],
        equals expected: Int64
    )
        async throws -> Int64
    {
        var value: Int64 = -1
        // A hang guard, not a verdict: 10 minutes at the most.
        for _ in 0..<12_000 {
            value = try await pool.query(sql, bindings).scalar(Int64.self)
            if value == expected { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return value
    }

    @Test func everyLineLoggedWhileAJobRunsNamesTheJob() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 8))
        defer { Task { await pool.close() } }
        let queue = self.queue
        let ids = try await pool.withConnection { connection in
            try (0..<3).compactMap { _ in try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "logging")) }
        }
        let captured = CapturingLogHandler(level: .warning)
        captured.metadataProvider = LogContext.metadataProvider
        let worker = Worker(
            database: OrderlyDatabase(pool: pool),
            listens: true,
            handlers: [],
            idempotentHandlers: [LoggingHandler(logger: captured.logger)],
            configuration: WorkerConfiguration(
                id: "logging",
                queues: [queue],
                concurrency: 2,
                pollInterval: .milliseconds(100)
            ),
            logger: captured.logger
        )
        let running = Task { try await worker.run() }
        let completed = try await waitUntil(
            pool,
            "SELECT count(*) FROM jobs WHERE queue = $1 AND state = 'completed'",
            [queue],
            equals: 3
        )
        worker.shutdown()
        try await running.value
        #expect(completed == 3)
        let working = captured.lines.filter { $0.hasPrefix("warning working") }
        #expect(working.count == 3)
        for id in ids {
            #expect(working.contains { $0.contains("job=\(id)") && $0.contains("saw=\(id)") }, "\(working)")
        }
        // Outside a job, no job field.
        captured.logger.warning("idle")
        #expect(captured.lines.last == "warning idle ")
    }

    @Test func threeWorkersApplyEveryEffectOnce() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 12))
        defer { Task { await pool.close() } }
        let table = "effects_\(queue)"
        try await pool.query("CREATE TABLE \(identifier: table) (job_id bigint PRIMARY KEY)")
        let queue = self.queue
        try await pool.withConnection { connection in
            _ = try JobQueue.enqueue(connection, (0..<600).map { _ in NewJob(queue: queue, kind: "effect") })
        }
        let workers = try (0..<3).map { try worker(pool, id: "w\($0)", handlers: [EffectHandler(table: table)]) }
        let running = workers.map { worker in Task { try await worker.run() } }
        let completed = try await waitUntil(
            pool,
            "SELECT count(*) FROM jobs WHERE queue = $1 AND state = 'completed'",
            [queue],
            equals: 600
        )
        workers.forEach { $0.shutdown() }
        for task in running { try await task.value }
        #expect(completed == 600)
        #expect(try await pool.query("SELECT count(*) FROM \(identifier: table)").scalar(Int64.self) == 600)
    }

    @Test func batchesCommitTogetherAndAFailureInOneRunsTheOthersAlone() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 12))
        defer { Task { await pool.close() } }
        let table = "batched_\(queue)"
        try await pool.query("CREATE TABLE \(identifier: table) (job_id bigint NOT NULL)")
        let queue = self.queue
        try await pool.withConnection { connection in
            var jobs = (0..<300).map { _ in NewJob(queue: queue, kind: "batched") }
            jobs.insert(NewJob(queue: queue, kind: "batched", args: #"{"note": "fail"}"#, maxAttempts: 2), at: 150)
            _ = try JobQueue.enqueue(connection, jobs)
        }
        let workers = try (0..<2).map { try worker(pool, id: "b\($0)", handlers: [BatchedEffectHandler(table: table)]) }
        let running = workers.map { worker in Task { try await worker.run() } }
        let settled = try await waitUntil(
            pool,
            "SELECT count(*) FROM jobs WHERE queue = $1 AND state IN ('completed', 'discarded')",
            [queue],
            equals: 301
        )
        workers.forEach { $0.shutdown() }
        for task in running { try await task.value }
        #expect(settled == 301)
        let states = try await pool.query(
            "SELECT state, count(*) FROM jobs WHERE queue = $1 GROUP BY state ORDER BY state",
            [queue]
        ).map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(Int64.self, at: 1))" }
        #expect(states == ["completed=300", "discarded=1"])
        // Every completed job's effect once; the failing job's writes never committed.
        let effects = try await pool.query(
            "SELECT count(*), count(DISTINCT job_id) FROM \(identifier: table)"
        )
        #expect(try effects[0].decode(Int64.self, at: 0) == 300)
        #expect(try effects[0].decode(Int64.self, at: 1) == 300)
    }

    @Test func aFailingJobBacksOffThenIsDiscardedWithNothingApplied() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 6))
        defer { Task { await pool.close() } }
        let table = "failing_\(queue)"
        try await pool.query("CREATE TABLE \(identifier: table) (job_id bigint PRIMARY KEY)")
        let queue = self.queue
        let id = try await pool.withConnection { connection in
            try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "failing", maxAttempts: 3))
        }
        let runner = try worker(pool, id: "f", handlers: [FailingHandler(table: table)])
        let task = Task { try await runner.run() }
        let discarded = try await waitUntil(
            pool,
            "SELECT count(*) FROM jobs WHERE id = $1 AND state = 'discarded'",
            [id ?? 0],
            equals: 1
        )
        runner.shutdown()
        try await task.value
        #expect(discarded == 1)
        let row = try await pool.query(
            "SELECT attempt, last_error, jsonb_array_length(errors) FROM jobs WHERE id = $1",
            [id ?? 0]
        )
        #expect(try row[0].decode(Int32.self, at: 0) == 3)
        #expect(try row[0].decode(String.self, at: 1).contains("carrier API said no"))
        #expect(try row[0].decode(Int32.self, at: 2) == 3)
        #expect(try await pool.query("SELECT count(*) FROM \(identifier: table)").scalar(Int64.self) == 0)
    }

    @Test func aNotifyWakesAnIdleWorkerBeforeItsPoll() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 6))
        defer { Task { await pool.close() } }
        let table = "notify_\(queue)"
        try await pool.query("CREATE TABLE \(identifier: table) (job_id bigint PRIMARY KEY)")
        // Polls once a day: once its first (empty) claim is made, only the NOTIFY can make it run the job.
        let runner = try worker(pool, id: "n", handlers: [EffectHandler(table: table)], poll: .seconds(86_400))
        let task = Task { try await runner.run() }
        for _ in 0..<12_000 where runner.claimRounds == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(runner.claimRounds >= 1)
        let queue = self.queue
        try await pool.withConnection { connection in
            _ = try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "effect"))
        }
        let done = try await waitUntil(pool, "SELECT count(*) FROM \(table)", [], equals: 1)
        runner.shutdown()
        try await task.value
        #expect(done == 1)
    }
}

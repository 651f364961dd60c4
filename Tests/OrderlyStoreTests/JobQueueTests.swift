import Foundation
import LibPQ
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Synchronization
import Testing

@Suite(.migratedDatabase)
struct JobQueueTests {
    /// A queue of the test's own, so tests sharing the database never claim each other's jobs.
    let queue = "t_\(UInt32.random(in: 0...UInt32.max))"

    func connect() throws -> PostgresConnection { try TestDatabase.require().connect() }

    @Test func claimsByPriorityAndCompletesInTheCallersTransaction() async throws {
        let connection = try connect()
        defer { connection.close() }
        let low = try #require(try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "demo", priority: 200)))
        let high = try #require(try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "demo", priority: 1)))
        _ = try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "demo", priority: 100))
        let claimed = try JobQueue.claim(connection, queues: [queue], limit: 2, worker: "w1", leaseSeconds: 30)
        #expect(claimed.map(\.id).first == high)
        #expect(claimed.count == 2)
        #expect(claimed.allSatisfy { $0.attempt == 1 })
        #expect(!claimed.map(\.id).contains(low))
        // The completion rolls back with the transaction that holds the effects.
        _ = try? connection.transaction { tx in
            let completed = try JobQueue.complete(tx, claimed[0], worker: "w1")
            #expect(completed)
            throw CancellationError()
        }
        #expect(try state(connection, high) == "running")
        let completed = try connection.transaction { tx in try JobQueue.complete(tx, claimed[0], worker: "w1") }
        #expect(completed)
        #expect(try state(connection, high) == "completed")
        // Another worker cannot complete a job it does not hold.
        #expect(try !JobQueue.complete(connection, claimed[1], worker: "w2"))
    }

    @Test func concurrentClaimersNeverShareAJob() async throws {
        let connection = try connect()
        defer { connection.close() }
        let queue = self.queue
        let inserted = try JobQueue.enqueue(
            connection,
            (0..<400).map { NewJob(queue: queue, kind: "n", args: "{\"n\": \($0)}") }
        )
        #expect(inserted == 400)
        let database = try TestDatabase.require()
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    try await onThread {
                        let own = try database.connect()
                        defer { own.close() }
                        var ids: [Int64] = []
                        while true {
                            let batch = try JobQueue.claim(
                                own,
                                queues: [queue],
                                limit: 7,
                                worker: "w\(worker)",
                                leaseSeconds: 30
                            )
                            if batch.isEmpty { return ids }
                            ids += batch.map(\.id)
                        }
                    }
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(claims.count == 400)
        #expect(Set(claims).count == 400)
    }

    @Test func scheduledJobsWaitAndUniqueKeysDeduplicate() throws {
        let connection = try connect()
        defer { connection.close() }
        _ = try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "later", delaySeconds: 3600))
        let first = try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "once", uniqueKey: "\(queue):k"))
        #expect(first != nil)
        #expect(try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "once", uniqueKey: "\(queue):k")) == nil)
        let claimed = try JobQueue.claim(connection, queues: [queue], limit: 10, worker: "w", leaseSeconds: 30)
        #expect(claimed.map(\.kind) == ["once"])
        _ = try JobQueue.complete(connection, claimed[0], worker: "w")
        // Once it finished, the key is free again.
        #expect(try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "once", uniqueKey: "\(queue):k")) != nil)
    }

    @Test func failuresRetryWithBackoffThenDiscardKeepingTheError() throws {
        let connection = try connect()
        defer { connection.close() }
        let id = try #require(try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "flaky", maxAttempts: 2)))
        let first = try #require(
            try JobQueue.claim(connection, queues: [queue], limit: 1, worker: "w", leaseSeconds: 30).first
        )
        #expect(try JobQueue.fail(connection, first, worker: "w", error: "boom 1", retryInSeconds: 3600) == .retryable)
        // Backing off: not claimable yet.
        #expect(try JobQueue.claim(connection, queues: [queue], limit: 1, worker: "w", leaseSeconds: 30).isEmpty)
        try connection.execute("UPDATE jobs SET run_at = now() WHERE id = $1", [id])
        let second = try JobQueue.claim(connection, queues: [queue], limit: 1, worker: "w", leaseSeconds: 30)
        #expect(second.first?.attempt == 2)
        let job = try #require(second.first)
        #expect(try JobQueue.fail(connection, job, worker: "w", error: "boom 2", retryInSeconds: 0) == .discarded)
        let row = try connection.query("SELECT last_error, jsonb_array_length(errors) FROM jobs WHERE id = $1", [id])
        #expect(try row[0].decode(String.self, at: 0) == "boom 2")
        #expect(try row[0].decode(Int32.self, at: 1) == 2)
        // Backoff grows and is jittered within its ceiling.
        #expect((0..<100).allSatisfy { _ in JobQueue.backoff(attempt: 3, base: 1, cap: 60) <= 4 })
        #expect((0..<100).allSatisfy { _ in JobQueue.backoff(attempt: 30, base: 1, cap: 60) <= 60 })
    }

    @Test func aLapsedLeaseIsRescuedAndTheOldHolderCannotComplete() throws {
        let connection = try connect()
        defer { connection.close() }
        let id = try #require(try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "slow")))
        let first = try JobQueue.claim(connection, queues: [queue], limit: 1, worker: "crashed", leaseSeconds: 30)
        // The lease lapses: moved into the past, rather than waited for.
        try connection.execute(
            "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
            [id]
        )
        #expect(try JobQueue.rescue(connection) >= 1)
        let again = try JobQueue.claim(connection, queues: [queue], limit: 1, worker: "rescuer", leaseSeconds: 30)
        let job = try #require(again.first)
        #expect(job.id == id)
        #expect(job.attempt == 2)
        #expect(try !JobQueue.complete(connection, try #require(first.first), worker: "crashed"))
        #expect(try JobQueue.extendLeases(connection, ids: [id], worker: "rescuer", leaseSeconds: 60) == 1)
        // The same worker holding a later attempt cannot complete the earlier one.
        var stale = job
        stale.attempt = 1
        #expect(try !JobQueue.complete(connection, stale, worker: "rescuer"))
        // The one-round-trip form refuses by failing, so COMMIT cannot carry the effects alone.
        do {
            try connection.transaction { tx in _ = try tx.commit(after: [JobQueue.completion(stale, worker: "rescuer")])
            }
            Issue.record("a stale attempt completed")
        } catch {
            #expect(JobQueue.isLeaseLost(error))
        }
        #expect(try JobQueue.complete(connection, job, worker: "rescuer"))
    }

    @Test func pruningDeletesFinishedJobsPastTheirRetentionOnly() throws {
        let connection = try connect()
        defer { connection.close() }
        let ids = try (0..<5).map { _ in
            try #require(try JobQueue.enqueue(connection, NewJob(queue: queue, kind: "old")))
        }
        // 0: completed 2 days ago; 1: completed an hour ago; 2: discarded 2 days ago; 3: discarded 8 days
        // ago; 4: still available (never finished).
        try connection.execute(
            """
            UPDATE jobs SET state = u.state, completed_at = now() - make_interval(hours => u.hours::int)
            FROM unnest($1::int8[], $2::text[], $3::int8[]) AS u(id, state, hours) WHERE jobs.id = u.id
            """,
            [Array(ids[0..<4]), ["completed", "completed", "discarded", "discarded"], [Int64(48), 1, 48, 192]]
        )
        let deleted = try JobQueue.prune(connection, completedSeconds: 86_400, discardedSeconds: 7 * 86_400)
        #expect(deleted >= 2)
        let left = try connection.query("SELECT id FROM jobs WHERE queue = $1 ORDER BY id", [queue])
            .map { try $0.decode(Int64.self, at: 0) }
        #expect(left == [ids[1], ids[2], ids[4]])
    }

    @Test func threeDrainersApplyEachEffectExactlyOnce() async throws {
        let connection = try connect()
        defer { connection.close() }
        let effects = "effects_\(queue)"
        try connection.execute("CREATE TABLE \(identifier: effects) (job_id bigint PRIMARY KEY)")
        let queue = self.queue
        _ = try JobQueue.enqueue(connection, (0..<1000).map { _ in NewJob(queue: queue, kind: "effect") })
        let database = try TestDatabase.require()
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<3 {
                group.addTask {
                    try await onThread {
                        let own = try database.connect()
                        defer { own.close() }
                        var count = 0
                        while true {
                            let batch = try JobQueue.claim(
                                own,
                                queues: [queue],
                                limit: 10,
                                worker: "d\(worker)",
                                leaseSeconds: 30
                            )
                            if batch.isEmpty { return count }
                            for job in batch {
                                try own.transaction { tx in
                                    try tx.execute("INSERT INTO \(effects) VALUES ($1)", [job.id])
                                    guard try JobQueue.complete(tx, job, worker: "d\(worker)") else {
                                        throw CancellationError()
                                    }
                                }
                                count += 1
                            }
                        }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(done == 1000)
        #expect(try connection.query("SELECT count(*) FROM \(identifier: effects)").scalar(Int64.self) == 1000)
        let states = try connection.query("SELECT count(*) FROM jobs WHERE queue = $1 AND state = 'completed'", [queue])
        #expect(try states.scalar(Int64.self) == 1000)
    }

    func state(_ connection: PostgresConnection, _ id: Int64) throws -> String {
        try connection.query("SELECT state FROM jobs WHERE id = $1", [id]).scalar(String.self)
    }
}

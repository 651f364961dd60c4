import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// What callers above Orderly get instead of a connection: failures classified, reads composed on
/// one connection, jobs run in the transaction that completes them.
@Suite struct DatabaseFailureTests {
    @Test func theDatabasesFailuresAreClassifiedAndNothingElseIs() {
        func failure(_ code: PostgresError.Code) -> DatabaseFailure? {
            DatabaseFailure(PostgresError(code: code, message: "test"))
        }
        #expect(failure(.commitOutcomeUnknown) == .outcomeUnknown)
        #expect(failure(.connectionLost) == .unavailable)
        #expect(failure(.connectionFailed) == .unavailable)
        #expect(failure(.poolTimeout) == .unavailable)
        #expect(failure(.poolClosed) == .closed)
        #expect(failure(.uniqueViolation) == nil)
        #expect(failure(.serializationFailure) == nil)
        #expect(DatabaseFailure(OrderlyError(.notFound, "order 1 does not exist")) == nil)
    }
}

@Suite(.migratedDatabase)
struct OneDoorTests {
    @Test func composedReadsRunOnOneConnection() async throws {
        let pool = try TestDatabase.require().makePool()
        let database = OrderlyDatabase(pool: pool)
        let backend = DatabaseRead { try $0.query("SELECT pg_backend_pid()").scalar(Int32.self) }
        let both = backend.then { first in backend.map { (first, $0) } }
        let (first, second) = try await database.read(both)
        #expect(first == second)
        #expect(try await database.read(DatabaseRead.just(42).map { $0 + 1 }) == 43)
        let fromTheEventLoop = await withCheckedContinuation { continuation in
            database.read(both.map { $0.0 == $0.1 }) { continuation.resume(returning: $0) }
        }
        #expect(try fromTheEventLoop.get())
        await pool.close()
    }

    @Test func aJobsEffectsCommitWithItsCompletionOrNotAtAll() async throws {
        let pool = try TestDatabase.require().makePool()
        let jobs = JobService(database: OrderlyDatabase(pool: pool))
        let queue = "door_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query("CREATE TABLE \(identifier: queue) (job_id int8 PRIMARY KEY)")
        let effect = NewJob(queue: queue, kind: "effect")
        #expect(try await jobs.enqueue([effect, effect, effect]) == 3)
        let claim = JobService.Claim(queues: [queue], limit: 1, worker: "w1", leaseSeconds: 30)
        let first = try await jobs.claim(claim)
        #expect(first.count == 1)
        // The completion's COMMIT also claims the next job.
        let claimAgain: @Sendable () -> JobService.Claim? = { claim }
        let next = try await jobs.run(first, worker: "w1", thenClaim: claimAgain) { tx in
            try tx.connection.execute("INSERT INTO \(identifier: queue) VALUES (\(first[0].id))")
        }
        #expect(next.count == 1 && next[0].id != first[0].id)
        #expect(try await jobs.complete(next[0], worker: "w1"))
        // A lease that lapsed and was rescued: the effects roll back with the completion.
        let taken = try await jobs.claim(JobService.Claim(queues: [queue], limit: 1, worker: "w2", leaseSeconds: -1))
        #expect(taken.count == 1)
        #expect(try await jobs.rescue() == 1)
        await #expect(throws: JobService.LeaseLost.self) {
            _ = try await jobs.run(taken, worker: "w2") { tx in
                try tx.connection.execute("INSERT INTO \(identifier: queue) VALUES (\(taken[0].id))")
            }
        }
        let effects = try await pool.query("SELECT job_id FROM \(identifier: queue)").map {
            try $0.decode(Int64.self, at: 0)
        }
        #expect(effects == [first[0].id])
        let states = try await pool.query(
            "SELECT state FROM jobs WHERE queue = \(queue) ORDER BY id" as PostgresStatement
        ).map { try $0.decode(JobState.self, at: 0) }
        #expect(states == [.completed, .completed, .retryable])
        await pool.close()
    }
}

import Dispatch
import Foundation
import LibPQ
import OrderlyTestSupport
import Testing

@Suite(.database)
struct ErrorTests {
    init() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        // Tests run in parallel and each runs this; IF NOT EXISTS alone races in the catalog.
        try connection.transaction { tx in
            try tx.execute("SELECT pg_advisory_xact_lock(4242)")
            try tx.executeScript(
                """
                CREATE TABLE IF NOT EXISTS parent (id int PRIMARY KEY);
                CREATE TABLE IF NOT EXISTS stock (
                    id int PRIMARY KEY,
                    code text NOT NULL CONSTRAINT stock_code_unique UNIQUE,
                    on_hand int NOT NULL,
                    reserved int NOT NULL,
                    parent_id int REFERENCES parent (id),
                    CONSTRAINT stock_reserved_within CHECK (reserved >= 0 AND reserved <= on_hand)
                );
                """
            )
        }
    }

    /// A row id of this test's own, so tests running in parallel never touch each other's rows.
    func freshID() -> Int { Int.random(in: 1...1_000_000_000) }

    @Test func uniqueViolationNamesTheConstraint() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let id = freshID()
        let code = "sku-\(id)"
        try connection.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [id, code])
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [id + 1, code])
        }
        #expect(error.code == .uniqueViolation)
        #expect(error.sqlState == "23505")
        #expect(error.constraint == "stock_code_unique")
        #expect(error.table == "stock")
        #expect(error.detail?.contains(code) == true)
    }

    @Test func checkViolation() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("INSERT INTO stock VALUES ($1, $2, 1, 2)", [freshID(), "c-\(freshID())"])
        }
        #expect(error.code == .checkViolation)
        #expect(error.constraint == "stock_reserved_within")
    }

    @Test func foreignKeyAndNotNullViolations() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let foreignKey = try #require(throws: PostgresError.self) {
            try connection.execute("INSERT INTO stock VALUES ($1, $2, 1, 0, -5)", [freshID(), "f-\(freshID())"])
        }
        #expect(foreignKey.code == .foreignKeyViolation)
        let notNull = try #require(throws: PostgresError.self) {
            try connection.execute("INSERT INTO stock VALUES ($1, NULL, 1, 0)", [freshID()])
        }
        #expect(notNull.code == .notNullViolation)
        #expect(notNull.column == "code")
    }

    @Test func syntaxErrorIsAServerErrorAndTheConnectionStaysUsable() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let error = try #require(throws: PostgresError.self) { try connection.execute("SELEC 1") }
        #expect(error.code == .server)
        #expect(error.sqlState == "42601")
        #expect(try connection.query("SELECT 1").scalar(Int.self) == 1)
    }

    @Test func deadlockIsDetected() async throws {
        let database = try TestDatabase.require()
        let a = freshID()
        let b = a + 1
        let setup = try database.connect()
        try setup.execute("INSERT INTO stock VALUES ($1, $2, 5, 0), ($3, $4, 5, 0)", [a, "d-\(a)", b, "d-\(b)"])
        setup.close()
        let bothLockedFirstRow = DispatchGroup()
        bothLockedFirstRow.enter()
        bothLockedFirstRow.enter()
        // Two transactions lock two rows in opposite orders: the server must abort one of them.
        @Sendable func contender(_ first: Int, _ second: Int) async throws -> PostgresError.Code? {
            try await onThread {
                do {
                    let connection = try database.connect()
                    defer { connection.close() }
                    try connection.transaction { tx in
                        try tx.execute("UPDATE stock SET reserved = reserved + 1 WHERE id = $1", [first])
                        bothLockedFirstRow.leave()
                        bothLockedFirstRow.wait()
                        try tx.execute("UPDATE stock SET reserved = reserved + 1 WHERE id = $1", [second])
                    }
                    return nil
                } catch let error as PostgresError {
                    return error.code
                }
            }
        }
        async let first = contender(a, b)
        async let second = contender(b, a)
        let outcomes = try await [first, second]
        #expect(outcomes.filter { $0 == .deadlockDetected }.count == 1, "\(outcomes)")
        #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
    }

    @Test func serializationFailureIsRetryable() throws {
        let database = try TestDatabase.require()
        let id = freshID()
        let one = try database.connect()
        let two = try database.connect()
        defer {
            one.close()
            two.close()
        }
        try one.execute("INSERT INTO stock VALUES ($1, $2, 10, 0)", [id, "s-\(id)"])
        try one.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        _ = try one.query("SELECT reserved FROM stock WHERE id = $1", [id])
        try two.execute("UPDATE stock SET reserved = 1 WHERE id = $1", [id])
        let error = try #require(throws: PostgresError.self) {
            try one.execute("UPDATE stock SET reserved = 2 WHERE id = $1", [id])
        }
        #expect(error.code == .serializationFailure)
        #expect(error.isRetryable)
        try one.execute("ROLLBACK")
    }

    @Test func lockTimeout() throws {
        let database = try TestDatabase.require()
        let id = freshID()
        let holder = try database.connect()
        let waiter = try database.connect()
        defer {
            holder.close()
            waiter.close()
        }
        try holder.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [id, "l-\(id)"])
        try holder.execute("BEGIN")
        try holder.execute("SELECT * FROM stock WHERE id = $1 FOR UPDATE", [id])
        try waiter.execute("SET lock_timeout = '50ms'")
        let error = try #require(throws: PostgresError.self) {
            try waiter.execute("SELECT * FROM stock WHERE id = $1 FOR UPDATE", [id])
        }
        #expect(error.code == .lockTimeout)
        try holder.execute("ROLLBACK")
    }

    @Test func statementTimeoutIsQueryCanceled() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        try connection.execute("SET statement_timeout = '20ms'")
        let error = try #require(throws: PostgresError.self) { try connection.execute("SELECT pg_sleep(5)") }
        #expect(error.code == .queryCanceled)
    }

    @Test func transactionCommitsOrRollsBack() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let kept = freshID()
        let dropped = kept + 1
        _ = try connection.transaction {
            try $0.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [kept, "t-\(kept)"])
        }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [dropped, "t-\(dropped)"])
                throw Boom()
            }
        }
        let count = try connection.query("SELECT count(*) FROM stock WHERE id IN ($1, $2)", [kept, dropped])
        #expect(try count.scalar(Int.self) == 1)
        #expect(!connection.isInTransaction)
    }

    @Test func aCaughtErrorInsideATransactionStillRollsItBack() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let id = freshID()
        let error = try #require(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [id, "a-\(id)"])
                _ = try? tx.execute("SELECT 1/0")  // swallowed, but the transaction is now aborted
            }
        }
        #expect(error.code == .transactionAborted)
        #expect(try connection.query("SELECT count(*) FROM stock WHERE id = $1", [id]).scalar(Int.self) == 0)
    }

    @Test func savepointRollsBackOnlyItsPart() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let outer = freshID()
        let inner = outer + 1
        try connection.transaction { tx in
            try tx.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [outer, "o-\(outer)"])
            _ = try? tx.savepoint { sp in
                try sp.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [inner, "i-\(inner)"])
                try sp.execute("INSERT INTO stock VALUES ($1, $2, 1, 0)", [inner, "dup-\(inner)"])
            }
        }
        let ids = try connection.query("SELECT id FROM stock WHERE id IN ($1, $2)", [outer, inner]).map {
            try $0.decode(Int.self, at: 0)
        }
        #expect(ids == [outer])
        #expect(throws: PostgresError.self) { try connection.transaction { tx in try tx.transaction { _ in } } }
    }

    @Test func retryHelperRunsTheTransactionAgainAfterASerializationFailure() throws {
        let database = try TestDatabase.require()
        let connection = try database.connect()
        let intruder = try database.connect()
        defer {
            connection.close()
            intruder.close()
        }
        let id = freshID()
        try connection.execute("INSERT INTO stock VALUES ($1, $2, 10, 0)", [id, "r-\(id)"])
        var attempts = 0
        try connection.retrying(RetryPolicy(maxAttempts: 3)) { _ in
            try connection.transaction(isolation: .serializable) { tx in
                attempts += 1
                let reserved = try tx.query("SELECT reserved FROM stock WHERE id = $1", [id]).scalar(Int.self)
                if attempts == 1 {
                    // A concurrent writer commits between our read and our write.
                    try intruder.execute("UPDATE stock SET reserved = reserved + 1 WHERE id = $1", [id])
                }
                try tx.execute("UPDATE stock SET reserved = $2 WHERE id = $1", [id, reserved + 2])
            }
        }
        #expect(attempts == 2)
        #expect(try connection.query("SELECT reserved FROM stock WHERE id = $1", [id]).scalar(Int.self) == 3)
    }

    @Test func terminatedBackendIsConnectionLost() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        }
        #expect(error.code == .connectionLost)
        #expect(!connection.isUsable)
        let again = try #require(throws: PostgresError.self) { try connection.execute("SELECT 1") }
        #expect(again.code == .connectionLost)
    }

    @Test func badConninfoIsConnectionFailedWithoutThePassword() throws {
        let configuration = PostgresConfiguration(
            conninfo: "postgresql://who:secret@127.0.0.1:1/nothing",
            connectTimeout: 2
        )
        let error = try #require(throws: PostgresError.self) { try PostgresConnection(configuration: configuration) }
        #expect(error.code == .connectionFailed)
        #expect(!error.message.contains("secret"))
    }
}

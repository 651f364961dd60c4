import LibPQ
import OrderlyTestSupport
import Testing

/// Pipeline mode and the deferred BEGIN: fewer round trips, same atomicity.
@Suite(.database)
struct PipelineTests {
    let table: String

    init() throws {
        table = "pipe_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        try connection.execute("CREATE TABLE \(identifier: table) (id int PRIMARY KEY, note text NOT NULL)")
    }

    func count(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT count(*) FROM \(identifier: table)").scalar(Int64.self)
    }

    @Test func resultsComeBackInOrder() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let results = try connection.pipeline([
            PostgresStatement("INSERT INTO \(table) VALUES ($1, $2)", [1, "one"]),
            PostgresStatement("SELECT $1::int8 + 1", [Int64(41)]),
            PostgresStatement("SELECT note FROM \(table) WHERE id = $1", [1]),
        ])
        #expect(results.count == 3)
        #expect(results[0].affectedRows == 1)
        #expect(try results[1].scalar(Int64.self) == 42)
        #expect(try results[2].scalar(String.self) == "one")
        #expect(!connection.isInTransaction)
    }

    @Test func aFailureUndoesTheWholePipelineAndSkipsTheRest() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let error = try #require(throws: PostgresError.self) {
            try connection.pipeline([
                PostgresStatement("INSERT INTO \(table) VALUES ($1, $2)", [10, "kept?"]),
                PostgresStatement("INSERT INTO \(table) VALUES ($1, NULL)", [11]),
                PostgresStatement("INSERT INTO \(table) VALUES ($1, $2)", [12, "never runs"]),
            ])
        }
        #expect(error.code == .notNullViolation)
        #expect(try count(connection) == 0)
        // The connection goes on working.
        #expect(try connection.query("SELECT 1::int8").scalar(Int64.self) == 1)
    }

    @Test func deferredBeginTravelsWithTheFirstStatement() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let inside = try connection.transaction { tx in
            let before = tx.isInTransaction
            try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [20, "in tx"])
            return (before, tx.isInTransaction)
        }
        #expect(inside.0 == false)
        #expect(inside.1 == true)
        #expect(try count(connection) == 1)
        // A transaction that sends nothing sends no BEGIN and no COMMIT.
        try connection.transaction { _ in }
        #expect(!connection.isInTransaction)
    }

    @Test func commitAfterWritesAndCommitsInOneGo() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let rows = try connection.transaction { tx in
            _ = try tx.query("SELECT count(*) FROM \(identifier: table)")
            return try tx.commit(after: [
                PostgresStatement("INSERT INTO \(table) VALUES ($1, $2) RETURNING id", [30, "a"]),
                PostgresStatement("INSERT INTO \(table) VALUES ($1, $2) RETURNING id", [31, "b"]),
            ])
        }
        #expect(rows.count == 2)
        #expect(try rows[1].scalar(Int32.self) == 31)
        #expect(!connection.isInTransaction)
        #expect(try count(connection) == 2)
    }

    @Test func aFailedCommitAfterRollsEverythingBack() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        #expect(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO \(table) VALUES ($1, $2)", [40, "first"])
                try tx.commit(after: [PostgresStatement("INSERT INTO \(table) VALUES ($1, $2)", [40, "dup"])])
            }
        }
        #expect(!connection.isInTransaction)
        #expect(try count(connection) == 0)
        #expect(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.commit(after: [])
                try tx.execute("SELECT 1")
            }
        }
    }
}

/// The per-connection statement cache and per-session settings.
@Suite(.database)
struct StatementCacheTests {
    @Test func cachedStatementsAreParsedOncePerConnection() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let sql = "SELECT $1::int8 * 2 AS doubled"
        for value in Int64(1)...3 {
            let rows = try connection.pipeline([PostgresStatement.cached(sql, [value])])
            #expect(try rows[0].scalar(Int64.self) == value * 2)
        }
        let prepared = try connection.query(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1 AND NOT from_sql",
            [sql]
        ).scalar(Int64.self)
        #expect(prepared == 1)
        // A failing Parse caches nothing, and the connection goes on.
        #expect(throws: PostgresError.self) { try connection.pipeline([.cached("SELEC nonsense")]) }
        #expect(throws: PostgresError.self) { try connection.pipeline([.cached("SELEC nonsense")]) }
        #expect(try connection.pipeline([.cached(sql, [Int64(5)])])[0].scalar(Int64.self) == 10)
    }

    @Test func settingsApplyToEverySession() throws {
        var configuration = try TestDatabase.require().configuration
        configuration.settings = ["lock_timeout": "1500ms", "application_name": "settings-test"]
        let connection = try PostgresConnection(configuration: configuration)
        defer { connection.close() }
        #expect(try connection.query("SELECT current_setting('lock_timeout')").scalar(String.self) == "1500ms")
        configuration.settings = ["no_such_setting": "1"]
        #expect(throws: PostgresError.self) { try PostgresConnection(configuration: configuration) }
    }
}

/// The pool's callback flavour, used by the admin server from its event loops.
@Suite(.database)
struct PoolCallbackTests {
    func call<T: Sendable>(
        _ pool: PostgresPool,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            pool.withConnection(body) { continuation.resume(returning: $0) }
        }
    }

    @Test func resultsAndErrorsArriveOnceOnBothPaths() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 2))
        defer { Task { await pool.close() } }
        // No idle connection yet: the async path opens one.
        let first = await call(pool) { try $0.query("SELECT 41::int8 + 1").scalar(Int64.self) }
        #expect(try first.get() == 42)
        // Now idle: the direct path, on the same connection.
        let pid = try await call(pool) { $0.backendPID }.get()
        #expect(try await call(pool) { $0.backendPID }.get() == pid)
        let failed = await call(pool) { try $0.query("SELECT 1/0") }
        #expect(throws: PostgresError.self) { try failed.get() }
        // The connection went back to the pool usable.
        #expect(try await call(pool) { try $0.query("SELECT 1::int8").scalar(Int64.self) }.get() == 1)
        #expect(pool.statistics.open <= 2)
        // Many at once share two connections.
        let sums = try await withThrowingTaskGroup(of: Int64.self) { group in
            for value in Int64(1)...40 {
                group.addTask {
                    try await self.call(pool) { try $0.query("SELECT $1::int8", [value]).scalar(Int64.self) }.get()
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sums == 820)
    }
}

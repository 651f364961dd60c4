import Foundation
import LibPQ
import OrderlyTestSupport
import Testing

@Suite(.database)
struct PoolTests {
    /// Waits until a statement whose text contains `marker` is running on the server. (The bound is a
    /// hang guard, far past any machine's slowness, not a verdict.)
    func waitUntilRunning(_ marker: String, _ admin: PostgresConnection) async throws {
        for _ in 0..<12_000 {
            let running = try admin.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE query LIKE '%' || $1 || '%' AND state = 'active' AND pid <> pg_backend_pid()
                """,
                [marker]
            ).scalar(Int.self)
            if running > 0 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the statement marked \(marker) never started")
    }

    @Test func sixtyFourTasksShareEightConnectionsWithoutStarving() async throws {
        let pool = try TestDatabase.require().makePool(
            PostgresPoolOptions(maxConnections: 8, acquireTimeout: .seconds(60))
        )
        let perTask = try await withThrowingTaskGroup(of: [Int32].self) { group in
            for task in 0..<64 {
                group.addTask {
                    var seen: [Int32] = []
                    for round in 0..<10 {
                        let (pid, echoed) = try await pool.withConnection { connection in
                            let row = try connection.query("SELECT pg_backend_pid(), $1::int8", [task * 100 + round])[0]
                            return (try row.decode(Int32.self, at: 0), try row.decode(Int.self, at: 1))
                        }
                        #expect(echoed == task * 100 + round)
                        seen.append(pid)
                    }
                    return seen
                }
            }
            return try await group.reduce(into: [[Int32]]()) { $0.append($1) }
        }
        #expect(perTask.count == 64)
        #expect(perTask.allSatisfy { $0.count == 10 })
        let backends = Set(perTask.joined())
        #expect(backends.count <= 8)
        let statistics = pool.statistics
        #expect(statistics.open <= 8)
        #expect(statistics.waiting == 0)
        await pool.close()
    }

    /// How many statements wait for advisory lock `key` right now.
    static func waiting(on key: Int64, _ admin: PostgresConnection) throws -> Int {
        try admin.query(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted",
            [key]
        ).scalar(Int.self)
    }

    /// Waits (a hang guard, not a verdict) until `count` statements wait for advisory lock `key`.
    static func waitUntilWaiting(_ count: Int, on key: Int64, _ admin: PostgresConnection) async throws -> Int {
        var seen = 0
        for _ in 0..<12_000 {
            seen = try waiting(on: key, admin)
            if seen >= count { return seen }
            try await Task.sleep(for: .milliseconds(10))
        }
        return seen
    }

    @Test func blockingQueriesDoNotStallTheCooperativePool() async throws {
        // Sixteen statements block on a lock the test holds, on sixteen connections, and the test (a task
        // on the cooperative pool) watches them wait. Were libpq run on the cooperative pool (two threads
        // here), at most two could block at once and the watching task could not even run: sixteen
        // waiting at once shows each blocking call has a thread of its own. Decided by what the server
        // sees, not by how long anything took.
        let database = try TestDatabase.require()
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 16))
        let admin = try database.connect()
        defer { admin.close() }
        let key: Int64 = 4_242_001
        _ = try admin.query("SELECT pg_advisory_lock($1)", [key])
        let blocked = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask { try await pool.query("SELECT pg_advisory_xact_lock_shared($1)", [key]) }
                }
                try await group.waitForAll()
            }
        }
        #expect(try await Self.waitUntilWaiting(16, on: key, admin) == 16)
        _ = try admin.query("SELECT pg_advisory_unlock($1)", [key])
        try await blocked.value
        await pool.close()
    }

    @Test func acquireWaitsAtMostTheTimeout() async throws {
        let pool = try TestDatabase.require().makePool(
            PostgresPoolOptions(maxConnections: 1, acquireTimeout: .milliseconds(100))
        )
        // The only connection waits for a lock the test holds until the second caller has its answer:
        // that answer can only be the pool's timeout, however slow the machine.
        let database = try TestDatabase.require()
        let admin = try database.connect()
        defer { admin.close() }
        let key: Int64 = 4_242_002
        _ = try admin.query("SELECT pg_advisory_lock($1)", [key])
        let holder = Task { try await pool.query("SELECT pg_advisory_xact_lock_shared($1)", [key]) }
        #expect(try await Self.waitUntilWaiting(1, on: key, admin) == 1)
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .poolTimeout)
        #expect(try Self.waiting(on: key, admin) == 1, "the holder was still holding the connection")
        _ = try admin.query("SELECT pg_advisory_unlock($1)", [key])
        _ = try await holder.value
        // Once the holder is done, the connection serves again.
        #expect(try await pool.query("SELECT 7").scalar(Int.self) == 7)
        await pool.close()
    }

    @Test func killedBackendsAreDetectedAndReplacedBeforeUse() async throws {
        let database = try TestDatabase.require()
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 4))
        // Open four connections at once so the pool holds four idle ones: four statements wait on a lock
        // the test holds until all four are waiting (so none can reuse another's connection).
        let admin = try database.connect()
        defer { admin.close() }
        let key: Int64 = 4_242_003
        _ = try admin.query("SELECT pg_advisory_lock($1)", [key])
        let opening = Task {
            try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await pool.query("SELECT pg_backend_pid() FROM pg_advisory_xact_lock_shared($1)", [key])
                            .scalar(Int32.self)
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
        }
        #expect(try await Self.waitUntilWaiting(4, on: key, admin) == 4)
        _ = try admin.query("SELECT pg_advisory_unlock($1)", [key])
        let before = try await opening.value
        #expect(before.count == 4)
        try admin.execute(
            "SELECT pg_terminate_backend(pid::int) FROM unnest($1::int8[]) AS pid",
            [before.map(Int64.init)]
        )
        // pg_terminate_backend only signals; wait until the backends are really gone.
        for _ in 0..<12_000 {
            let alive = try admin.query(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int8[])",
                [before.map(Int64.init)]
            ).scalar(Int.self)
            if alive == 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        // No caller sees the dead connections: each is noticed at checkout and replaced.
        for _ in 0..<8 {
            let pid = try await pool.query("SELECT pg_backend_pid()").scalar(Int32.self)
            #expect(!before.contains(pid))
        }
        #expect(pool.statistics.discarded >= 1)
        await pool.close()
    }

    @Test func aConnectionLostMidStatementIsReplaced() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 1))
        let first = try await pool.query("SELECT pg_backend_pid()").scalar(Int32.self)
        let error = await #expect(throws: PostgresError.self) {
            try await pool.query("SELECT pg_terminate_backend(pg_backend_pid())")
        }
        #expect(error?.code == .connectionLost)
        let second = try await pool.query("SELECT pg_backend_pid()").scalar(Int32.self)
        #expect(second != first)
        await pool.close()
    }

    @Test func cancellingTheTaskCancelsTheStatement() async throws {
        let database = try TestDatabase.require()
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 1))
        let marker = "cancel-me-\(UInt32.random(in: 0...UInt32.max))"
        // The marker in a comment makes the statement's text unique in pg_stat_activity.
        let sleeper = Task { try await pool.query("SELECT pg_sleep(30) /* " + marker + " */", []) }
        // Cancel only once the server is really running it.
        let admin = try database.connect()
        defer { admin.close() }
        try await waitUntilRunning(marker, admin)
        sleeper.cancel()
        let error = await #expect(throws: PostgresError.self) { try await sleeper.value }
        // pg_sleep(30) ending by itself would not throw: the error is the cancel's.
        #expect(error?.code == .queryCanceled)
        // The connection went back to the pool in working order.
        #expect(try await pool.query("SELECT 1").scalar(Int.self) == 1)
        await pool.close()
    }

    @Test func aCancelledTransactionIsRolledBackAndItsConnectionKept() async throws {
        let database = try TestDatabase.require()
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 1))
        try await pool.query("CREATE TABLE IF NOT EXISTS cancelled_writes (marker text)")
        let marker = "tx-\(UInt32.random(in: 0...UInt32.max))"
        let writer = Task {
            try await pool.transaction { tx in
                try tx.execute("INSERT INTO cancelled_writes VALUES ($1)", [marker])
                try tx.execute("SELECT pg_sleep(30) /* " + marker + " */", [])
            }
        }
        let admin = try database.connect()
        defer { admin.close() }
        try await waitUntilRunning(marker, admin)
        writer.cancel()
        await #expect(throws: (any Error).self) { try await writer.value }
        let written = try await pool.query("SELECT count(*) FROM cancelled_writes WHERE marker = $1", [marker])
        #expect(try written.scalar(Int.self) == 0)
        #expect(pool.statistics.discarded == 0)
        await pool.close()
    }

    @Test func aTaskCancelledBeforeItsTurnRunsNothing() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 1))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.query("SELECT 1")
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await pool.query("SELECT 2").scalar(Int.self) == 2)
        await pool.close()
    }

    @Test func poolTransactionRetriesDeadlockVictims() async throws {
        let database = try TestDatabase.require()
        let setup = try database.connect()
        try setup.executeScript(
            "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counters VALUES (1, 0), (2, 0);"
        )
        setup.close()
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 6, acquireTimeout: .seconds(120)))
        // Six transactions update the same two rows in opposite orders; retries make every one count.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<6 {
                group.addTask {
                    let order = index.isMultiple(of: 2) ? [1, 2] : [2, 1]
                    try await pool.transaction(retry: RetryPolicy(maxAttempts: 200)) { tx in
                        for id in order {
                            try tx.execute("UPDATE counters SET n = n + 1 WHERE id = $1", [id])
                            _ = try tx.query("SELECT pg_sleep(0.01)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = try await pool.query("SELECT sum(n) FROM counters").scalar(Int.self)
        #expect(total == 12)
        await pool.close()
    }

    @Test func closedPoolRefusesWork() async throws {
        let pool = try TestDatabase.require().makePool()
        _ = try await pool.query("SELECT 1")
        await pool.close()
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .poolClosed)
    }
}

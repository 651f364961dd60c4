import Foundation
import LibPQ
import OrderlyStore
import OrderlyTestSupport
import Testing

@Suite
struct MigratorTests {
    /// Runs `body` against a fresh, empty database of its own, dropped afterwards.
    func withFreshDatabase(_ label: String, _ body: (TestDatabase) async throws -> Void) async throws {
        let database = try await TestDatabase.create(label: label, migrated: false)
        defer { try? database.drop() }
        try await body(database)
    }

    let first = Migration(version: 1, name: "first", sql: "CREATE TABLE a (id int PRIMARY KEY);")
    let second = Migration(
        version: 2,
        name: "second",
        sql: "CREATE TABLE b (id int PRIMARY KEY); INSERT INTO a VALUES (1);"
    )

    @Test func embeddedMigrationsAreExactlyTheFilesInSQLFolder() throws {
        let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "sql/migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        #expect(!files.isEmpty)
        #expect(Migration.all.map { $0.fileStem + ".sql" } == files)
        for migration in Migration.all {
            let onDisk = try String(contentsOf: folder.appending(path: migration.fileStem + ".sql"), encoding: .utf8)
            #expect(migration.sql == onDisk, "\(migration.fileStem) differs from its file")
        }
    }

    @Test func appliesEverythingOnceAndIsIdempotent() async throws {
        try await withFreshDatabase("idempotent") { database in
            let connection = try database.connect()
            defer { connection.close() }
            let migrator = Migrator()
            let firstRun = try migrator.migrate(on: connection)
            #expect(firstRun.applied == Migration.all.map(\.version))
            let secondRun = try migrator.migrate(on: connection)
            #expect(secondRun.applied.isEmpty)
            #expect(secondRun.alreadyApplied == Migration.all.map(\.version))
            #expect(try migrator.status(on: connection).pending.isEmpty)
            let recorded = try connection.query("SELECT count(*) FROM orderly_schema_migrations").scalar(Int.self)
            #expect(recorded == Migration.all.count)
        }
    }

    @Test func statusOfAnEmptyDatabaseListsEverythingPendingAndChangesNothing() async throws {
        try await withFreshDatabase("status") { database in
            let connection = try database.connect()
            defer { connection.close() }
            let report = try Migrator(migrations: [first, second]).status(on: connection)
            #expect(report.pending == [1, 2])
            let exists = try connection.query("SELECT to_regclass('orderly_schema_migrations') IS NOT NULL").scalar(
                Bool.self
            )
            #expect(!exists)
        }
    }

    @Test func aChangedAppliedMigrationIsRefused() async throws {
        try await withFreshDatabase("checksum") { database in
            let connection = try database.connect()
            defer { connection.close() }
            try Migrator(migrations: [first]).migrate(on: connection)
            var edited = first
            edited.sql += "\n-- an innocent-looking edit"
            #expect(throws: MigrationError.checksumMismatch(["0001_first"])) {
                try Migrator(migrations: [edited, second]).migrate(on: connection)
            }
            // Nothing after the refusal ran.
            #expect(try connection.query("SELECT to_regclass('b') IS NULL").scalar(Bool.self))
        }
    }

    @Test func aDatabaseAheadOfTheBinaryIsRefused() async throws {
        try await withFreshDatabase("ahead") { database in
            let connection = try database.connect()
            defer { connection.close() }
            try Migrator(migrations: [first, second]).migrate(on: connection)
            #expect(throws: MigrationError.unknownApplied(["0002_second"])) {
                try Migrator(migrations: [first]).migrate(on: connection)
            }
        }
    }

    @Test func aDatabaseAheadByAdditiveMigrationsKeepsAnOlderBinaryWorking() async throws {
        try await withFreshDatabase("ahead_additive") { database in
            let connection = try database.connect()
            defer { connection.close() }
            let additive = Migration(
                version: 2,
                name: "second",
                sql: "-- A table older binaries never read.\n\(Migration.additiveMarker)\nCREATE TABLE b (id int);"
            )
            #expect(additive.isAdditive && !second.isAdditive)
            try Migrator(migrations: [first, additive]).migrate(on: connection)
            let older = Migrator(migrations: [first])
            let status = try older.status(on: connection)
            #expect(status.pending.isEmpty)
            #expect(status.ahead == ["0002_second"])
            let report = try older.migrate(on: connection)
            #expect(report.applied.isEmpty && report.ahead == ["0002_second"])
        }
    }

    @Test func aPendingMigrationOlderThanOnesTheBinaryDoesNotKnowIsNotApplied() async throws {
        try await withFreshDatabase("out_of_order") { database in
            let connection = try database.connect()
            defer { connection.close() }
            let third = Migration(
                version: 3,
                name: "third",
                sql: "\(Migration.additiveMarker)\nCREATE TABLE c (id int);"
            )
            try Migrator(migrations: [first, third]).migrate(on: connection)
            #expect(throws: MigrationError.outOfOrder(pending: "0002_second", ahead: ["0003_third"])) {
                try Migrator(migrations: [first, second]).migrate(on: connection)
            }
            #expect(try connection.query("SELECT to_regclass('b') IS NULL").scalar(Bool.self))
        }
    }

    @Test func aMigrationsTableFromBeforeTheAdditiveColumnIsReadAndUpgraded() async throws {
        try await withFreshDatabase("old_table") { database in
            let connection = try database.connect()
            defer { connection.close() }
            try connection.executeScript(
                """
                CREATE TABLE orderly_schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL);
                CREATE TABLE a (id int PRIMARY KEY);
                INSERT INTO orderly_schema_migrations (version, name, checksum, duration_ms)
                VALUES (1, 'first', encode(sha256(convert_to('CREATE TABLE a (id int PRIMARY KEY);', 'UTF8')), 'hex'), 0),
                       (2, 'second', 'unknown to this binary', 0);
                """
            )
            // Without the column, an unknown migration counts as not additive.
            #expect(throws: MigrationError.unknownApplied(["0002_second"])) {
                try Migrator(migrations: [first]).status(on: connection)
            }
            try connection.executeScript("DELETE FROM orderly_schema_migrations WHERE version = 2")
            #expect(try Migrator(migrations: [first, second]).status(on: connection).pending == [2])
            try Migrator(migrations: [first, second]).migrate(on: connection)
            let recorded = try connection.query(
                "SELECT string_agg(version || ':' || additive, ',' ORDER BY version) FROM orderly_schema_migrations"
            ).scalar(String.self)
            #expect(recorded == "1:false,2:false")
        }
    }

    @Test func aFailingMigrationLeavesNoTrace() async throws {
        try await withFreshDatabase("failing") { database in
            let connection = try database.connect()
            defer { connection.close() }
            let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE half (id int); SELECT 1/0;")
            let error = #expect(throws: PostgresError.self) {
                try Migrator(migrations: [first, broken]).migrate(on: connection)
            }
            #expect(error?.sqlState == "22012")
            let versions = try connection.query("SELECT version FROM orderly_schema_migrations ORDER BY 1").map {
                try $0.decode(Int.self, at: 0)
            }
            #expect(versions == [1])
            #expect(try connection.query("SELECT to_regclass('half') IS NULL").scalar(Bool.self))
            // The lock was released: another migrator is not blocked.
            let other = try database.connect()
            defer { other.close() }
            #expect(try other.query("SELECT pg_try_advisory_lock($1)", [Migrator.lockKey]).scalar(Bool.self))
        }
    }

    @Test func eightConcurrentMigratorsApplyEachMigrationExactlyOnce() async throws {
        try await withFreshDatabase("concurrent") { database in
            let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await onThread {
                            let connection = try database.connect()
                            defer { connection.close() }
                            return try Migrator().migrate(on: connection)
                        }
                    }
                }
                return try await group.reduce(into: [Migrator.Report]()) { $0.append($1) }
            }
            #expect(reports.count == 8)
            #expect(reports.filter { !$0.applied.isEmpty }.count == 1)
            #expect(reports.flatMap(\.applied).sorted() == Migration.all.map(\.version))
            let connection = try database.connect()
            defer { connection.close() }
            let rows = try connection.query("SELECT count(*), count(DISTINCT version) FROM orderly_schema_migrations")[
                0
            ]
            #expect(try rows.decode(Int.self, at: 0) == Migration.all.count)
            #expect(try rows.decode(Int.self, at: 1) == Migration.all.count)
        }
    }
}

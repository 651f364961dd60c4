import ArgumentParser
import LibPQ
import OrderlyCommands
import OrderlyStore
import OrderlyTestSupport
import Testing

@Suite
struct MigrateCommandTests {
    func run(_ arguments: [String]) async throws { try await runOrderly(arguments) }

    @Test func migrateThenStatusAgainstADatabaseURL() async throws {
        let database = try await TestDatabase.create(label: "cli_migrate", migrated: false)
        defer { try? database.drop() }
        // --status on an unmigrated database reports pending migrations with exit code 1.
        await #expect(throws: ExitCode(1)) {
            try await run(["migrate", "--status", "--database-url", database.conninfo])
        }
        try await run(["migrate", "--database-url", database.conninfo])
        try await run(["migrate", "--status", "--database-url", database.conninfo])
        let connection = try database.connect()
        defer { connection.close() }
        let applied = try connection.query("SELECT count(*) FROM orderly_schema_migrations").scalar(Int.self)
        #expect(applied == Migration.all.count)
    }

    /// A rolling upgrade: a newer binary applied an additive migration; this one still opens the
    /// database (serve, worker, check) and migrate is a no-op. Not additive, it refuses and says which.
    @Test func aBinaryBehindByAnAdditiveMigrationKeepsRunning() async throws {
        let database = try await TestDatabase.create(label: "cli_rolling", migrated: true)
        defer { try? database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try connection.executeScript(
            """
            INSERT INTO orderly_schema_migrations (version, name, checksum, duration_ms, additive)
            VALUES (9999, 'from_a_newer_binary', 'x', 0, true)
            """
        )
        try await run(["check", "--database-url", database.conninfo])
        try await run(["migrate", "--database-url", database.conninfo])
        try await run(["migrate", "--status", "--database-url", database.conninfo])
        try connection.executeScript("UPDATE orderly_schema_migrations SET additive = false WHERE version = 9999")
        await #expect(throws: MigrationError.unknownApplied(["9999_from_a_newer_binary"])) {
            try await run(["check", "--database-url", database.conninfo])
        }
        await #expect(throws: MigrationError.unknownApplied(["9999_from_a_newer_binary"])) {
            try await run(["migrate", "--database-url", database.conninfo])
        }
    }

    @Test func anUnreachableDatabaseIsAClearError() async throws {
        let error = await #expect(throws: PostgresError.self) {
            try await run(["migrate", "--database-url", "postgresql://nobody:pw@127.0.0.1:1/none?connect_timeout=2"])
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.message.contains("pw@") == false)
    }

    @Test func unknownSubcommandsAndFlagsAreRejected() {
        #expect(throws: (any Error).self) { try OrderlyCommand.parseAsRoot(["migrat"]) }
        #expect(throws: (any Error).self) { try OrderlyCommand.parseAsRoot(["migrate", "--no-such-flag"]) }
        #expect(throws: (any Error).self) { try OrderlyCommand.parseAsRoot(["dev", "destroy"]) }
    }
}

@Suite
struct CheckCommandTests {
    @Test func checkExitsZeroWhenCleanAndOneWhenBroken() async throws {
        let database = try await TestDatabase.create(label: "cli_check", migrated: true)
        defer { try? database.drop() }
        var clean = try OrderlyCommand.parseAsRoot(["check", "--database-url", database.conninfo])
        if var command = clean as? any AsyncParsableCommand {
            try await command.run()
        } else {
            try clean.run()
        }
        let connection = try database.connect()
        defer { connection.close() }
        try connection.execute(
            """
            INSERT INTO orders (channel, external_id, currency, ship_name, ship_line1, ship_city, ship_country)
            VALUES ('web', 'no-events', 'EUR', 'Ada', 'Street 1', 'Berlin', 'DE')
            """
        )
        let broken = try OrderlyCommand.parseAsRoot(["check", "--database-url", database.conninfo])
        await #expect(throws: ExitCode(1)) {
            guard var command = broken as? any AsyncParsableCommand else { return }
            try await command.run()
        }
    }
}

import ArgumentParser
import LibPQ
import OrderlyCommands
import OrderlyStore
import OrderlyTestSupport
import Testing

@Suite
struct MigrateCommandTests {
    func run(_ arguments: [String]) async throws {
        var command = try OrderlyCommand.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }

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

public import ArgumentParser

/// `orderly`: the one executable. Each process of the design is a subcommand; the executable adds
/// `bench` (OrderlyBenchmarks, the one target besides the store that writes SQL of its own).
public struct OrderlyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "orderly",
        abstract: "A multi-warehouse order management backend on PostgreSQL.",
        discussion: """
            With no database configured (no --database-url, DATABASE_URL or PG* variables), Orderly \
            starts and uses a private PostgreSQL cluster under .orderly/ in the current directory.

            Example:
              orderly migrate
              orderly dev psql
            """,
        version: OrderlyVersion.current,
        subcommands: [
            MigrateCommand.self, ServeCommand.self, AdminCommand.self, AdminUserCommand.self, CheckCommand.self,
            DevCommand.self, WorkerCommand.self, SeedCommand.self, DemoCommand.self, ReportCommand.self,
        ]
    )

    public init() {}
}

/// The version `orderly --version` prints.
public enum OrderlyVersion {
    public static let current = "0.1.0-dev"
}

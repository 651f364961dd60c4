public import ArgumentParser

/// `orderly`: the one executable. Each process of the design is a subcommand; the executable adds
/// `bench` (OrderlyBenchmarks, the one target besides the store that writes SQL of its own).
public struct OrderlyCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "orderly",
        abstract: "A multi-warehouse order management backend on PostgreSQL.",
        discussion: """
            Every option falls back to an environment variable: --max-clients to ORDERLY_MAX_CLIENTS, \
            --database-url to ORDERLY_DATABASE_URL (then DATABASE_URL and libpq's PG* variables). \
            With no database configured, serve, worker, migrate, check and admin-user say so and exit; \
            --dev (or orderly dev ...) uses a private PostgreSQL cluster under .orderly/ in the current \
            directory, as demo, seed, report and bench do by themselves.

            Example:
              orderly demo
              orderly migrate --dev
              orderly dev psql
            """,
        version: OrderlyVersion.current,
        subcommands: [
            MigrateCommand.self, ServeCommand.self, AdminCommand.self, AdminUserCommand.self, CheckCommand.self,
            DevCommand.self, WorkerCommand.self, SeedCommand.self, DemoCommand.self, ReportCommand.self,
            ProbeCommand.self, ImportCommand.self, ChannelCommand.self,
        ]
    )

    public init() {}
}

/// The version `orderly --version` prints.
public enum OrderlyVersion {
    public static let current = "0.1.0-dev"
}

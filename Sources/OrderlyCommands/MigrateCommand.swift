import ArgumentParser
import LibPQ
import OrderlyStore

/// `orderly migrate`: applies pending migrations; `--status` only reports.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (safe to run from many hosts at once).",
        discussion: """
            Each migration runs in its own transaction under an advisory lock, and its version and \
            checksum are recorded. An applied migration whose file changed since is refused.

            Example:
              orderly migrate --database-url postgresql://orderly@db/orderly
              orderly migrate --status
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Only report applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let logger = CommandLogging.logger("orderly.migrate")
        let (configuration, source) = try database.resolve(logger: logger)
        if case .privateCluster(let info) = source {
            print("using the private PostgreSQL cluster: \(info.url)")
        }
        let connection = try PostgresConnection(configuration: configuration, logger: logger)
        defer { connection.close() }
        let migrator = Migrator(logger: logger)
        if status {
            let report = try migrator.status(on: connection)
            for migration in migrator.migrations {
                let state = report.pending.contains(migration.version) ? "pending" : "applied"
                print("\(migration.fileStem)  \(state)")
            }
            if !report.pending.isEmpty { throw ExitCode(1) }
            return
        }
        let report = try migrator.migrate(on: connection)
        if report.applied.isEmpty {
            print("schema is current (\(report.alreadyApplied.count) migrations applied)")
        } else {
            for version in report.applied {
                let name = migrator.migrations.first { $0.version == version }?.fileStem ?? String(version)
                print("applied \(name)")
            }
        }
    }
}

import ArgumentParser
import Foundation
import LibPQ
import Logging
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
              orderly migrate --wait-seconds 60   # in a container started beside its database
            """
    )

    @Option(help: "Keep trying to connect for this many seconds while the database is not up yet (0: once).")
    var waitSeconds = 0

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Only report applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let logger = CommandLogging.logger("orderly.migrate")
        let (configuration, source) = try database.resolve(logger: logger)
        if case .privateCluster(let info) = source {
            print("using the private PostgreSQL cluster: \(info.url)")
        }
        let connection = try Self.connect(configuration, waitingUpTo: waitSeconds, logger: logger)
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

    /// A connection, retried once a second while the server refuses or is starting up, for up to
    /// `seconds`: a container's database can pass its health check before it accepts connections.
    static func connect(
        _ configuration: PostgresConfiguration,
        waitingUpTo seconds: Int,
        logger: Logger
    ) throws
        -> PostgresConnection
    {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var said = false
        while true {
            do {
                return try PostgresConnection(configuration: configuration, logger: logger)
            } catch let error as PostgresError where error.code == .connectionFailed && ContinuousClock.now < deadline {
                if !said {
                    print("waiting for PostgreSQL (up to \(seconds) s): \(error.message)")
                    said = true
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }
}

import ArgumentParser
import Foundation
import Logging
import Orderly
import OrderlyDevCluster

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

    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Only report applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let logger = logging.logger("orderly.migrate")
        let (url, source) = try database.resolve(logger: logger)
        if case .privateCluster(let info) = source {
            print("using the private PostgreSQL cluster: \(info.displayURL)")
        }
        let schema = Schema(url: url, creating: database.schema, logger: logger)
        let seconds = waitSeconds
        let waiting: (String) -> Void = { print("waiting for PostgreSQL (up to \(seconds) s): \($0)") }
        if status {
            let entries = try schema.status(waitingUpTo: seconds, onWaiting: waiting)
            for entry in entries {
                print(
                    "\(entry.name)  \(entry.ahead ? "applied, newer than this binary (additive)" : entry.applied ? "applied" : "pending")"
                )
            }
            if entries.contains(where: { !$0.applied }) { throw ExitCode(1) }
            return
        }
        let report = try schema.migrate(waitingUpTo: seconds, onWaiting: waiting)
        if !report.ahead.isEmpty {
            print(
                "the database is ahead of this binary by additive migrations (\(report.ahead.joined(separator: ", "))); it keeps working"
            )
        }
        if report.applied.isEmpty {
            print("schema is current (\(report.alreadyApplied) migrations applied)")
        } else {
            for name in report.applied { print("applied \(name)") }
        }
    }
}

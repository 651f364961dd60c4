import ArgumentParser
import Foundation
package import Logging
import Orderly
package import OrderlyDevCluster

/// Where the database is: the options every command that talks to PostgreSQL shares.
package struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "A postgresql:// URL or libpq conninfo. Default: $DATABASE_URL, then libpq's PG* variables, "
                + "then the private cluster under .orderly/.",
            valueName: "url"
        )
    )
    var databaseURL: String?

    package init() {}

    /// libpq environment variables that, when set, mean "a database is configured".
    static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE", "PGUSER"]

    package enum Source: Equatable {
        case explicit
        case libpqEnvironment
        case privateCluster(LocalCluster.Info)
    }

    /// Decides which database to use, starting the private cluster when nothing else is configured.
    /// The URL is a postgresql:// URL or libpq conninfo; empty means libpq's PG* variables.
    package func resolve(logger: Logger) throws -> (url: String, source: Source) {
        let environment = ProcessInfo.processInfo.environment
        if let url = databaseURL ?? environment["DATABASE_URL"], !url.isEmpty {
            return (url, .explicit)
        }
        if Self.libpqVariables.contains(where: { environment[$0] != nil }) {
            return ("", .libpqEnvironment)
        }
        let info = try LocalCluster.forCurrentDirectory(logger: logger).start()
        return (info.conninfo, .privateCluster(info))
    }
}

/// Logging for the executable: swift-log to stderr at the level `ORDERLY_LOG_LEVEL` names (default info).
package enum CommandLogging {
    package static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        let level = ProcessInfo.processInfo.environment["ORDERLY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .info
        return logger
    }
}

/// A channel whose stored routing names a strategy this process has not registered cannot have its
/// orders routed here: said once at start-up, as a warning (another process may run it).
func warnAboutUnroutableChannels(
    database: OrderlyDatabase,
    components: OrderlyComponents,
    logger: Logger
) async throws {
    let service = ChannelService(database: database, actor: "startup", components: components)
    for (channel, error) in try await service.unroutable() {
        logger.warning(
            "a channel's routing is unknown to this process",
            metadata: ["channel": "\(channel)", "error": "\(error)"]
        )
    }
}

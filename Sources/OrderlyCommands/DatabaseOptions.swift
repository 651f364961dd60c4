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
            "A postgresql:// URL or libpq conninfo. Default: $ORDERLY_DATABASE_URL, $DATABASE_URL, then "
                + "libpq's PG* variables.",
            valueName: "url"
        )
    )
    var databaseURL: String?

    @Flag(help: "With no database configured, use (and start) the private cluster under .orderly/.")
    var dev = false

    @Option(
        help: ArgumentHelp(
            "Keep Orderly's tables in this PostgreSQL schema (migrate creates it), beside an application's "
                + "own. Default: the connection's search_path (normally public).",
            valueName: "name"
        )
    )
    var schema: String?

    package func validate() throws {
        if let schema, !Schema.isValidName(schema) {
            throw ValidationError(SchemaNameInvalid(name: schema).description)
        }
    }

    package init() {}

    /// libpq environment variables that, when set, mean "a database is configured".
    static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE", "PGUSER"]

    package enum Source: Equatable {
        case explicit
        case libpqEnvironment
        case privateCluster(LocalCluster.Info)
    }

    /// When nothing names a database: the processes of a deployment (serve, worker, migrate, check,
    /// admin-user) refuse unless `--dev` asks for the private cluster; the tools for trying Orderly
    /// out (demo, seed, report, bench) use it.
    package enum Fallback: Sendable {
        case privateClusterOnRequest
        case privateCluster
    }

    /// Which database, from the flags and `environment`; nil when none is configured.
    package func configured(environment: [String: String]) -> (url: String, source: Source)? {
        if let url = databaseURL ?? environment["DATABASE_URL"], !url.isEmpty {
            return (url, .explicit)
        }
        if Self.libpqVariables.contains(where: { environment[$0] != nil }) {
            return ("", .libpqEnvironment)
        }
        return nil
    }

    /// Decides which database to use, starting the private cluster when nothing else is configured
    /// and `fallback` (or `--dev`) allows it. The URL is a postgresql:// URL or libpq conninfo; empty
    /// means libpq's PG* variables.
    package func resolve(
        logger: Logger,
        fallback: Fallback = .privateClusterOnRequest,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (url: String, source: Source) {
        var resolved: (url: String, source: Source)
        if let configured = configured(environment: environment) {
            resolved = configured
        } else {
            guard dev || fallback == .privateCluster else { throw NoDatabaseConfigured() }
            let info = try LocalCluster.forCurrentDirectory(logger: logger).start()
            resolved = (info.conninfo, .privateCluster(info))
        }
        if let schema { resolved.url = try Schema.scoped(resolved.url, to: schema) }
        return resolved
    }
}

/// A deployment's process asked to run with no database named.
package struct NoDatabaseConfigured: Error, CustomStringConvertible {
    package var description: String {
        "no database configured: give --database-url (or ORDERLY_DATABASE_URL, DATABASE_URL, or libpq's "
            + "PG* variables), or --dev to use the private cluster under .orderly/"
    }
}

/// Logging for the executable: swift-log to stderr at the level `ORDERLY_LOG_LEVEL` names (default info).
/// The format is `format`, else `ORDERLY_LOG_FORMAT` (`text` or `json`), else text; the level is
/// `level`, else `ORDERLY_LOG_LEVEL`, else info. An environment value neither names is said once, as a
/// warning, and the default used.
package enum CommandLogging {
    package static func logger(_ label: String, format: LogFormat? = nil, level: Logger.Level? = nil) -> Logger {
        let environment = ProcessInfo.processInfo.environment
        let namedFormat = environment["ORDERLY_LOG_FORMAT"]
        let namedLevel = environment["ORDERLY_LOG_LEVEL"]
        var logger =
            (format ?? namedFormat.flatMap(LogFormat.init(rawValue:))) == .json
            ? Logger(label: label) { JSONLogHandler(label: $0, metadataProvider: LogContext.metadataProvider) }
            : Logger(label: label, metadataProvider: LogContext.metadataProvider)
        logger.logLevel = level ?? namedLevel.flatMap(Logger.Level.init(rawValue:)) ?? .info
        if format == nil, let namedFormat, LogFormat(rawValue: namedFormat) == nil {
            logger.warning(
                "ORDERLY_LOG_FORMAT must be text or json; writing text",
                metadata: ["value": "\(namedFormat)"]
            )
        }
        if level == nil, let namedLevel, Logger.Level(rawValue: namedLevel) == nil {
            logger.warning("ORDERLY_LOG_LEVEL is not a level; logging at info", metadata: ["value": "\(namedLevel)"])
        }
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

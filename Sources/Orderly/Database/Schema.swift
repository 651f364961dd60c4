import Foundation
import LibPQ
public import Logging
import OrderlyStore

/// Orderly's schema on a database: the migrations this binary embeds (from sql/migrations), applied
/// in order under an advisory lock, each in its own transaction, its checksum recorded.
public struct Schema: Sendable {
    let configuration: PostgresConfiguration
    let creating: String?
    let logger: Logger

    /// The schema of the database at `url` (a postgresql:// URL or libpq conninfo; empty: libpq's
    /// PG* variables). `creating`: a PostgreSQL schema that `migrate` creates when it is missing (the
    /// one `url` names in its search_path, `scoped(_:to:)`).
    public init(url: String, creating: String? = nil, logger: Logger) {
        self.configuration = PostgresConfiguration(conninfo: url)
        self.creating = creating
        self.logger = logger
    }

    /// A name Orderly accepts for the PostgreSQL schema of its tables: a lowercase identifier that
    /// needs no quoting (`orderly`, `oms_2`), not one of PostgreSQL's own.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLowercase || first == "_", name.count <= 63 else {
            return false
        }
        guard !name.hasPrefix("pg_"), name != "information_schema", name != "analytics" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    /// `url` with every session's search_path set to `schema` alone (libpq's `options`), so
    /// Orderly's tables live there and an application's own `orders` in `public` is never touched.
    /// The result is a keyword=value conninfo; the URL's other settings are kept.
    public static func scoped(_ url: String, to schema: String) throws -> String {
        guard isValidName(schema) else {
            throw SchemaNameInvalid(name: schema)
        }
        let keywords = try PostgresConfiguration(conninfo: url).keywordConninfo()
        guard !keywords.contains("options='") else {
            throw SchemaNameInvalid(
                name: schema,
                reason: "the database URL sets options already; add -c search_path=\(schema) to them instead"
            )
        }
        return (keywords.isEmpty ? "" : keywords + " ") + "options='-c search_path=\(schema)'"
    }

    /// One migration and whether the database has it.
    public struct Entry: Sendable, Hashable {
        /// Its file's stem, `0001_foundation`.
        public var name: String
        public var applied: Bool
        /// Applied, additive, and newer than this binary (it does not know the file).
        public var ahead = false
    }

    /// Every migration this binary knows, applied or pending, then the additive ones the database has
    /// that it does not know.
    public func status(waitingUpTo seconds: Int = 0, onWaiting: (String) -> Void = { _ in }) throws -> [Entry] {
        let connection = try connect(waitingUpTo: seconds, onWaiting: onWaiting)
        defer { connection.close() }
        let migrator = Migrator(logger: logger)
        let report = try migrator.status(on: connection)
        let pending = Set(report.pending)
        return migrator.migrations.map { Entry(name: $0.fileStem, applied: !pending.contains($0.version)) }
            + report.ahead.map { Entry(name: $0, applied: true, ahead: true) }
    }

    /// Applies the pending migrations (safe from many hosts at once). Returns the names of those it
    /// applied, how many were applied before, and the additive migrations the database has that this
    /// binary does not know (it is ahead: a newer binary migrated it).
    public func migrate(
        waitingUpTo seconds: Int = 0,
        onWaiting: (String) -> Void = { _ in }
    ) throws -> (applied: [String], alreadyApplied: Int, ahead: [String]) {
        let connection = try connect(waitingUpTo: seconds, onWaiting: onWaiting)
        defer { connection.close() }
        if let creating {
            guard Self.isValidName(creating) else { throw SchemaNameInvalid(name: creating) }
            try connection.executeScript("CREATE SCHEMA IF NOT EXISTS \(creating)")
        }
        let migrator = Migrator(logger: logger)
        let report = try migrator.migrate(on: connection)
        let names = report.applied.map { version in
            migrator.migrations.first { $0.version == version }?.fileStem ?? String(version)
        }
        return (names, report.alreadyApplied.count, report.ahead)
    }

    /// A connection, retried once a second while the server refuses or is starting up, for up to
    /// `seconds`: a container's database can pass its health check before it accepts connections.
    /// `onWaiting` hears the first refusal.
    func connect(waitingUpTo seconds: Int, onWaiting: (String) -> Void) throws -> PostgresConnection {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var said = false
        while true {
            do {
                return try PostgresConnection(configuration: configuration, logger: logger)
            } catch let error as PostgresError where error.code == .connectionFailed && ContinuousClock.now < deadline {
                if !said {
                    onWaiting(error.message)
                    said = true
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }
}

/// `--schema` named something Orderly does not put its tables in.
public struct SchemaNameInvalid: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var reason =
        "a schema name is lowercase letters, digits and _, starting with a letter or _, at most 63 characters, and not pg_*, information_schema or analytics"

    public init(name: String) { self.name = name }

    init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    public var description: String { "--schema \(name): \(reason)" }
}

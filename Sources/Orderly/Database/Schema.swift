import Foundation
import LibPQ
public import Logging
import OrderlyStore

/// Orderly's schema on a database: the migrations this binary embeds (from sql/migrations), applied
/// in order under an advisory lock, each in its own transaction, its checksum recorded.
public struct Schema: Sendable {
    let configuration: PostgresConfiguration
    let logger: Logger

    /// The schema of the database at `url` (a postgresql:// URL or libpq conninfo; empty: libpq's
    /// PG* variables).
    public init(url: String, logger: Logger) {
        self.configuration = PostgresConfiguration(conninfo: url)
        self.logger = logger
    }

    /// One migration and whether the database has it.
    public struct Entry: Sendable, Hashable {
        /// Its file's stem, `0001_foundation`.
        public var name: String
        public var applied: Bool
    }

    /// Every migration this binary knows, applied or pending.
    public func status(waitingUpTo seconds: Int = 0, onWaiting: (String) -> Void = { _ in }) throws -> [Entry] {
        let connection = try connect(waitingUpTo: seconds, onWaiting: onWaiting)
        defer { connection.close() }
        let migrator = Migrator(logger: logger)
        let pending = Set(try migrator.status(on: connection).pending)
        return migrator.migrations.map { Entry(name: $0.fileStem, applied: !pending.contains($0.version)) }
    }

    /// Applies the pending migrations (safe from many hosts at once). Returns the names of those it
    /// applied and how many were applied before.
    public func migrate(
        waitingUpTo seconds: Int = 0,
        onWaiting: (String) -> Void = { _ in }
    ) throws -> (applied: [String], alreadyApplied: Int) {
        let connection = try connect(waitingUpTo: seconds, onWaiting: onWaiting)
        defer { connection.close() }
        let migrator = Migrator(logger: logger)
        let report = try migrator.migrate(on: connection)
        let names = report.applied.map { version in
            migrator.migrations.first { $0.version == version }?.fileStem ?? String(version)
        }
        return (names, report.alreadyApplied.count)
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

public import LibPQ
public import Logging

/// Applies migrations in order, each in its own transaction, and records version and checksum.
///
/// Safe to run from many hosts at once: everything happens under a session advisory lock, so the
/// first migrator applies what is pending and the others then find nothing to do. An applied migration
/// whose file has changed since (checksum mismatch) stops everything: schema history is append-only.
public struct Migrator: Sendable {
    /// The key of the advisory lock all migrators take (ASCII "ORDERMIG").
    public static let lockKey: Int64 = 0x4F52_4445_524D_4947

    public let migrations: [Migration]
    let logger: Logger

    public init(migrations: [Migration] = Migration.all, logger: Logger = Logger(label: "orderly.migrate")) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// What `migrate` did, or what `status` found.
    public struct Report: Sendable, Equatable {
        /// Versions applied by this call.
        public var applied: [Int]
        /// Versions already applied before.
        public var alreadyApplied: [Int]
        /// Versions this binary knows but the database has not applied (for `status`).
        public var pending: [Int]
        /// Applied migrations this binary does not know, all additive (`Migration.isAdditive`): the
        /// database is ahead of it, and it keeps working (a rolling upgrade's older processes).
        public var ahead: [String] = []
    }

    /// Applies every pending migration. Throws `MigrationError` on a checksum mismatch, when the
    /// database has migrations this binary does not know that are not additive (it is too old for the
    /// schema), or when it has both pending migrations and newer ones it does not know.
    @discardableResult
    public func migrate(on connection: PostgresConnection) throws -> Report {
        try connection.run(.command("SELECT pg_advisory_lock(\(Self.lockKey))"))
        defer {
            do {
                try connection.run(.command("SELECT pg_advisory_unlock(\(Self.lockKey))"))
            } catch {
                // The lock is session-level: closing the connection releases it anyway.
                logger.warning("could not release the migration lock", metadata: ["error": "\(error)"])
            }
        }
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS orderly_schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                duration_ms integer NOT NULL
            )
            """
        )
        // Whether older binaries may run against each migration (added after the table was first
        // made; a lookup first, so a current table takes no lock).
        try connection.executeScript(
            """
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_attribute
                               WHERE attrelid = 'orderly_schema_migrations'::regclass AND attname = 'additive') THEN
                    ALTER TABLE orderly_schema_migrations ADD COLUMN additive boolean NOT NULL DEFAULT false;
                END IF;
            END
            $$
            """
        )
        let (applied, ahead) = try verify(on: connection)
        var report = Report(applied: [], alreadyApplied: applied.sorted(), pending: [], ahead: ahead)
        let pending = migrations.filter { !applied.contains($0.version) }
        if !ahead.isEmpty, let first = pending.first {
            throw MigrationError.outOfOrder(pending: first.fileStem, ahead: ahead)
        }
        for migration in pending {
            let started = ContinuousClock.now
            try connection.transaction { connection in
                try connection.executeScript(migration.sql)
                let elapsed = Int((ContinuousClock.now - started).components.seconds * 1000)
                try connection.run(
                    .command(
                        """
                        INSERT INTO orderly_schema_migrations (version, name, checksum, duration_ms, additive)
                        VALUES (\(migration.version), \(migration.name),
                                encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex'), \(elapsed),
                                \(migration.isAdditive))
                        """
                    )
                )
            }
            logger.info(
                "applied migration",
                metadata: ["version": "\(migration.version)", "name": "\(migration.name)"]
            )
            report.applied.append(migration.version)
        }
        return report
    }

    /// Reports applied and pending versions without changing anything (checksums are verified too).
    public func status(on connection: PostgresConnection) throws -> Report {
        let exists = try connection.query("SELECT to_regclass('orderly_schema_migrations') IS NOT NULL")
            .scalar(Bool.self)
        let (applied, ahead) = exists ? try verify(on: connection) : ([], [])
        return Report(
            applied: [],
            alreadyApplied: applied.sorted(),
            pending: migrations.map(\.version).filter { !applied.contains($0) },
            ahead: ahead
        )
    }

    /// Compares what the database recorded with the embedded files; returns the applied versions and
    /// the additive migrations this binary does not know. (`additive` is read through `to_jsonb` so a
    /// table from before the column reads as not additive instead of failing.)
    private func verify(on connection: PostgresConnection) throws -> (applied: Set<Int>, ahead: [String]) {
        let (versions, files) = (migrations.map { Int64($0.version) }, migrations.map(\.sql))
        let rows = try connection.query(
            """
            SELECT m.version, m.name, m.checksum,
                   m.checksum = encode(sha256(convert_to(f.sql, 'UTF8')), 'hex') AS matches,
                   f.sql IS NOT NULL AS known,
                   coalesce((to_jsonb(m) ->> 'additive')::boolean, false) AS additive
            FROM orderly_schema_migrations m
            LEFT JOIN unnest(\(versions)::int8[], \(files)::text[]) AS f(version, sql) ON f.version = m.version
            ORDER BY m.version
            """ as PostgresStatement
        )
        var applied = Set<Int>()
        var changed: [String] = []
        var unknown: [String] = []
        var ahead: [String] = []
        for row in rows {
            let version = try row.decode(Int.self, "version")
            let name = try row.decode(String.self, "name")
            if try !row.decode(Bool.self, "known") {
                if try row.decode(Bool.self, "additive") {
                    ahead.append(Migration.fileStem(version: version, name: name))
                } else {
                    unknown.append(Migration.fileStem(version: version, name: name))
                }
                continue
            }
            applied.insert(version)
            if try !row.decode(Bool.self, "matches") {
                changed.append(Migration.fileStem(version: version, name: name))
            }
        }
        if !changed.isEmpty { throw MigrationError.checksumMismatch(changed) }
        if !unknown.isEmpty { throw MigrationError.unknownApplied(unknown) }
        return (applied, ahead)
    }
}

/// Why migrations refused to run.
public enum MigrationError: Error, Equatable, CustomStringConvertible {
    /// These applied migrations' files were edited after they ran. Add a new migration instead.
    case checksumMismatch([String])
    /// The database has migrations this binary does not know and that are not additive: it is too
    /// old for the schema.
    case unknownApplied([String])
    /// The binary has a pending migration older than applied ones it does not know.
    case outOfOrder(pending: String, ahead: [String])

    public var description: String {
        switch self {
        case .checksumMismatch(let names):
            return "applied migrations were changed since they ran: \(names.joined(separator: ", ")) "
                + "(never edit an applied migration; add a new one)"
        case .unknownApplied(let names):
            return "the database has migrations this orderly binary does not know and cannot work with "
                + "(not additive): \(names.joined(separator: ", ")) (upgrade orderly)"
        case .outOfOrder(let pending, let ahead):
            return "this binary would apply \(pending), but the database already has newer migrations it "
                + "does not know (\(ahead.joined(separator: ", "))): migrate with the newest binary"
        }
    }
}

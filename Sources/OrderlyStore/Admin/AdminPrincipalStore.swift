import LibPQ
import OrderlyCore

/// A principal of the admin protocol, as stored (the secret only as its hash).
public struct AdminPrincipalRecord: Hashable, Sendable {
    public var name: String
    public var role: String
    public var secretHash: String
    public var disabled: Bool
}

/// `admin_principals`: created by `orderly admin-user add`, read by `AUTH`.
public enum AdminPrincipalStore {
    public static func create(_ connection: PostgresConnection, name: String, role: String, secretHash: String) throws {
        do {
            try connection.execute(
                "INSERT INTO admin_principals (name, role, secret_hash) VALUES ($1, $2, $3)",
                [name, role, secretHash]
            )
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw OrderlyError(.conflict, "principal \(name) exists")
        } catch let error as PostgresError where error.code == .checkViolation {
            throw OrderlyError(
                .badArgument,
                "a principal name is 1-64 of a-z, 0-9, _ . - starting with a letter; roles are readonly, operator, admin"
            )
        }
    }

    public static func find(_ connection: PostgresConnection, name: String) throws -> AdminPrincipalRecord? {
        let rows = try connection.query(
            "SELECT name, role, secret_hash, disabled_at IS NOT NULL FROM admin_principals WHERE name = $1",
            [name]
        )
        guard let row = rows.first else { return nil }
        return AdminPrincipalRecord(
            name: try row.decode(String.self, at: 0),
            role: try row.decode(String.self, at: 1),
            secretHash: try row.decode(String.self, at: 2),
            disabled: try row.decode(Bool.self, at: 3)
        )
    }

    /// Whether any enabled principal exists: what ends a loopback server's dev mode.
    public static func anyEnabled(_ connection: PostgresConnection) throws -> Bool {
        try connection.query(
            PostgresStatement.cached("SELECT EXISTS (SELECT 1 FROM admin_principals WHERE disabled_at IS NULL)")
        ).scalar(Bool.self)
    }

    public static func count(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT count(*) FROM admin_principals WHERE disabled_at IS NULL").scalar(Int64.self)
    }
}

/// `admin_idempotency`: claims keys before a mutating admin command runs and keeps its reply after.
public enum AdminIdempotencyStore {
    /// What a key says before its command runs.
    public enum Lookup: Sendable, Equatable {
        /// Never used: run the command, with `record` in its transaction.
        case free
        /// The same request committed before: its reply.
        case replay(String)
        /// Claimed by a server older than the one-transaction protocol that stopped before storing a
        /// reply: its outcome is unknown.
        case unfinished
        /// The key was used for another request.
        case mismatch
    }

    public static func lookup(
        _ connection: PostgresConnection,
        principal: String,
        key: String,
        requestHash: String
    ) throws -> Lookup {
        let rows = try connection.query(
            PostgresStatement.cached(
                "SELECT request_hash, reply FROM admin_idempotency WHERE principal = $1 AND key = $2",
                [principal, key]
            )
        )
        guard let row = rows.first else { return .free }
        guard try row.decode(String.self, at: 0) == requestHash else { return .mismatch }
        return try row.decode(String?.self, at: 1).map(Lookup.replay) ?? .unfinished
    }

    /// Stores a command's reply under its key; runs inside the command's own transaction, so the
    /// reply exists exactly when the command committed. If the same key committed first in another
    /// transaction, this fails with a unique violation on `admin_idempotency_pkey`
    /// (`isKeyTaken`) and the command rolls back.
    public static func record(principal: String, key: String, requestHash: String, reply: String) -> PostgresStatement {
        PostgresStatement.cached(
            """
            INSERT INTO admin_idempotency (principal, key, request_hash, reply, completed_at)
            VALUES ($1, $2, $3, $4, now())
            """,
            [principal, key, requestHash, reply]
        )
    }

    /// The error `record` fails with when a concurrent request with the same key committed first.
    public static func isKeyTaken(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError else { return false }
        return error.code == .uniqueViolation && error.constraint == "admin_idempotency_pkey"
    }
}

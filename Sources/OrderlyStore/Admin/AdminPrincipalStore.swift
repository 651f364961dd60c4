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

    public static func count(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT count(*) FROM admin_principals WHERE disabled_at IS NULL").scalar(Int64.self)
    }
}

/// `admin_idempotency`: claims keys before a mutating admin command runs and keeps its reply after.
public enum AdminIdempotencyStore {
    public enum Claim: Sendable, Equatable {
        /// The key is ours: run the command, then `complete`.
        case claimed
        /// The same request ran before: its reply.
        case replay(String)
        /// The same request is running, or stopped without a reply (its outcome is unknown).
        case unfinished
        /// The key was used for another request.
        case mismatch
    }

    public static func claim(
        _ connection: PostgresConnection,
        principal: String,
        key: String,
        requestHash: String
    )
        throws -> Claim
    {
        let inserted = try connection.execute(
            """
            INSERT INTO admin_idempotency (principal, key, request_hash) VALUES ($1, $2, $3)
            ON CONFLICT (principal, key) DO NOTHING
            """,
            [principal, key, requestHash]
        )
        if inserted == 1 { return .claimed }
        let rows = try connection.query(
            "SELECT request_hash, reply FROM admin_idempotency WHERE principal = $1 AND key = $2",
            [principal, key]
        )
        guard let row = rows.first else { return .unfinished }
        guard try row.decode(String.self, at: 0) == requestHash else { return .mismatch }
        return try row.decode(String?.self, at: 1).map(Claim.replay) ?? .unfinished
    }

    public static func complete(_ connection: PostgresConnection, principal: String, key: String, reply: String) throws
    {
        try connection.execute(
            "UPDATE admin_idempotency SET reply = $3, completed_at = now() WHERE principal = $1 AND key = $2",
            [principal, key, reply]
        )
    }

    /// Frees a key whose command failed before changing anything (a refusal), so it can be reused.
    public static func release(_ connection: PostgresConnection, principal: String, key: String) throws {
        try connection.execute(
            "DELETE FROM admin_idempotency WHERE principal = $1 AND key = $2 AND reply IS NULL",
            [principal, key]
        )
    }
}

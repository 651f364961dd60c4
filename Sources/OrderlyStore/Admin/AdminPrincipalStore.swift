public import LibPQ
public import OrderlyCore

/// `admin_principals`: created by `orderly admin-user add`, read by `AUTH`.
public enum AdminPrincipalStore {
    public static func create(_ connection: PostgresConnection, name: String, role: String, secretHash: String) throws {
        do {
            try connection.run(
                .command(
                    "INSERT INTO admin_principals (name, role, secret_hash) VALUES (\(name), \(role), \(secretHash))"
                )
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
        try connection.run(
            .first("SELECT name, role, secret_hash, disabled_at IS NOT NULL FROM admin_principals WHERE name = \(name)")
            {
                let (name, role, secretHash, disabled) = try $0.decode((String, String, String, Bool).self)
                return AdminPrincipalRecord(name: name, role: role, secretHash: secretHash, disabled: disabled)
            }
        )
    }

    /// Compare-and-set of a principal's secret hash; returns whether the row still had `old`.
    public static func replaceSecretHash(
        _ connection: PostgresConnection,
        name: String,
        from old: String,
        to new: String
    )
        throws -> Bool
    {
        try connection.run(
            .command(
                "UPDATE admin_principals SET secret_hash = \(new) WHERE name = \(name) AND secret_hash = \(old)"
            )
        ) == 1
    }

    /// Whether any enabled principal exists: what ends a loopback server's dev mode.
    public static func anyEnabled(_ connection: PostgresConnection) throws -> Bool {
        try connection.run(.scalar("SELECT EXISTS (SELECT 1 FROM admin_principals WHERE disabled_at IS NULL)"))
    }

    public static func count(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT count(*) FROM admin_principals WHERE disabled_at IS NULL").scalar(Int64.self)
    }
}

/// `admin_idempotency`: claims keys before a mutating admin command runs and keeps its reply after.
public enum AdminIdempotencyStore {
    public static func lookup(
        _ connection: PostgresConnection,
        principal: String,
        key: String,
        requestHash: String
    ) throws -> IdempotencyLookup {
        let stored = try connection.run(
            .first("SELECT request_hash, reply FROM admin_idempotency WHERE principal = \(principal) AND key = \(key)")
            {
                try $0.decode((String, String?).self)
            }
        )
        guard let (hash, reply) = stored else { return .free }
        guard hash == requestHash else { return .mismatch }
        return reply.map(IdempotencyLookup.replay) ?? .unfinished
    }

    /// Stores a command's reply under its key; runs inside the command's own transaction, so the
    /// reply exists exactly when the command committed. If the same key committed first in another
    /// transaction, this fails with a unique violation on `admin_idempotency_pkey`
    /// (`isKeyTaken`) and the command rolls back.
    public static func record(principal: String, key: String, requestHash: String, reply: String) -> PostgresStatement {
        """
        INSERT INTO admin_idempotency (principal, key, request_hash, reply, completed_at)
        VALUES (\(principal), \(key), \(requestHash), \(reply), now())
        """
    }

    /// The error `record` fails with when a concurrent request with the same key committed first.
    public static func isKeyTaken(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError else { return false }
        return error.code == .uniqueViolation && error.constraint == "admin_idempotency_pkey"
    }
}

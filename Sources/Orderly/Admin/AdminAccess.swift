import LibPQ
public import OrderlyCore
import OrderlyStore

/// Who may use the admin protocol (`admin_principals`) and what their `idem=` keys answer
/// (`admin_idempotency`): the admin server's door to both.
public struct AdminAccess: Sendable {
    public let database: OrderlyDatabase

    public init(database: OrderlyDatabase) {
        self.database = database
    }

    /// The principal named `name`, or nil.
    public func principal(named name: String) async throws -> AdminPrincipalRecord? {
        try await database.pool.withConnection { try AdminPrincipalStore.find($0, name: name) }
    }

    /// Whether any enabled principal exists (a server with none runs in dev mode), as a read.
    public var anyPrincipalEnabled: DatabaseRead<Bool> {
        DatabaseRead { try AdminPrincipalStore.anyEnabled($0) }
    }

    /// How many principals exist, enabled or not.
    public func principalCount() async throws -> Int64 {
        try await database.pool.withConnection { try AdminPrincipalStore.count($0) }
    }

    /// Replaces a principal's secret hash if it is still `old` (a re-hash at a stronger setting);
    /// returns whether it did.
    public func replaceSecretHash(name: String, from old: String, to new: String) async throws -> Bool {
        try await database.pool.withConnection {
            try AdminPrincipalStore.replaceSecretHash($0, name: name, from: old, to: new)
        }
    }

    /// Adds a principal; a name that exists is CONFLICT.
    public func createPrincipal(name: String, role: String, secretHash: String) async throws {
        try await database.pool.withConnection {
            try AdminPrincipalStore.create($0, name: name, role: role, secretHash: secretHash)
        }
    }

    // MARK: Idempotency keys

    /// What `principal`'s `key` says for a request hashing to `requestHash`.
    public func lookUp(principal: String, key: String, requestHash: String) async throws -> IdempotencyLookup {
        try await database.pool.withConnection {
            try AdminIdempotencyStore.lookup($0, principal: principal, key: key, requestHash: requestHash)
        }
    }

    /// Stores the reply `reply(value)` (already encoded) under the key with the command's own commit,
    /// so the key holds a reply exactly when the command committed. If the same key committed first in
    /// another transaction, the command rolls back with an error `isKeyTaken` recognises.
    public static func storing<V>(
        principal: String,
        key: String,
        requestHash: String,
        reply: @escaping @Sendable (V) throws -> String
    ) -> CommitAlongside<V> {
        CommitAlongside { value in
            [
                AdminIdempotencyStore.record(
                    principal: principal,
                    key: key,
                    requestHash: requestHash,
                    reply: try reply(value)
                )
            ]
        }
    }

    /// The error a command fails with when a concurrent request with its key committed first.
    public static func isKeyTaken(_ error: any Error) -> Bool {
        AdminIdempotencyStore.isKeyTaken(error)
    }
}

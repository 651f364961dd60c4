/// A principal of the admin protocol, as stored (the secret only as its hash).
public struct AdminPrincipalRecord: Hashable, Sendable {
    public var name: String
    public var role: String
    public var secretHash: String
    public var disabled: Bool

    public init(
        name: String,
        role: String,
        secretHash: String,
        disabled: Bool
    ) {
        self.name = name
        self.role = role
        self.secretHash = secretHash
        self.disabled = disabled
    }
}

/// What an admin command's `idem=` key says before its command runs.
public enum IdempotencyLookup: Sendable, Equatable {
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

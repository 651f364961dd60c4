package import LibPQ

/// An open transaction, as services take it: the job runner hands one to a job's handler, and
/// `OrderlyDatabase.transaction(_:)` to a caller composing several service calls into one commit.
/// What it wraps stays inside Orderly: a caller can pass it on to services, not run SQL on it.
public struct Transaction: Sendable {
    package let connection: PostgresConnection

    package init(_ connection: PostgresConnection) {
        self.connection = connection
    }
}

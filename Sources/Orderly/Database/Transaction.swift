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

/// Synchronous database work on one connection, built by a service and run by its caller: as a task
/// (`OrderlyDatabase.read(_:)`), or from an event loop without one (`read(_:completion:)`, the path
/// the admin server's reads take). Reads compose on the same connection (`map`, `then`).
public struct DatabaseRead<Value: Sendable>: Sendable {
    let work: @Sendable (PostgresConnection) throws -> Value

    package init(_ work: @escaping @Sendable (PostgresConnection) throws -> Value) {
        self.work = work
    }

    /// A read of a query: one statement, its rows decoded.
    init(_ query: PostgresQuery<Value>) {
        self.work = { try $0.run(query) }
    }

    /// A value without touching the database.
    public static func just(_ value: Value) -> DatabaseRead<Value> {
        DatabaseRead { _ in value }
    }

    public func map<T: Sendable>(_ transform: @escaping @Sendable (Value) throws -> T) -> DatabaseRead<T> {
        let work = self.work
        return DatabaseRead<T> { try transform(try work($0)) }
    }

    /// This read, then one chosen by its value, on the same connection.
    public func then<T: Sendable>(_ next: @escaping @Sendable (Value) throws -> DatabaseRead<T>) -> DatabaseRead<T> {
        let work = self.work
        return DatabaseRead<T> { connection in try next(try work(connection)).work(connection) }
    }
}

/// What a failed database call means for its caller, when the database (not the request) failed.
public enum DatabaseFailure: Sendable, Hashable {
    /// The connection broke while COMMIT was in flight: the work may or may not have committed.
    case outcomeUnknown
    /// The database could not be reached, or the connection was lost before COMMIT: nothing committed.
    case unavailable
    /// The pool is closed: this process is stopping.
    case closed

    /// The failure `error` reports, or nil when it is not one of the database's (a refusal, a bug).
    public init?(_ error: any Error) {
        guard let error = error as? PostgresError else { return nil }
        switch error.code {
        case .commitOutcomeUnknown: self = .outcomeUnknown
        case .connectionLost, .connectionFailed, .poolTimeout: self = .unavailable
        case .poolClosed: self = .closed
        default: return nil
        }
    }
}

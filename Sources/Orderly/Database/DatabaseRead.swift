package import LibPQ

/// Synchronous database work on one connection, built by a service and run by its caller: as a task
/// (`OrderlyDatabase.read(_:)`), or from an event loop without one (`read(_:completion:)`, the path
/// the admin server's reads take). Reads compose on the same connection (`map`, `then`).
public struct DatabaseRead<Value: Sendable>: Sendable {
    let work: @Sendable (PostgresConnection) throws -> Value

    package init(_ work: @escaping @Sendable (PostgresConnection) throws -> Value) {
        self.work = work
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

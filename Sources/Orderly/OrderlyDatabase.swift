import LibPQ
import Logging
import OrderlyStore

/// Orderly's handle on its database: a connection pool over a schema this binary knows.
///
/// Opening one refuses a database whose schema is behind (pending migrations) or ahead (migrations
/// this binary does not know), so services never run against tables they do not expect.
public struct OrderlyDatabase: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Opens a pool and checks the schema version.
    public static func open(
        configuration: PostgresConfiguration,
        options: PostgresPoolOptions = PostgresPoolOptions(),
        logger: Logger
    ) async throws -> OrderlyDatabase {
        let pool = PostgresPool(configuration: configuration, options: options, logger: logger)
        do {
            let report = try await pool.withConnection { try Migrator().status(on: $0) }
            guard report.pending.isEmpty else {
                throw SchemaNotCurrent(pending: report.pending)
            }
        } catch {
            await pool.close()
            throw error
        }
        return OrderlyDatabase(pool: pool)
    }
}

/// The database has migrations this binary would apply: run `orderly migrate` first.
public struct SchemaNotCurrent: Error, CustomStringConvertible, Sendable {
    public var pending: [Int]
    public var description: String {
        "the database schema is not current (pending migrations: \(pending.map(String.init).joined(separator: ", "))); "
            + "run `orderly migrate`"
    }
}

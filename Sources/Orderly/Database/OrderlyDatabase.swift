package import LibPQ
public import Logging
import OrderlyStore

/// Orderly's handle on its database: a connection pool over a schema this binary knows. The pool is
/// Orderly's own (`package`): callers go through the services, `read(_:)` and `transaction(_:)`.
///
/// Opening one refuses a database whose schema is behind (pending migrations) or ahead by migrations
/// this binary does not know that are not additive, so services never run against tables they do not
/// expect; ahead by additive ones only (a rolling upgrade), it opens and warns.
public struct OrderlyDatabase: Sendable {
    package let pool: PostgresPool

    package init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Opens a pool on the database at `url` (a postgresql:// URL or libpq conninfo; empty: libpq's
    /// PG* variables) of at most `poolSize` connections (nil: the pool's default), and checks the
    /// schema version.
    /// Borrowing waits are timed in `metrics` (`orderly_pool_wait_seconds`).
    public static func open(
        url: String,
        poolSize: Int? = nil,
        metrics: OrderlyMetrics? = nil,
        logger: Logger
    ) async throws -> OrderlyDatabase {
        var options = PostgresPoolOptions()
        if let poolSize { options.maxConnections = max(1, poolSize) }
        if let metrics { options.observeAcquire = { metrics.poolWait($0) } }
        return try await open(configuration: PostgresConfiguration(conninfo: url), options: options, logger: logger)
    }

    /// Opens a pool and checks the schema version.
    package static func open(
        configuration: PostgresConfiguration,
        options: PostgresPoolOptions = PostgresPoolOptions(),
        logger: Logger
    ) async throws -> OrderlyDatabase {
        var options = options
        if options.carryContext == nil { options.carryContext = LogContext.carrier }
        let pool = PostgresPool(configuration: configuration, options: options, logger: logger)
        do {
            let report = try await pool.withConnection { try Migrator().status(on: $0) }
            guard report.pending.isEmpty else {
                throw SchemaNotCurrent(pending: report.pending)
            }
            if !report.ahead.isEmpty {
                logger.warning(
                    "the database has newer migrations this binary does not know; they are additive, so it keeps working: upgrade it",
                    metadata: ["ahead": "\(report.ahead.joined(separator: ","))"]
                )
            }
        } catch {
            await pool.close()
            throw error
        }
        return OrderlyDatabase(pool: pool)
    }

    /// What keeps this process from serving, for a readiness probe: empty when the database answers and
    /// its schema is one this binary works with (nothing pending, nothing ahead but additive
    /// migrations); otherwise one line per problem.
    public func readinessProblems() async -> [String] {
        do {
            let report = try await pool.withConnection { try Migrator().status(on: $0) }
            var problems: [String] = []
            if !report.pending.isEmpty {
                problems.append("schema: pending migrations \(report.pending.map(String.init).joined(separator: ", "))")
            }
            return problems
        } catch let error as MigrationError {
            // Newer migrations that are not additive, or a checksum that differs.
            return ["schema: \(error)"]
        } catch {
            return ["database: \(error)"]
        }
    }

    /// The pool's counters: connections open, idle and waited for.
    public var poolStatistics: (open: Int, idle: Int, waiting: Int, maximum: Int) {
        let statistics = pool.statistics
        return (statistics.open, statistics.idle, statistics.waiting, pool.options.maxConnections)
    }

    /// Closes the pool's connections; calls after it fail (`DatabaseFailure.closed`).
    public func close() async {
        await pool.close()
    }

    /// Runs a read on a borrowed connection.
    public func read<Value>(_ read: DatabaseRead<Value>) async throws -> Value {
        try await pool.withConnection(read.work)
    }

    /// Runs a read from event-loop code without a task: on an idle connection's thread when one is at
    /// hand (`completion` is then called there), else through the pool's async path. `completion` is
    /// called exactly once.
    public func read<Value>(
        _ read: DatabaseRead<Value>,
        completion: @escaping @Sendable (Result<Value, any Error>) -> Void
    ) {
        pool.withConnection(read.work, completion: completion)
    }

    /// Runs `body` in one transaction (retried whole on a serialization failure or deadlock): service
    /// calls that take a `Transaction` commit together, or not at all.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await pool.transaction { try body(Transaction($0)) }
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

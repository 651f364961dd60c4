import LibPQ
public import OrderlyCore
import OrderlyStore

/// The analytics schema's upkeep (refreshing its materialized views) and the fixed reports over it.
public struct AnalyticsService: Sendable {
    public let database: OrderlyDatabase

    public init(database: OrderlyDatabase) {
        self.database = database
    }

    /// Refreshes every materialized view in order, each in a statement of its own (readers never
    /// wait); returns the milliseconds they took together.
    @discardableResult
    public func refreshAll() async throws -> Double {
        let views = try await database.pool.withConnection { try AnalyticsQueries.materializedViews($0) }
        var total = 0.0
        for view in views {
            total += try await database.pool.withConnection { try AnalyticsQueries.refresh($0, view: view) }
        }
        return total
    }

    /// Refreshes every view when the stalest is older than `maxAgeSeconds` (or was never refreshed);
    /// returns whether it did.
    public func refreshIfDue(maxAgeSeconds: Double) async throws -> Bool {
        let age = try await database.pool.withConnection { try AnalyticsQueries.stalestAge($0) }
        if let age, age < maxAgeSeconds { return false }
        try await refreshAll()
        return true
    }

    public func report(_ report: AnalyticsReport) async throws -> [ReportRow] {
        try await database.pool.withConnection { try AnalyticsQueries.report($0, report) }
    }
}

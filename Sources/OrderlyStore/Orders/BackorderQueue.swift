public import LibPQ

/// The backorder queue (`backorder_queue`, migration 0013): per SKU, the units orders ahead of a
/// given one wait for. Placement and reservation read it in the routing snapshot (to plan only what
/// is beyond it) and again after their locks (to check the plan against it as it is then).
public enum BackorderQueue {
    /// SKU id → units waiting, for the SKUs named by code (a new order is behind every waiting one).
    public static func ahead(skuCodes: [String]) -> PostgresStatement {
        """
        SELECT q.sku_id, sum(q.units)::int8 AS units FROM backorder_queue q
        WHERE q.sku_id IN (SELECT id FROM skus WHERE code = ANY(\(skuCodes)::text[]))
        GROUP BY q.sku_id
        """
    }

    /// The same for SKUs by id.
    public static func ahead(skuIDs: [Int64]) -> PostgresStatement {
        """
        SELECT q.sku_id, sum(q.units)::int8 AS units FROM backorder_queue q
        WHERE q.sku_id = ANY(\(skuIDs)::int8[])
        GROUP BY q.sku_id
        """
    }

    /// SKU id → units waiting in orders ahead of order `orderID`, for its SKUs.
    public static func ahead(of orderID: Int64) -> PostgresStatement {
        """
        SELECT q.sku_id, sum(q.units)::int8 AS units
        FROM backorder_queue q, (SELECT placed_at, orderly_job_priority(priority) AS priority_rank, id
                                 FROM orders WHERE id = \(same: orderID)) me
        WHERE q.sku_id IN (SELECT sku_id FROM order_lines WHERE order_id = \(same: orderID))
          AND (q.placed_at, q.priority_rank, q.order_id) < (me.placed_at, me.priority_rank, me.id)
        GROUP BY q.sku_id
        """
    }

    /// SKU id → units waiting in orders ahead of order `orderID`, for SKUs by code (an edit's, new
    /// lines included).
    public static func ahead(of orderID: Int64, skuCodes: [String]) -> PostgresStatement {
        """
        SELECT q.sku_id, sum(q.units)::int8 AS units
        FROM backorder_queue q, (SELECT placed_at, orderly_job_priority(priority) AS priority_rank, id
                                 FROM orders WHERE id = \(orderID)) me
        WHERE q.sku_id IN (SELECT id FROM skus WHERE code = ANY(\(skuCodes)::text[]))
          AND (q.placed_at, q.priority_rank, q.order_id) < (me.placed_at, me.priority_rank, me.id)
        GROUP BY q.sku_id
        """
    }

    public static func decode(_ rows: PostgresRows) throws -> [Int64: Int64] {
        var queued: [Int64: Int64] = [:]
        for row in rows { queued[try row.decode(Int64.self, at: 0)] = try row.decode(Int64.self, at: 1) }
        return queued
    }

    /// `ahead(...)` as a query.
    public static func query(_ statement: PostgresStatement) -> PostgresQuery<[Int64: Int64]> {
        PostgresQuery(statement, decode: decode)
    }
}

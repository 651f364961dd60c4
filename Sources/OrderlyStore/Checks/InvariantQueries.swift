public import LibPQ

/// The reads `orderly check` makes: each returns the rows that break one invariant of DESIGN.md.
public enum InvariantQueries {
    /// Invariant 1: 0 <= reserved <= on_hand.
    public static func reservedOutOfRange(_ connection: PostgresConnection) throws -> [String] {
        try connection.query(
            """
            SELECT warehouse_id, sku_id, on_hand, reserved FROM inventory
            WHERE NOT (reserved >= 0 AND reserved <= on_hand)
            ORDER BY warehouse_id, sku_id
            """
        ).map { row in
            "inventory (\(try row.decode(Int64.self, at: 0)), \(try row.decode(Int64.self, at: 1))): "
                + "reserved \(try row.decode(Int64.self, at: 3)) outside 0...\(try row.decode(Int64.self, at: 2))"
        }
    }

    /// Invariant 2: every inventory row equals the sum of its ledger rows.
    public static func ledgerMismatches(_ connection: PostgresConnection) throws -> [String] {
        try connection.query(
            """
            SELECT i.warehouse_id, i.sku_id, i.on_hand, coalesce(l.on_hand, 0)::int8, i.reserved,
                   coalesce(l.reserved, 0)::int8
            FROM inventory i
            LEFT JOIN (SELECT warehouse_id, sku_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                       FROM inventory_ledger GROUP BY warehouse_id, sku_id) l USING (warehouse_id, sku_id)
            WHERE i.on_hand <> coalesce(l.on_hand, 0) OR i.reserved <> coalesce(l.reserved, 0)
            ORDER BY i.warehouse_id, i.sku_id
            """
        ).map { row in
            "inventory (\(try row.decode(Int64.self, at: 0)), \(try row.decode(Int64.self, at: 1))): "
                + "on_hand \(try row.decode(Int64.self, at: 2)) vs ledger \(try row.decode(Int64.self, at: 3)), "
                + "reserved \(try row.decode(Int64.self, at: 4)) vs ledger \(try row.decode(Int64.self, at: 5))"
        }
    }

    /// Invariant 3: reserved equals the sum of the row's active reservations.
    public static func reservationMismatches(_ connection: PostgresConnection) throws -> [String] {
        try connection.query(
            """
            SELECT i.warehouse_id, i.sku_id, i.reserved, coalesce(r.active, 0)::int8
            FROM inventory i
            LEFT JOIN (SELECT warehouse_id, sku_id, sum(quantity) AS active FROM reservations
                       WHERE status = 'active' GROUP BY warehouse_id, sku_id) r USING (warehouse_id, sku_id)
            WHERE i.reserved <> coalesce(r.active, 0)
            ORDER BY i.warehouse_id, i.sku_id
            """
        ).map { row in
            "inventory (\(try row.decode(Int64.self, at: 0)), \(try row.decode(Int64.self, at: 1))): "
                + "reserved \(try row.decode(Int64.self, at: 2)) but active reservations hold "
                + "\(try row.decode(Int64.self, at: 3))"
        }
    }

    /// Invariant 7: per order, 0 <= captured - refunded <= total (refunds still with the provider count).
    public static func paymentsOutOfBalance(_ connection: PostgresConnection) throws -> [String] {
        try connection.query(
            """
            SELECT order_id, total_minor, captured_minor, refunded_minor + refunding_minor FROM order_payment_balances
            WHERE captured_minor - refunded_minor - refunding_minor < 0 OR captured_minor - refunded_minor > total_minor
            ORDER BY order_id
            """
        ).map { row in
            "order \(try row.decode(Int64.self, at: 0)): captured \(try row.decode(Int64.self, at: 2)) - refunded "
                + "\(try row.decode(Int64.self, at: 3)) outside 0...\(try row.decode(Int64.self, at: 1))"
        }
    }

    /// One order with its recorded events, oldest first, for invariant 4.
    public struct OrderHistory: Sendable {
        public var orderID: Int64
        public var status: String
        public var events: [(event: String, from: String?, to: String)]

        public init(orderID: Int64, status: String, events: [(event: String, from: String?, to: String)]) {
            self.orderID = orderID
            self.status = status
            self.events = events
        }
    }

    /// Orders with their events, `limit` at a time after `afterID` (keyset pagination keeps memory flat).
    public static func orderHistories(
        _ connection: PostgresConnection,
        afterID: Int64,
        limit: Int
    ) throws
        -> [OrderHistory]
    {
        let rows = try connection.query(
            """
            SELECT o.id, o.status,
                   coalesce(array_agg(e.event ORDER BY e.id) FILTER (WHERE e.id IS NOT NULL), '{}'),
                   coalesce(array_agg(coalesce(e.from_status, '') ORDER BY e.id) FILTER (WHERE e.id IS NOT NULL), '{}'),
                   coalesce(array_agg(e.to_status ORDER BY e.id) FILTER (WHERE e.id IS NOT NULL), '{}')
            FROM (SELECT id, status FROM orders WHERE id > \(afterID) ORDER BY id LIMIT \(limit)) o
            LEFT JOIN order_events e ON e.order_id = o.id
            GROUP BY o.id, o.status
            ORDER BY o.id
            """ as PostgresStatement
        )
        return try rows.map { row in
            let events = try row.decode([String].self, at: 2)
            let froms = try row.decode([String].self, at: 3)
            let tos = try row.decode([String].self, at: 4)
            return OrderHistory(
                orderID: try row.decode(Int64.self, at: 0),
                status: try row.decode(String.self, at: 1),
                events: events.indices.map { (events[$0], froms[$0].isEmpty ? nil : froms[$0], tos[$0]) }
            )
        }
    }
}

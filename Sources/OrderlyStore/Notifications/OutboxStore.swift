public import LibPQ
public import OrderlyCore

/// The `notifications` table's reads and writes for the notify job.
public enum OutboxStore {
    /// The notification, locked (one sender at a time), or nil.
    public static func lock(_ connection: PostgresConnection, id: Int64) throws -> OutboxEntry? {
        try connection.run(
            .first(
                """
                SELECT id, order_id, kind, channel, recipient, subject, body, status
                FROM notifications WHERE id = \(id) FOR UPDATE
                """,
                decodeEntry
            )
        )
    }

    static func decodeEntry(_ row: PostgresRow) throws -> OutboxEntry {
        OutboxEntry(
            id: try row.decode(Int64.self, at: 0),
            orderID: try row.decode(Int64?.self, at: 1),
            kind: try row.decode(NotificationKind.self, at: 2),
            channel: try row.decode(String.self, at: 3),
            recipient: try row.decode(String.self, at: 4),
            subject: try row.decode(String.self, at: 5),
            body: try row.decode(String.self, at: 6),
            status: try row.decode(NotificationStatus.self, at: 7)
        )
    }

    public static func markSent(_ connection: PostgresConnection, id: Int64) throws {
        try connection.run(
            .command(
                """
                UPDATE notifications SET status = 'sent', sent_at = orderly_now(), attempts = attempts + 1, last_error = NULL
                WHERE id = \(id)
                """
            )
        )
    }

    /// A message the job gave up on (its attempts are spent): failed, with the last error.
    public static func markFailed(_ connection: PostgresConnection, id: Int64, attempts: Int, error: String) throws {
        let (attempts, error) = (Int64(attempts), String(error.prefix(2000)))
        try connection.run(
            .command(
                """
                UPDATE notifications SET status = 'failed', attempts = \(attempts), last_error = \(error)
                WHERE id = \(id) AND status = 'pending'
                """
            )
        )
    }

    /// A low-stock alert for operations, once per (warehouse, SKU) and day. Row: inserted or not.
    public static func lowStockAlert(
        warehouseID: Int64,
        skuID: Int64,
        recipient: String,
        channel: String
    )
        -> PostgresStatement
    {
        """
        INSERT INTO notifications (kind, channel, recipient, subject, body, dedupe_key)
        SELECT 'low_stock', \(channel), \(recipient),
               'Low stock: ' || s.code || ' at ' || w.code,
               s.code || ' (' || s.name || ') at ' || w.code || ': ' || (i.on_hand - i.reserved)
                   || ' available, reorder point ' || i.reorder_point || ', on hand ' || i.on_hand
                   || ', reserved ' || i.reserved || '.',
               'low_stock:' || i.warehouse_id || ':' || i.sku_id || ':' || to_char(orderly_now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')
        FROM inventory i JOIN skus s ON s.id = i.sku_id JOIN warehouses w ON w.id = i.warehouse_id
        WHERE i.warehouse_id = \(warehouseID) AND i.sku_id = \(skuID) AND i.on_hand - i.reserved <= i.reorder_point
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
        """
    }
}

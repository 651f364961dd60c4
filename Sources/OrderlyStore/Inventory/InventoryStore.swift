public import LibPQ
public import OrderlyCore

/// The SQL of stock changes. Every function runs inside the caller's transaction and writes its
/// ledger rows there, so a row and its ledger always move together (invariant 2). Rows are locked
/// in (warehouse_id, sku_id) order, as everywhere in Orderly.
public struct InventoryStore: Sendable {
    public let actor: String

    public init(actor: String) {
        self.actor = actor
    }

    /// Locks the row, creating it empty first if needed. An unknown warehouse or SKU is NOT_FOUND:
    /// the insert's foreign keys say which (an existing row implies both exist, since nothing is deleted).
    public func lockRow(_ connection: PostgresConnection, warehouse: Int64, sku: Int64) throws -> InventoryRow {
        do {
            try connection.run(
                .command(
                    "INSERT INTO inventory (warehouse_id, sku_id) VALUES (\(warehouse), \(sku)) ON CONFLICT DO NOTHING"
                )
            )
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            throw error.constraint == "inventory_sku_id_fkey"
                ? OrderlyError(.notFound, "SKU \(sku) does not exist (SKU LIST shows them)")
                : OrderlyError(.notFound, "warehouse \(warehouse) does not exist (WAREHOUSE LIST shows them)")
        }
        let locked = try connection.run(
            .first(
                """
                SELECT warehouse_id, sku_id, on_hand, reserved, reorder_point, safety_stock
                FROM inventory WHERE warehouse_id = \(warehouse) AND sku_id = \(sku) FOR UPDATE
                """,
                Self.decodeRow
            )
        )
        guard let locked else {
            throw OrderlyError(
                .conflict,
                "warehouse \(warehouse) SKU \(sku): the inventory row vanished under its lock"
            )
        }
        return locked
    }

    /// Changes on_hand by `delta` with one ledger row; enqueues a low-stock job when the row falls to
    /// or under its reorder point.
    @discardableResult
    public func moveOnHand(
        _ connection: PostgresConnection,
        row: InventoryRow,
        delta: Int64,
        reason: StockReason,
        note: String?,
        transferID: String? = nil
    ) throws -> InventoryRow {
        let (newOnHand, overflow) = row.onHand.addingReportingOverflow(delta)
        guard !overflow else { throw OrderlyError(.badArgument, "on_hand would overflow") }
        guard newOnHand >= row.reserved else {
            throw OrderlyError(
                .insufficientStock,
                "warehouse \(row.warehouseID) SKU \(row.skuID): on_hand \(row.onHand), reserved \(row.reserved), "
                    + "cannot move \(delta)"
            )
        }
        try connection.run(
            .command(
                """
                UPDATE inventory SET on_hand = \(newOnHand), updated_at = orderly_now()
                WHERE warehouse_id = \(row.warehouseID) AND sku_id = \(row.skuID)
                """
            )
        )
        try connection.run(
            .command(
                """
                INSERT INTO inventory_ledger (warehouse_id, sku_id, on_hand_delta, reason, note, transfer_id, actor)
                VALUES (\(row.warehouseID), \(row.skuID), \(delta), \(reason.rawValue), \(note), \(transferID)::uuid,
                        \(actor))
                """
            )
        )
        var updated = row
        updated.onHand = newOnHand
        if delta < 0, updated.onHand - updated.reserved <= updated.reorderPoint {
            try enqueueLowStock(connection, row: updated)
        }
        if delta > 0 { try enqueueBackorderRetry(connection, sku: row.skuID) }
        if delta > 0, reason == .receive { try fillExpectations(connection, row: row, units: delta) }
        return updated
    }

    /// A receipt fills the row's open expectations, earliest expected first (the row is locked, so
    /// receipts and `STOCK EXPECT` of one row take turns).
    func fillExpectations(_ connection: PostgresConnection, row: InventoryRow, units: Int64) throws {
        try connection.run(
            .command(
                """
                WITH open AS (
                    SELECT id, quantity - received AS open,
                           coalesce(sum(quantity - received) OVER (ORDER BY expected_on, id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
                    FROM stock_expectations
                    WHERE warehouse_id = \(row.warehouseID) AND sku_id = \(row.skuID) AND received < quantity
                )
                UPDATE stock_expectations e
                SET received = e.received + least(o.open, \(same: units) - o.before)::int4, updated_at = orderly_now(),
                    updated_by = \(actor)
                FROM open o WHERE e.id = o.id AND o.before < \(same: units)
                """
            )
        )
    }

    /// `STOCK EXPECT`: `units` still expected at the row under `reference` on `date` (0 closes the
    /// expectation). Nil when the date is in the past (the database's today) or nothing was expected
    /// under that reference to close. Take the row's lock first.
    public func expect(
        _ connection: PostgresConnection,
        row: InventoryRow,
        reference: String,
        units: Int64,
        date: LocalDate
    ) throws -> StockExpectation? {
        let returning: PostgresStatement =
            "RETURNING e.id, e.reference, (e.quantity - e.received)::int8, e.received::int8, e.expected_on::text"
        let statement: PostgresStatement =
            units == 0
            ? """
            UPDATE stock_expectations e SET quantity = e.received, updated_by = \(actor), updated_at = orderly_now()
            WHERE e.warehouse_id = \(row.warehouseID) AND e.sku_id = \(row.skuID) AND e.reference = \(reference)
              AND e.received < e.quantity AND \(date.description)::date >= orderly_now()::date
            \(returning)
            """
            : """
            INSERT INTO stock_expectations AS e (warehouse_id, sku_id, reference, quantity, expected_on, created_by,
                                                 updated_by)
            SELECT \(row.warehouseID), \(row.skuID), \(reference), \(units)::int4, \(same: date.description)::date,
                   \(same: actor), \(same: actor)
            WHERE \(same: date.description)::date >= orderly_now()::date
            ON CONFLICT (warehouse_id, sku_id, reference) DO UPDATE
            SET quantity = e.received + EXCLUDED.quantity, expected_on = EXCLUDED.expected_on,
                updated_by = EXCLUDED.updated_by, updated_at = orderly_now()
            \(returning)
            """
        return try connection.run(
            .first(
                statement
            ) { row in
                let (id, reference, open, received, text) = try row.decode((Int64, String, Int64, Int64, String).self)
                guard let date = LocalDate(text) else {
                    throw PostgresError(code: .decoding, message: "expected_on '\(text)' is not a date")
                }
                return StockExpectation(id: id, reference: reference, expected: open, received: received, date: date)
            }
        )
    }

    /// Stock arrived: a `retry_backorders` job for the SKU, at most one pending (its unique key). The
    /// worker reserves the waiting orders' units, oldest order first.
    func enqueueBackorderRetry(_ connection: PostgresConnection, sku: Int64) throws {
        let job = NewJob(Jobs.RetryBackorders.self, .init(skuID: sku))
        try connection.run(
            .command(
                """
                SELECT orderly_enqueue_job(\(job.queue), \(job.kind), \(job.args)::jsonb, \(job.uniqueKey), 0,
                                           \(Int64(job.priority))::int4, \(Int64(job.maxAttempts))::int4)
                WHERE EXISTS (SELECT 1 FROM order_lines WHERE sku_id = \(sku) AND quantity_backordered > 0)
                """
            )
        )
    }

    /// Locks a warehouse's rows of `skuIDs` in SKU order, creating the missing ones (a new row is
    /// this transaction's until it commits).
    public static func lockRows(warehouseID: Int64, skuIDs: [Int64]) -> PostgresStatement {
        """
        WITH created AS (
            INSERT INTO inventory (warehouse_id, sku_id) SELECT \(same: warehouseID), unnest(\(same: skuIDs)::int8[])
            ON CONFLICT DO NOTHING
        )
        SELECT sku_id FROM inventory WHERE warehouse_id = \(same: warehouseID) AND sku_id = ANY(\(same: skuIDs)::int8[])
        ORDER BY sku_id FOR UPDATE
        """
    }

    /// `retry_backorders` for the SKUs of the rows a statement's `x(sku_id)` selects (those orders
    /// wait for): stock arriving in a statement (a return's restock) serves the backorder queue first.
    static let enqueueRetrySQL = JobQueue.enqueueSQL(
        Jobs.RetryBackorders.self,
        argsSQL: "array_agg(jsonb_build_object('sku_id', x.sku_id) ORDER BY x.sku_id)",
        keysSQL: "array_agg('retry_backorders:sku:' || x.sku_id ORDER BY x.sku_id)"
    )

    /// A `low_stock` job for the worker, at most one pending per row (the jobs' unique key).
    func enqueueLowStock(_ connection: PostgresConnection, row: InventoryRow) throws {
        try JobQueue.enqueue(connection, Jobs.LowStock.self, .init(warehouseID: row.warehouseID, skuID: row.skuID))
    }

    /// Records a cycle count and books the variance, if any, with `reason`.
    public func recordCount(
        _ connection: PostgresConnection,
        row: InventoryRow,
        counted: Int64,
        reason: StockReason
    ) throws -> InventoryRow {
        guard counted >= row.reserved else {
            throw OrderlyError(
                .conflict,
                "counted \(counted) is below the \(row.reserved) units reserved; release or re-route them first"
            )
        }
        let variance = counted - row.onHand
        let varianceReason = variance == 0 ? nil : reason.rawValue
        try connection.run(
            .command(
                """
                INSERT INTO cycle_counts (warehouse_id, sku_id, expected, counted, variance_reason, actor)
                VALUES (\(row.warehouseID), \(row.skuID), \(row.onHand), \(counted), \(varianceReason), \(actor))
                """
            )
        )
        try connection.run(
            .command(
                """
                UPDATE inventory SET last_counted_at = orderly_now()
                WHERE warehouse_id = \(row.warehouseID) AND sku_id = \(row.skuID)
                """
            )
        )
        guard variance != 0 else { return row }
        return try moveOnHand(connection, row: row, delta: variance, reason: reason, note: "cycle count")
    }

    public func setThresholds(
        _ connection: PostgresConnection,
        row: InventoryRow,
        reorderPoint: Int64,
        safetyStock: Int64
    ) throws -> InventoryRow {
        try connection.run(
            .command(
                """
                UPDATE inventory SET reorder_point = \(reorderPoint), safety_stock = \(safetyStock), updated_at = orderly_now()
                WHERE warehouse_id = \(row.warehouseID) AND sku_id = \(row.skuID)
                """
            )
        )
        var updated = row
        updated.reorderPoint = reorderPoint
        updated.safetyStock = safetyStock
        return updated
    }

    /// Every row holding `sku`, in warehouse order, without locks (for availability and routing).
    public func rows(_ connection: PostgresConnection, sku: Int64) throws -> [InventoryRow] {
        try connection.run(
            .rows(
                """
                SELECT warehouse_id, sku_id, on_hand, reserved, reorder_point, safety_stock
                FROM inventory WHERE sku_id = \(sku) ORDER BY warehouse_id
                """,
                Self.decodeRow
            )
        )
    }

    static func decodeRow(_ row: PostgresRow) throws -> InventoryRow {
        InventoryRow(
            warehouseID: try row.decode(Int64.self, "warehouse_id"),
            skuID: try row.decode(Int64.self, "sku_id"),
            onHand: try row.decode(Int64.self, "on_hand"),
            reserved: try row.decode(Int64.self, "reserved"),
            reorderPoint: try row.decode(Int64.self, "reorder_point"),
            safetyStock: try row.decode(Int64.self, "safety_stock")
        )
    }
}

public import Foundation
public import LibPQ
public import OrderlyCore

/// What a simulation (`orderly seed`) reads and sets besides the services: the simulated clock, the
/// work waiting on the floor, and whether the worker has caught up.
public enum SimulationQueries {
    /// Sets the instant `orderly_now()` returns in sessions with `orderly.simulated_clock = on`.
    public static func setClock(_ connection: PostgresConnection, to instant: Date) throws {
        _ = try connection.execute(
            """
            INSERT INTO orderly_clock (at) VALUES (\(instant))
            ON CONFLICT (singleton) DO UPDATE SET at = EXCLUDED.at
            """
        )
    }

    /// Removes the simulated instant: every session reads now() again.
    public static func clearClock(_ connection: PostgresConnection) throws {
        _ = try connection.execute("DELETE FROM orderly_clock")
    }

    /// The lines of every pick list of a warehouse not yet confirmed, by list.
    public static func openPickLines(_ connection: PostgresConnection, warehouseID: Int64) throws -> [WaitingPickLine] {
        let rows = try connection.query(
            """
            SELECT p.id, s.order_id, k.code, (l.quantity - l.quantity_picked)::int8, k.serial_tracked
            FROM pick_lists p
            JOIN pick_list_lines l ON l.pick_list_id = p.id
            JOIN shipment_lines sl ON sl.id = l.shipment_line_id
            JOIN shipments s ON s.id = sl.shipment_id
            JOIN skus k ON k.id = l.sku_id
            WHERE p.warehouse_id = \(warehouseID) AND p.status IN ('open', 'in_progress')
            ORDER BY p.id, l.walk_sequence, l.id
            """
        )
        return try rows.map {
            WaitingPickLine(
                listID: try $0.decode(Int64.self, at: 0),
                orderID: try $0.decode(Int64.self, at: 1),
                skuCode: try $0.decode(String.self, at: 2),
                units: try $0.decode(Int64.self, at: 3),
                serialTracked: try $0.decode(Bool.self, at: 4)
            )
        }
    }

    /// Labelled parcels of a warehouse waiting for the carrier's pickup scan: (shipment, order).
    public static func awaitingHandover(
        _ connection: PostgresConnection,
        warehouseID: Int64
    ) throws -> [(shipmentID: Int64, orderID: Int64)] {
        try connection.query(
            """
            SELECT id, order_id FROM shipments
            WHERE warehouse_id = \(warehouseID) AND status = 'labelled' AND handed_over_at IS NULL
            ORDER BY id
            """
        ).map { (try $0.decode(Int64.self, at: 0), try $0.decode(Int64.self, at: 1)) }
    }

    /// Jobs due now or running, on real time: zero when the worker has caught up.
    public static func jobsInFlight(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query(
            """
            SELECT count(*) FROM jobs
            WHERE (state IN ('available', 'retryable') AND run_at <= now()) OR state = 'running'
            """
        ).scalar(Int64.self)
    }

    public static func stock(_ connection: PostgresConnection) throws -> [StockPosition] {
        try connection.query(
            """
            SELECT i.warehouse_id, i.sku_id, i.on_hand, i.reserved,
                   coalesce((SELECT sum(e.quantity - e.received) FROM stock_expectations e
                             WHERE e.warehouse_id = i.warehouse_id AND e.sku_id = i.sku_id
                               AND e.received < e.quantity), 0)::int8
            FROM inventory i ORDER BY i.warehouse_id, i.sku_id
            """
        ).map {
            StockPosition(
                warehouseID: try $0.decode(Int64.self, at: 0),
                skuID: try $0.decode(Int64.self, at: 1),
                onHand: try $0.decode(Int64.self, at: 2),
                reserved: try $0.decode(Int64.self, at: 3),
                expected: try $0.decode(Int64.self, at: 4)
            )
        }
    }

    /// Orders in the database: a seed refuses to add a world to one that has orders.
    public static func orderCount(_ connection: PostgresConnection) throws -> Int64 {
        try connection.query("SELECT count(*) FROM orders").scalar(Int64.self)
    }

    /// Sets how a warehouse confirms picks (`auto` or `scanner`) and hands parcels over (`auto` or
    /// `scan`); returns whether the warehouse exists.
    public static func setFulfillment(
        _ connection: PostgresConnection,
        warehouseID: Int64,
        pickConfirmation: String,
        handover: String
    ) throws -> Bool {
        try connection.execute(
            """
            UPDATE warehouses SET pick_confirmation = \(pickConfirmation), handover = \(handover),
                updated_at = orderly_now()
            WHERE id = \(warehouseID)
            """
        ) == 1
    }
}

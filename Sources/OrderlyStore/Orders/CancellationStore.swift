public import LibPQ
public import OrderlyCore

/// The SQL of cancelling units (`UnitCancellation` plans, this writes). Locks after the order's row and
/// its reserved stock rows: the pick lists that hold its units, then its live shipments, in id order
/// (a pick list confirm locks its list before the shipments on it, so the same order here).
extension OrderStore {
    static let liveShipment = "('planned', 'picking', 'picked', 'packed', 'labelled')"

    /// The order's active reservations with the live shipment lines carrying them and their pick list
    /// lines, read after locking those lists and shipments.
    public func cancellableReservations(orderID: Int64) -> PostgresQuery<[CancellableReservation]> {
        PostgresQuery(
            statements: [
                """
                SELECT p.id FROM pick_lists p
                WHERE p.status IN ('open', 'in_progress', 'completed') AND p.id IN (
                    SELECT pl.pick_list_id FROM pick_list_lines pl
                    JOIN shipment_lines sl ON sl.id = pl.shipment_line_id JOIN shipments sh ON sh.id = sl.shipment_id
                    WHERE sh.order_id = \(orderID) AND sh.status IN \(unescaped: Self.liveShipment))
                ORDER BY p.id FOR UPDATE OF p
                """,
                """
                SELECT id FROM shipments WHERE order_id = \(orderID) AND status IN \(unescaped: Self.liveShipment)
                ORDER BY id FOR UPDATE
                """,
                """
                SELECT r.id, r.order_line_id, r.warehouse_id, r.sku_id, r.quantity::int8,
                       sh.id, sh.status, sl.id, sl.quantity_packed::int8,
                       pl.id, pl.pick_list_id, pl.list_status, pl.quantity::int8, pl.quantity_picked::int8,
                       pl.bin_location,
                       (SELECT sum(x.quantity) FROM pick_list_lines x WHERE x.pick_list_id = pl.pick_list_id)::int8
                FROM reservations r
                LEFT JOIN (shipment_lines sl JOIN shipments sh
                           ON sh.id = sl.shipment_id AND sh.status IN \(unescaped: Self.liveShipment))
                    ON sl.reservation_id = r.id
                LEFT JOIN (SELECT pll.*, p.status AS list_status FROM pick_list_lines pll
                           JOIN pick_lists p ON p.id = pll.pick_list_id AND p.status <> 'cancelled') pl
                    ON pl.shipment_line_id = sl.id
                WHERE r.order_id = \(orderID) AND r.status = 'active'
                ORDER BY r.id, pl.id
                """,
            ]
        ) { results in
            var out: [CancellableReservation] = []
            for row in results[2] {
                let id = try row.decode(Int64.self, at: 0)
                if out.last?.reservationID != id {
                    var reservation = CancellableReservation(
                        reservationID: id,
                        orderLineID: try row.decode(Int64.self, at: 1),
                        warehouseID: try row.decode(Int64.self, at: 2),
                        skuID: try row.decode(Int64.self, at: 3),
                        quantity: try row.decode(Int64.self, at: 4)
                    )
                    if let shipment = try row.decode(Int64?.self, at: 5) {
                        reservation.carrier = CancellableReservation.Carried(
                            shipmentID: shipment,
                            status: try row.decode(ShipmentStatus.self, at: 6),
                            shipmentLineID: try row.decode(Int64.self, at: 7),
                            packed: try row.decode(Int64.self, at: 8),
                            pickLines: []
                        )
                    }
                    out.append(reservation)
                }
                guard let pickLine = try row.decode(Int64?.self, at: 9) else { continue }
                out[out.count - 1].carrier?.pickLines.append(
                    CancellableReservation.PickLine(
                        id: pickLine,
                        listID: try row.decode(Int64.self, at: 10),
                        listStatus: try row.decode(PickListStatus.self, at: 11),
                        quantity: try row.decode(Int64.self, at: 12),
                        picked: try row.decode(Int64.self, at: 13),
                        bin: try row.decode(String?.self, at: 14),
                        listUnits: try row.decode(Int64.self, at: 15)
                    )
                )
            }
            return out
        }
    }

    /// Writes a planned cut in one statement: reservations shrink or close (reserved -= units, ledger
    /// `release` rows noted as a cancellation), the lines' cancelled units up and their reserved and
    /// backordered units down, shipment and pick list lines shrink, emptied shipments and lists are
    /// cancelled, put-back tasks written, the order's released share of the total set and, once nothing
    /// is open, its pick jobs that have not run cancelled. The stock rows must be locked first. Row:
    /// units released.
    public func cancelUnits(orderID: Int64, _ plan: UnitCancellation, reason: String) -> PostgresQuery<Int64> {
        let (r, l, s, p, b) = (plan.reservations, plan.lines, plan.shipmentLines, plan.pickLines, plan.putBacks)
        return .scalar(
            """
            WITH cut AS (
                SELECT * FROM unnest(\(r.map(\.reservationID))::int8[], \(r.map(\.warehouseID))::int8[],
                                     \(r.map(\.skuID))::int8[], \(r.map(\.units))::int8[])
                    AS u(reservation_id, warehouse_id, sku_id, units)
            ), res AS (
                UPDATE reservations r
                -- A reservation cut to nothing closes, keeping the units it held (as a release does).
                SET quantity = CASE WHEN r.quantity = c.units THEN r.quantity ELSE r.quantity - c.units END,
                    status = CASE WHEN r.quantity = c.units THEN 'released' ELSE 'active' END,
                    closed_at = CASE WHEN r.quantity = c.units THEN orderly_now() END
                FROM cut c WHERE r.id = c.reservation_id AND r.order_id = \(same: orderID) AND r.status = 'active'
            ), per_row AS (
                SELECT warehouse_id, sku_id, sum(units)::int8 AS units FROM cut GROUP BY 1, 2
            ), inv AS (
                UPDATE inventory i SET reserved = i.reserved - p.units, updated_at = orderly_now()
                FROM per_row p WHERE i.warehouse_id = p.warehouse_id AND i.sku_id = p.sku_id
            ), ledger AS (
                INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, note, order_id, actor)
                SELECT warehouse_id, sku_id, -units, 'release', \("cancelled: " + reason), \(same: orderID), \(actor)
                FROM per_row
            ), line AS (
                UPDATE order_lines ol
                SET quantity_cancelled = ol.quantity_cancelled + u.units,
                    quantity_backordered = ol.quantity_backordered - u.backordered,
                    quantity_reserved = ol.quantity_reserved - u.released
                FROM unnest(\(l.map(\.orderLineID))::int8[], \(l.map(\.units))::int8[], \(l.map(\.backordered))::int8[],
                            \(l.map(\.released))::int8[]) AS u(id, units, backordered, released)
                WHERE ol.id = u.id AND ol.order_id = \(same: orderID)
            ), shipment_line AS (
                UPDATE shipment_lines sl
                SET quantity = u.quantity, quantity_picked = least(sl.quantity_picked, u.quantity),
                    quantity_packed = least(sl.quantity_packed, u.quantity)
                FROM unnest(\(s.map(\.shipmentLineID))::int8[], \(s.map(\.quantity))::int8[]) AS u(id, quantity)
                WHERE sl.id = u.id
            ), pick_line AS (
                UPDATE pick_list_lines pl SET quantity = u.quantity, quantity_picked = u.picked
                FROM unnest(\(p.map(\.id))::int8[], \(p.map(\.quantity))::int8[], \(p.map(\.picked))::int8[])
                    AS u(id, quantity, picked)
                WHERE pl.id = u.id
            ), shipment AS (
                UPDATE shipments SET status = 'cancelled', updated_at = orderly_now()
                WHERE id = ANY(\(plan.cancelledShipments)::int8[]) AND order_id = \(same: orderID)
                  AND status IN \(unescaped: Self.liveShipment)
            ), list AS (
                UPDATE pick_lists SET status = 'cancelled'
                WHERE id = ANY(\(plan.cancelledLists)::int8[]) AND status IN ('open', 'in_progress')
            ), put_back AS (
                INSERT INTO put_backs (warehouse_id, sku_id, bin_location, quantity, order_id, shipment_id, pick_list_id,
                                       source)
                SELECT u.warehouse_id, u.sku_id, u.bin, u.units, \(same: orderID), u.shipment_id, u.list_id, u.source
                FROM unnest(\(b.map(\.warehouseID))::int8[], \(b.map(\.skuID))::int8[], \(b.map(\.bin))::text[],
                            \(b.map(\.units))::int8[], \(b.map(\.shipmentID))::int8[], \(b.map(\.pickListID))::int8[],
                            \(b.map(\.source.rawValue))::text[])
                    AS u(warehouse_id, sku_id, bin, units, shipment_id, list_id, source)
            ), money AS (
                UPDATE orders SET cancelled_minor = \(plan.cancelledMinor), updated_at = orderly_now() WHERE id = \(same: orderID)
            ), job AS (
                \(Self.cancelPendingPicks(orderID: orderID)) AND \(plan.nothingOpen)::bool
            )
            SELECT coalesce(sum(units), 0)::int8 FROM cut
            """
        )
    }
}

public import LibPQ
public import OrderlyCore

/// The SQL of `ORDER EDIT`: the order's lines, totals and address rewritten, and the reservations
/// the edit gives back released, in one statement (the routing that follows is the reservation's).
extension OrderStore {
    /// Writes the edit: reservations cut (reserved -= units, ledger `release` noted as an edit, the
    /// lines' reserved units down), lines set to their new quantities and totals (a removed line keeps
    /// 0 units), new lines inserted, backordered units capped at what is still open, the order's
    /// subtotal, total, released share, address and service level set. The stock rows must be locked
    /// first. Rows: (line id, SKU code) of every line of the order.
    public func applyEdit(
        orderID: Int64,
        _ edit: OrderEdit.Result,
        skuIDs: [String: Int64],
        releases: [UnitCancellation.ReservationCut],
        subtotalMinor: Int64,
        totalMinor: Int64,
        cancelledMinor: Int64
    ) -> PostgresQuery<[String: Int64]> {
        let (old, new) = (edit.lines.filter { $0.lineID != nil }, edit.lines.filter { $0.lineID == nil })
        let to = edit.shipTo
        let r = releases
        return PostgresQuery(
            """
            WITH cut AS (
                SELECT * FROM unnest(\(r.map(\.reservationID))::int8[], \(r.map(\.orderLineID))::int8[],
                                     \(r.map(\.warehouseID))::int8[], \(r.map(\.skuID))::int8[], \(r.map(\.units))::int8[])
                    AS u(reservation_id, order_line_id, warehouse_id, sku_id, units)
            ), res AS (
                UPDATE reservations r
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
                SELECT warehouse_id, sku_id, -units, 'release', 'edited', \(same: orderID), \(actor) FROM per_row
            ), line AS (
                UPDATE order_lines ol
                SET quantity = u.quantity, line_total_minor = ol.unit_price_minor * u.quantity,
                    quantity_reserved = ol.quantity_reserved - coalesce(c.units, 0),
                    quantity_backordered = least(ol.quantity_backordered,
                        u.quantity - ol.quantity_cancelled - (ol.quantity_reserved - coalesce(c.units, 0)))
                FROM unnest(\(old.map { $0.lineID ?? 0 })::int8[], \(old.map(\.quantity))::int8[]) AS u(id, quantity)
                LEFT JOIN (SELECT order_line_id, sum(units)::int8 AS units FROM cut GROUP BY 1) c ON c.order_line_id = u.id
                WHERE ol.id = u.id AND ol.order_id = \(same: orderID)
                RETURNING ol.id, ol.sku_id
            ), added AS (
                INSERT INTO order_lines (order_id, line_no, sku_id, quantity, unit_price_minor, line_total_minor)
                SELECT \(same: orderID), n.line_no, n.sku_id, n.quantity, n.price, n.price * n.quantity
                FROM unnest(\(new.map { Int64($0.lineNo) })::int8[], \(new.map { skuIDs[$0.sku] ?? 0 })::int8[],
                            \(new.map(\.quantity))::int8[], \(new.map(\.unitPriceMinor))::int8[])
                    AS n(line_no, sku_id, quantity, price)
                RETURNING id, sku_id
            ), promise AS (
                -- Routed again from scratch: the new plan's promises replace every old one.
                DELETE FROM delivery_promises WHERE order_id = \(same: orderID) AND \(edit.reroutesAll)::bool
            ), ord AS (
                UPDATE orders
                SET subtotal_minor = \(subtotalMinor), total_minor = \(totalMinor), cancelled_minor = \(cancelledMinor),
                    ship_name = \(to.name), ship_line1 = \(to.line1), ship_line2 = \(to.line2), ship_city = \(to.city),
                    ship_region = \(to.region), ship_postal_code = \(to.postalCode), ship_country = \(to.country),
                    ship_latitude = \(to.location?.latitude), ship_longitude = \(to.location?.longitude),
                    service_level = \(edit.serviceLevel), updated_at = orderly_now()
                WHERE id = \(same: orderID)
            )
            SELECT x.id, s.code FROM (SELECT id, sku_id FROM line UNION ALL SELECT id, sku_id FROM added) x
            JOIN skus s ON s.id = x.sku_id
            """
        ) { rows in
            var ids: [String: Int64] = [:]
            for row in rows { ids[try row.decode(String.self, at: 1)] = try row.decode(Int64.self, at: 0) }
            return ids
        }
    }

    /// The order's parcels not cancelled, oldest first (what stops an edit).
    public func liveParcels(orderID: Int64) -> PostgresQuery<[(id: Int64, status: ShipmentStatus)]> {
        .rows("SELECT id, status FROM shipments WHERE order_id = \(orderID) AND status <> 'cancelled' ORDER BY id") {
            (try $0.decode(Int64.self, at: 0), try $0.decode(ShipmentStatus.self, at: 1))
        }
    }

    /// The order's active reservations (what an edit may give back), without their parcels.
    public func activeReservations(orderID: Int64) -> PostgresQuery<[CancellableReservation]> {
        .rows(
            """
            SELECT id, order_line_id, warehouse_id, sku_id, quantity::int8 FROM reservations
            WHERE order_id = \(orderID) AND status = 'active' ORDER BY id
            """
        ) { row in
            let (id, line, warehouse, sku, quantity) = try row.decode((Int64, Int64, Int64, Int64, Int64).self)
            return CancellableReservation(
                reservationID: id,
                orderLineID: line,
                warehouseID: warehouse,
                skuID: sku,
                quantity: quantity
            )
        }
    }

    /// How many `event` events the order has.
    public func eventCount(orderID: Int64, event: String) -> PostgresQuery<Int64> {
        .scalar("SELECT count(*) FROM order_events WHERE order_id = \(orderID) AND event = \(event)")
    }
}

public import LibPQ
public import OrderlyCore

/// A reservation no live shipment carries yet: what a pick job turns into a shipment.
public struct UnshippedReservation: Hashable, Sendable {
    public var reservationID: Int64
    public var orderLineID: Int64
    public var skuID: Int64
    public var skuCode: String
    public var quantity: Int64
    public var bin: String?
    public var zone: String?
}

/// A shipment just created for reservations: its id, and its line for each reservation.
public struct NewShipment: Hashable, Sendable {
    public var id: Int64
    public var lineOfReservation: [Int64: Int64]
}

/// A shipment and its lines as the fulfillment steps read them (under the order's lock).
public struct ShipmentRecord: Hashable, Sendable {
    public var id: Int64
    public var orderID: Int64
    public var warehouseID: Int64
    public var status: ShipmentStatus
    public var trackingNumber: String?
    public var carrierCode: String?
    public var service: String?
    public var weightGrams: Int64?
    /// Its warehouse hands parcels over by scan and the carrier has not taken it yet.
    public var awaitingHandover: Bool = false
    /// Labelled and paid for: it may leave (set when it waits for the carrier).
    public var ready: Bool = false
    public var lines: [ShipmentLineRecord]
}

public struct ShipmentLineRecord: Hashable, Sendable {
    public var id: Int64
    public var orderLineID: Int64
    public var skuID: Int64
    public var reservationID: Int64?
    public var quantity: Int64
    /// Confirmed on completed pick lists (what packing finds).
    public var picked: Int64
    public var packed: Int64
    public var unitWeightGrams: Int64
    /// The reservation's state: it must be active with `quantity` units until the shipment ships.
    public var reservationActive: Bool
    public var reservationQuantity: Int64
}

/// A pick list line as a picker confirms it.
public struct PickListLineRecord: Hashable, Sendable {
    public var id: Int64
    public var shipmentID: Int64
    public var shipmentLineID: Int64
    public var skuID: Int64
    public var skuCode: String
    public var bin: String?
    public var zone: String?
    public var sequence: Int
    public var quantity: Int64
    public var picked: Int64
    /// The SKU's units are told apart by serial (the picker records each one that leaves).
    public var serialTracked: Bool = false
}

public struct PickListRecord: Hashable, Sendable {
    public var id: Int64
    public var warehouseID: Int64
    public var method: PickMethod
    public var zone: String?
    public var status: PickListStatus
    public var lines: [PickListLineRecord]
}

/// The SQL of picking, packing, labelling, shipping and delivery. Every step runs under the order's
/// row lock (taken first, as everywhere), and inventory rows are locked in (warehouse_id, sku_id) order.
public struct FulfillmentStore: Sendable {
    public let actor: String

    public init(actor: String) { self.actor = actor }

    // MARK: Reading

    public func warehouse(_ connection: PostgresConnection, id: Int64) throws -> WarehouseFulfillment? {
        try connection.run(warehouse(id))
    }

    public func warehouse(_ id: Int64) -> PostgresQuery<WarehouseFulfillment?> {
        PostgresQuery(
            """
            SELECT id, code, country::text, name, address_line1, address_line2, city, region, postal_code,
                   pick_method, pick_confirmation = 'scanner', batch_size, batch_window_seconds
            FROM warehouses WHERE id = \(id)
            """ as PostgresStatement,
            decode: Self.decodeWarehouse
        )
    }

    static func decodeWarehouse(_ rows: PostgresRows) throws -> WarehouseFulfillment? {
        guard let row = rows.first else { return nil }
        return WarehouseFulfillment(
            id: try row.decode(Int64.self, at: 0),
            code: try row.decode(String.self, at: 1),
            country: try row.decode(String.self, at: 2),
            addressLines: [
                try row.decode(String.self, at: 3), try row.decode(String.self, at: 4),
                try row.decode(String?.self, at: 5) ?? "",
                [try row.decode(String?.self, at: 8), try row.decode(String.self, at: 6)].compactMap { $0 }
                    .joined(separator: " "),
                [try row.decode(String?.self, at: 7), try row.decode(String.self, at: 2)].compactMap { $0 }
                    .joined(separator: " "),
            ].filter { !$0.isEmpty },
            pickMethod: try row.decode(PickMethod.self, at: 9),
            scannerConfirmation: try row.decode(Bool.self, at: 10),
            batchSize: Int(try row.decode(Int32.self, at: 11)),
            batchWindowSeconds: Int(try row.decode(Int32.self, at: 12))
        )
    }

    /// The order's active reservations at a warehouse that no live shipment carries, locked (take the
    /// order's lock first). Rows: see `decodeUnshipped`.
    public func unshippedReservations(orderID: Int64, warehouseID: Int64) -> PostgresQuery<[UnshippedReservation]> {
        PostgresQuery(
            """
            SELECT r.id, r.order_line_id, r.sku_id, s.code, r.quantity, i.bin_location, i.zone
            FROM reservations r
            JOIN skus s ON s.id = r.sku_id
            JOIN inventory i ON i.warehouse_id = r.warehouse_id AND i.sku_id = r.sku_id
            WHERE r.order_id = \(orderID) AND r.warehouse_id = \(warehouseID) AND r.status = 'active'
              AND NOT EXISTS (
                  SELECT 1 FROM shipment_lines sl JOIN shipments sh ON sh.id = sl.shipment_id
                  WHERE sl.reservation_id = r.id AND sh.status <> 'cancelled')
            ORDER BY r.id
            FOR UPDATE OF r
            """ as PostgresStatement,
            decode: Self.decodeUnshipped
        )
    }

    static func decodeUnshipped(_ rows: PostgresRows) throws -> [UnshippedReservation] {
        try rows.map { row in
            UnshippedReservation(
                reservationID: try row.decode(Int64.self, at: 0),
                orderLineID: try row.decode(Int64.self, at: 1),
                skuID: try row.decode(Int64.self, at: 2),
                skuCode: try row.decode(String.self, at: 3),
                quantity: try row.decode(Int64.self, at: 4),
                bin: try row.decode(String?.self, at: 5),
                zone: try row.decode(String?.self, at: 6)
            )
        }
    }

    static func shipmentStatement(_ id: Int64) -> PostgresStatement {
        """
        SELECT sh.id, sh.order_id, sh.warehouse_id, sh.status, sh.tracking_number, c.code, sh.service,
               sh.weight_grams::int8, w.handover = 'scan' AND sh.handed_over_at IS NULL, sh.ready_at IS NOT NULL
        FROM shipments sh LEFT JOIN carriers c ON c.id = sh.carrier_id JOIN warehouses w ON w.id = sh.warehouse_id
        WHERE sh.id = \(id)
        FOR UPDATE OF sh
        """
    }

    static func shipmentLinesStatement(_ id: Int64) -> PostgresStatement {
        """
        SELECT sl.id, sl.order_line_id, sl.sku_id, sl.reservation_id, sl.quantity::int8,
               coalesce((SELECT sum(pl.quantity_picked) FROM pick_list_lines pl JOIN pick_lists p ON p.id = pl.pick_list_id
                         WHERE pl.shipment_line_id = sl.id AND p.status = 'completed'), 0)::int8,
               sl.quantity_packed::int8, s.weight_grams::int8,
               coalesce(r.status = 'active', false), coalesce(r.quantity, 0)::int8
        FROM shipment_lines sl
        JOIN skus s ON s.id = sl.sku_id
        LEFT JOIN reservations r ON r.id = sl.reservation_id
        WHERE sl.shipment_id = \(id)
        ORDER BY sl.id
        """
    }

    /// The shipment (row locked) and its lines; run after the order's lock.
    public func shipment(_ id: Int64) -> PostgresQuery<ShipmentRecord?> {
        PostgresQuery(
            statements: [
                Self.shipmentStatement(id),
                Self.shipmentLinesStatement(id),
            ]
        ) { results in try Self.decodeShipment(results[0], lines: results[1]) }
    }

    static func decodeShipment(_ shipment: PostgresRows, lines: PostgresRows) throws -> ShipmentRecord? {
        guard let row = shipment.first else { return nil }
        return ShipmentRecord(
            id: try row.decode(Int64.self, at: 0),
            orderID: try row.decode(Int64.self, at: 1),
            warehouseID: try row.decode(Int64.self, at: 2),
            status: try row.decode(ShipmentStatus.self, at: 3),
            trackingNumber: try row.decode(String?.self, at: 4),
            carrierCode: try row.decode(String?.self, at: 5),
            service: try row.decode(String?.self, at: 6),
            weightGrams: try row.decode(Int64?.self, at: 7),
            awaitingHandover: try row.decode(Bool.self, at: 8),
            ready: try row.decode(Bool.self, at: 9),
            lines: try lines.map { line in
                ShipmentLineRecord(
                    id: try line.decode(Int64.self, at: 0),
                    orderLineID: try line.decode(Int64.self, at: 1),
                    skuID: try line.decode(Int64.self, at: 2),
                    reservationID: try line.decode(Int64?.self, at: 3),
                    quantity: try line.decode(Int64.self, at: 4),
                    picked: try line.decode(Int64.self, at: 5),
                    packed: try line.decode(Int64.self, at: 6),
                    unitWeightGrams: try line.decode(Int64.self, at: 7),
                    reservationActive: try line.decode(Bool.self, at: 8),
                    reservationQuantity: try line.decode(Int64.self, at: 9)
                )
            }
        )
    }

    /// The order a shipment belongs to; nil when there is no such shipment.
    public func orderID(_ connection: PostgresConnection, shipmentID: Int64) throws -> Int64? {
        try connection.query("SELECT order_id FROM shipments WHERE id = \(shipmentID)" as PostgresStatement)
            .first?.decode(Int64.self, at: 0)
    }

    /// Statuses of the order's shipments other than `except`.
    public func otherShipmentStatuses(
        _ connection: PostgresConnection,
        orderID: Int64,
        except shipmentID: Int64
    ) throws -> [ShipmentStatus] {
        try connection.query(
            "SELECT status FROM shipments WHERE order_id = \(orderID) AND id <> \(shipmentID) ORDER BY id"
                as PostgresStatement
        ).map { try $0.decode(ShipmentStatus.self, at: 0) }
    }

    // MARK: Picking

    /// A shipment in `picking` for the reservations, one line each. Rows: (shipment id, line id,
    /// reservation id), in reservation order.
    public func createShipment(
        orderID: Int64,
        warehouseID: Int64,
        reservationIDs: [Int64]
    ) -> PostgresQuery<NewShipment?> {
        PostgresQuery(
            """
            WITH sh AS (
                INSERT INTO shipments (order_id, warehouse_id, status) VALUES (\(same: orderID), \(warehouseID), 'picking') RETURNING id
            ), line AS (
                INSERT INTO shipment_lines (shipment_id, order_line_id, sku_id, reservation_id, quantity)
                SELECT sh.id, r.order_line_id, r.sku_id, r.id, r.quantity
                FROM sh, reservations r WHERE r.id = ANY(\(reservationIDs)::int8[]) AND r.order_id = \(same: orderID)
                ORDER BY r.id
                RETURNING shipment_id, id, reservation_id
            )
            SELECT shipment_id, id, reservation_id FROM line ORDER BY reservation_id
            """ as PostgresStatement,
            decode: Self.decodeNewShipment
        )
    }

    static func decodeNewShipment(_ rows: PostgresRows) throws -> NewShipment? {
        guard let first = rows.first else { return nil }
        var lines: [Int64: Int64] = [:]
        for row in rows {
            let (_, line, reservation) = try row.decode((Int64, Int64, Int64).self)
            lines[reservation] = lines[reservation] ?? line
        }
        return NewShipment(id: try first.decode(Int64.self, at: 0), lineOfReservation: lines)
    }

    /// The warehouse's batch list still gathering shipments, locked, with how many it holds.
    /// Row: (list id, shipments), or none. Take `lockBatching` first.
    public func openBatch(warehouseID: Int64) -> PostgresQuery<(id: Int64, shipments: Int64)?> {
        PostgresQuery(
            """
            SELECT p.id,
                   (SELECT count(DISTINCT sl.shipment_id) FROM pick_list_lines pl
                    JOIN shipment_lines sl ON sl.id = pl.shipment_line_id WHERE pl.pick_list_id = p.id)::int8
            FROM pick_lists p
            WHERE p.warehouse_id = \(warehouseID) AND p.method = 'batch' AND p.status = 'open'
            ORDER BY p.id LIMIT 1
            FOR UPDATE
            """ as PostgresStatement,
            decode: { rows in
                try rows.first.map { try $0.decode((Int64, Int64).self) }.map { (id: $0.0, shipments: $0.1) }
            }
        )
    }

    /// Serializes batching at a warehouse (its row, FOR NO KEY UPDATE, which foreign-key checks pass),
    /// so two pick jobs never both open a new batch. Taken after the order's lock.
    public func lockBatching(warehouseID: Int64) -> PostgresStatement {
        "SELECT id FROM warehouses WHERE id = \(warehouseID) FOR NO KEY UPDATE" as PostgresStatement
    }

    /// Inserts the items as pick lines of the list in the CTE `list(id)`, with their walk positions.
    private static func insertPickLines(_ items: [(sequence: Int, item: PickItem)]) -> PostgresStatement {
        let (lines, skus) = (items.map(\.item.shipmentLineID), items.map(\.item.skuID))
        let (bins, sequences, quantities) = (
            items.map { $0.item.bin?.description }, items.map { Int64($0.sequence) }, items.map(\.item.quantity)
        )
        return """
            INSERT INTO pick_list_lines (pick_list_id, shipment_line_id, sku_id, bin_location, walk_sequence, quantity)
            SELECT l.id, u.line, u.sku, u.bin, u.seq, u.qty
            FROM list l, unnest(\(lines)::int8[], \(skus)::int8[], \(bins)::text[], \(sequences)::int8[],
                                \(quantities)::int8[]) AS u(line, sku, bin, seq, qty)
            """
    }

    /// A new pick list with its items (status `open` for a gathering batch, `in_progress` for one
    /// being walked), in one statement. Row: its id.
    public func createPickList(
        warehouseID: Int64,
        method: PickMethod,
        zone: String?,
        open: Bool,
        items: [(sequence: Int, item: PickItem)]
    ) -> PostgresQuery<Int64> {
        .scalar(
            """
            WITH list AS (
                INSERT INTO pick_lists (warehouse_id, method, zone, status, walked_at)
                VALUES (\(warehouseID), \(method.rawValue), \(zone), CASE WHEN \(same: open)::bool THEN 'open' ELSE 'in_progress' END,
                        CASE WHEN \(same: open)::bool THEN NULL ELSE orderly_now() END)
                RETURNING id
            ), lines AS (
                \(Self.insertPickLines(items))
            )
            SELECT id FROM list
            """
        )
    }

    /// Appends items to an existing pick list with their walk positions.
    public func addPickLines(listID: Int64, items: [(sequence: Int, item: PickItem)]) -> PostgresStatement {
        "WITH list AS (SELECT \(listID)::int8 AS id)\n\(Self.insertPickLines(items))"
    }

    /// A pick list and its lines, the list locked.
    public func pickList(_ id: Int64) -> PostgresQuery<PickListRecord?> {
        PostgresQuery(statements: [
            "SELECT id, warehouse_id, method, zone, status FROM pick_lists WHERE id = \(id) FOR UPDATE"
                as PostgresStatement,
            """
            SELECT pl.id, sl.shipment_id, pl.shipment_line_id, s.code, pl.bin_location, i.zone,
                   pl.walk_sequence, pl.quantity::int8, pl.quantity_picked::int8, pl.sku_id, s.serial_tracked
            FROM pick_list_lines pl
            JOIN shipment_lines sl ON sl.id = pl.shipment_line_id
            JOIN shipments sh ON sh.id = sl.shipment_id
            JOIN skus s ON s.id = pl.sku_id
            LEFT JOIN inventory i ON i.warehouse_id = sh.warehouse_id AND i.sku_id = pl.sku_id
            WHERE pl.pick_list_id = \(id)
            ORDER BY pl.walk_sequence, pl.id
            """ as PostgresStatement,
        ]) { results in try Self.decodePickList(results[0], lines: results[1]) }
    }

    static func decodePickList(_ list: PostgresRows, lines: PostgresRows) throws -> PickListRecord? {
        guard let row = list.first else { return nil }
        return PickListRecord(
            id: try row.decode(Int64.self, at: 0),
            warehouseID: try row.decode(Int64.self, at: 1),
            method: try row.decode(PickMethod.self, at: 2),
            zone: try row.decode(String?.self, at: 3),
            status: try row.decode(PickListStatus.self, at: 4),
            lines: try lines.map { line in
                PickListLineRecord(
                    id: try line.decode(Int64.self, at: 0),
                    shipmentID: try line.decode(Int64.self, at: 1),
                    shipmentLineID: try line.decode(Int64.self, at: 2),
                    skuID: try line.decode(Int64.self, at: 9),
                    skuCode: try line.decode(String.self, at: 3),
                    bin: try line.decode(String?.self, at: 4),
                    zone: try line.decode(String?.self, at: 5),
                    sequence: Int(try line.decode(Int32.self, at: 6)),
                    quantity: try line.decode(Int64.self, at: 7),
                    picked: try line.decode(Int64.self, at: 8),
                    serialTracked: try line.decode(Bool.self, at: 10)
                )
            }
        )
    }

    /// A gathered batch starts its walk: lines renumbered in walk order, the list in progress.
    public func walkBatch(listID: Int64, lineIDs: [Int64]) -> PostgresStatement {
        """
        WITH seq AS (
            UPDATE pick_list_lines pl SET walk_sequence = u.n
            FROM unnest(\(lineIDs)::int8[]) WITH ORDINALITY AS u(id, n)
            WHERE pl.id = u.id AND pl.pick_list_id = \(same: listID)
        )
        UPDATE pick_lists SET status = 'in_progress', walked_at = orderly_now() WHERE id = \(same: listID) AND status = 'open'
        """ as PostgresStatement
    }

    /// Records what was picked per line (lines not given were picked in full: empty arrays confirm a
    /// whole list without reading it) and completes the list, if it is being walked; then every
    /// shipment on it whose lists are all completed (zone picking consolidates) moves from `picking`
    /// to `picked` and gets its pack job. Rows: the shipments that became picked, with their orders.
    public func confirmPickList(listID: Int64, lineIDs: [Int64], picked: [Int64]) -> PostgresQuery<[Int64]> {
        PostgresQuery(
            """
            WITH confirm AS (
                UPDATE pick_list_lines pl SET quantity_picked = coalesce(u.picked, pl.quantity)
                FROM pick_list_lines x
                LEFT JOIN unnest(\(lineIDs)::int8[], \(picked)::int8[]) AS u(id, picked) ON u.id = x.id
                WHERE pl.id = x.id AND x.pick_list_id = \(same: listID)
                  AND EXISTS (SELECT 1 FROM pick_lists WHERE id = \(same: listID) AND status IN ('open', 'in_progress'))
            ), list AS (
                UPDATE pick_lists SET status = 'completed', completed_at = orderly_now()
                WHERE id = \(same: listID) AND status IN ('open', 'in_progress')
                RETURNING id
            ), candidates AS (
                SELECT DISTINCT sl.shipment_id FROM pick_list_lines pl
                JOIN shipment_lines sl ON sl.id = pl.shipment_line_id
                WHERE pl.pick_list_id = \(same: listID) AND EXISTS (SELECT 1 FROM list)
            ), ready AS (
                UPDATE shipments sh SET status = 'picked', updated_at = orderly_now()
                FROM candidates c
                WHERE sh.id = c.shipment_id AND sh.status = 'picking'
                  AND NOT EXISTS (
                      SELECT 1 FROM shipment_lines sl
                      JOIN pick_list_lines pl ON pl.shipment_line_id = sl.id
                      JOIN pick_lists p ON p.id = pl.pick_list_id
                      WHERE sl.shipment_id = sh.id AND p.id <> \(same: listID) AND p.status <> 'completed')
                RETURNING sh.id, sh.order_id
            ), pack AS (
                SELECT \(unescaped: Self.enqueuePacks) FROM ready
            )
            SELECT id, order_id FROM ready WHERE (SELECT count(*) FROM pack) >= 0 ORDER BY id
            """ as PostgresStatement,
            decode: { rows in try rows.map { try $0.decode(Int64.self, at: 0) } }
        )
    }

    // The jobs these statements enqueue (JobQueue.enqueueSQL: the kinds' definitions, one SQL function).
    static let enqueuePacks = JobQueue.enqueueSQL(
        Jobs.Pack.self,
        argsSQL: "array_agg(jsonb_build_object('order_id', order_id, 'shipment_id', id) ORDER BY id)",
        keysSQL: "array_agg('pack:shipment:' || id ORDER BY id)",
        prioritySQL: "min(orderly_order_job_priority(order_id))"
    )
    static func enqueueLabel(orderID: Int64, shipmentID: Int64) -> PostgresStatement {
        JobQueue.enqueueSQL(
            Jobs.Label.self,
            args: "ARRAY[jsonb_build_object('order_id', \(orderID)::int8, 'shipment_id', \(shipmentID)::int8)]",
            keys: "ARRAY['label:shipment:' || \(shipmentID)::int8]",
            priority: "orderly_order_job_priority(\(orderID)::int8)"
        )
    }
    static func enqueueReroute(orderID: Int64, shipmentID: Int64) -> PostgresStatement {
        JobQueue.enqueueSQL(
            Jobs.Reroute.self,
            args: "ARRAY[jsonb_build_object('order_id', \(orderID)::int8, 'shipment_id', \(shipmentID)::int8)]",
            keys: "ARRAY['reroute:order:' || \(orderID)::int8]",
            priority: "orderly_order_job_priority(\(orderID)::int8)"
        )
    }
    static let enqueueCapture = JobQueue.enqueueSQL(
        Jobs.Capture.self,
        argsSQL: "array_agg(jsonb_build_object('order_id', order_id, 'shipment_id', id))",
        keysSQL: "array_agg('capture:shipment:' || id)",
        prioritySQL: "min(orderly_order_job_priority(order_id))"
    )

    static let enqueueShip = JobQueue.enqueueSQL(
        Jobs.Ship.self,
        argsSQL: "array_agg(jsonb_build_object('order_id', order_id, 'shipment_id', id))",
        keysSQL: "array_agg('ship:shipment:' || id)",
        prioritySQL: "min(orderly_order_job_priority(order_id))"
    )

    // MARK: Serials

    /// The serials that leave, per pick list line's shipment line. A serial already out (not come
    /// back) is refused by the schema (`shipment_serials_out`).
    public func recordSerials(_ rows: [(shipmentLineID: Int64, serial: String)]) -> PostgresStatement {
        """
        INSERT INTO shipment_serials (shipment_line_id, order_id, sku_id, serial, recorded_by)
        SELECT sl.id, sh.order_id, sl.sku_id, u.serial, \(actor)
        FROM unnest(\(rows.map(\.shipmentLineID))::int8[], \(rows.map(\.serial))::text[]) AS u(line, serial)
        JOIN shipment_lines sl ON sl.id = u.line JOIN shipments sh ON sh.id = sl.shipment_id
        """
    }

    // MARK: Handover

    /// The parcel may leave (labelled, its capture done) but waits for the carrier to take it.
    public func markReady(shipmentID: Int64) -> PostgresStatement {
        "UPDATE shipments SET ready_at = coalesce(ready_at, orderly_now()), updated_at = orderly_now() WHERE id = \(shipmentID)"
    }

    /// The carrier took the parcel.
    public func handedOver(shipmentID: Int64) -> PostgresStatement {
        """
        UPDATE shipments SET handed_over_at = coalesce(handed_over_at, orderly_now()), updated_at = orderly_now()
        WHERE id = \(shipmentID)
        """
    }

    // MARK: Put-backs

    /// A put-back task done by `actor`. Row: whether it was open (nil: no such task).
    public func putBackDone(_ id: Int64) -> PostgresQuery<Bool?> {
        .first(
            """
            WITH done AS (
                UPDATE put_backs SET status = 'done', done_at = orderly_now(), done_by = \(actor)
                WHERE id = \(same: id) AND status = 'open' RETURNING id
            )
            SELECT EXISTS (SELECT 1 FROM done) FROM put_backs WHERE id = \(same: id)
            """
        ) { try $0.decode(Bool.self, at: 0) }
    }

    // MARK: Packing

    /// Locks the inventory rows of a shipment's SKUs at its warehouse, in (warehouse_id, sku_id) order.
    public func lockShipmentStock(warehouseID: Int64, skuIDs: [Int64]) -> PostgresStatement {
        """
        SELECT on_hand, reserved FROM inventory
        WHERE warehouse_id = \(warehouseID) AND sku_id = ANY(\(skuIDs.sorted())::int8[])
        ORDER BY warehouse_id, sku_id FOR UPDATE
        """ as PostgresStatement
    }

    /// Packing: each line's packed units are what was picked. Units short of the line were not on the
    /// shelf: they leave on_hand and reserved (ledger `lost`, noted as a short pick), the reservation
    /// shrinks to what was picked (or is released), and the order line's reserved units go down, so
    /// routing sees them open again. The shipment is packed with its weight, or cancelled if nothing
    /// was picked. Row: units short.
    public func pack(shipment: ShipmentRecord, weightGrams: Int64) -> PostgresQuery<Int64> {
        let lines = shipment.lines
        let (ids, orderLines, skus) = (lines.map(\.id), lines.map(\.orderLineID), lines.map(\.skuID))
        let (reservations, quantities, picked) = (
            lines.map { $0.reservationID ?? 0 }, lines.map(\.quantity), lines.map(\.picked)
        )
        let (order, warehouse) = (shipment.orderID, shipment.warehouseID)
        return .scalar(
            """
            WITH u AS (
                SELECT * FROM unnest(\(ids)::int8[], \(orderLines)::int8[], \(skus)::int8[], \(reservations)::int8[],
                                     \(quantities)::int8[], \(picked)::int8[])
                    AS u(line_id, order_line_id, sku_id, reservation_id, quantity, picked)
            ), packed AS (
                UPDATE shipment_lines sl SET quantity_picked = u.picked, quantity_packed = u.picked
                FROM u WHERE sl.id = u.line_id AND sl.shipment_id = \(same: shipment.id)
            ), short AS (
                SELECT sku_id, reservation_id, order_line_id, quantity - picked AS units, picked
                FROM u WHERE picked < quantity
            ), per_row AS (
                SELECT sku_id, sum(units)::int8 AS units FROM short GROUP BY sku_id
            ), inv AS (
                UPDATE inventory i SET on_hand = i.on_hand - p.units, reserved = i.reserved - p.units, updated_at = orderly_now()
                FROM per_row p WHERE i.warehouse_id = \(same: warehouse) AND i.sku_id = p.sku_id
            ), ledger AS (
                INSERT INTO inventory_ledger (warehouse_id, sku_id, on_hand_delta, reserved_delta, reason, note,
                                              order_id, shipment_id, actor)
                SELECT \(same: warehouse), sku_id, -units, -units, 'lost', 'short pick', \(order), \(same: shipment.id), \(actor)
                FROM per_row
            ), res AS (
                UPDATE reservations r
                SET quantity = CASE WHEN s.picked > 0 THEN s.picked ELSE r.quantity END,
                    status = CASE WHEN s.picked > 0 THEN 'active' ELSE 'released' END,
                    closed_at = CASE WHEN s.picked > 0 THEN NULL ELSE orderly_now() END
                FROM short s WHERE r.id = s.reservation_id AND r.status = 'active'
            ), order_line AS (
                UPDATE order_lines l SET quantity_reserved = l.quantity_reserved - s.units
                FROM (SELECT order_line_id, sum(units)::int AS units FROM short GROUP BY 1) s
                WHERE l.id = s.order_line_id
            ), sh AS (
                UPDATE shipments SET status = CASE WHEN \(same: weightGrams)::int8 > 0 THEN 'packed' ELSE 'cancelled' END,
                    weight_grams = CASE WHEN \(same: weightGrams)::int8 > 0 THEN \(same: weightGrams)::int8 END,
                    packed_at = orderly_now(), updated_at = orderly_now()
                WHERE id = \(same: shipment.id) AND status = 'picked'
            ), label AS (
                SELECT \(Self.enqueueLabel(orderID: order, shipmentID: shipment.id)) WHERE \(same: weightGrams)::int8 > 0
            ), reroute AS (
                SELECT \(Self.enqueueReroute(orderID: order, shipmentID: shipment.id))
                WHERE EXISTS (SELECT 1 FROM short)
            )
            SELECT coalesce(sum(units), 0)::int8 FROM short
            WHERE (SELECT count(*) FROM label) + (SELECT count(*) FROM reroute) >= 0
            """ as PostgresStatement
        )
    }

    // MARK: Labelling

    /// The active rates to a destination country for a weight, with their carriers.
    public func rates(destinationCountry: String, weightGrams: Int64) -> PostgresQuery<[RateTableCarrier.Rate]> {
        PostgresQuery(
            """
            SELECT r.carrier_id, c.code, c.tracking_prefix, r.service, r.price_minor, r.currency::text,
                   r.transit_days, r.origin_warehouse_id, r.destination_zone,
                   r.min_weight_grams::int8, r.max_weight_grams::int8
            FROM shipping_rates r JOIN carriers c ON c.id = r.carrier_id
            WHERE r.active AND c.active AND r.destination_country = \(destinationCountry)
              AND r.min_weight_grams <= \(same: weightGrams) AND \(same: weightGrams) < r.max_weight_grams
            ORDER BY r.id
            """ as PostgresStatement,
            decode: { rows in try Self.decodeRates(rows, destinationCountry: destinationCountry) }
        )
    }

    static func decodeRates(_ rows: PostgresRows, destinationCountry: String) throws -> [RateTableCarrier.Rate] {
        try rows.map { row in
            RateTableCarrier.Rate(
                quote: CarrierQuote(
                    carrierID: try row.decode(Int64.self, at: 0),
                    carrierCode: try row.decode(String.self, at: 1),
                    trackingPrefix: try row.decode(String.self, at: 2),
                    service: try row.decode(String.self, at: 3),
                    priceMinor: try row.decode(Int64.self, at: 4),
                    currency: try row.decode(String.self, at: 5),
                    transitDays: Int(try row.decode(Int32.self, at: 6))
                ),
                originWarehouseID: try row.decode(Int64?.self, at: 7),
                destinationCountry: destinationCountry,
                destinationZone: try row.decode(String?.self, at: 8),
                minWeightGrams: try row.decode(Int64.self, at: 9),
                maxWeightGrams: try row.decode(Int64.self, at: 10)
            )
        }
    }

    public func nextTrackingSerial() -> PostgresQuery<Int64> {
        .scalar("SELECT nextval('tracking_serial')")
    }

    /// The label bought: carrier, service, tracking number, document and cost; the ship job.
    /// The label bought; the parcel's next job is its `capture` (the order's payment is authorized,
    /// to be captured per parcel) or its `ship`.
    public func labelled(
        shipment: ShipmentRecord,
        quote: CarrierQuote,
        label: ShippingLabel,
        captureFirst: Bool
    ) -> PostgresStatement {
        """
        WITH sh AS (
            UPDATE shipments SET status = 'labelled', carrier_id = \(quote.carrierID), service = \(quote.service), tracking_number = \(label.trackingNumber),
                label_document = \(label.document), cost_minor = \(quote.priceMinor), currency = \(quote.currency), updated_at = orderly_now()
            WHERE id = \(shipment.id) AND status = 'packed'
            RETURNING id, order_id
        )
        SELECT \(unescaped: captureFirst ? Self.enqueueCapture : Self.enqueueShip) FROM sh
        """ as PostgresStatement
    }

    // MARK: Shipping

    /// The parcel leaves: each line's packed units leave on_hand and reserved (ledger `ship`), its
    /// reservation is consumed, the order lines' shipped units go up and reserved down, the shipment is
    /// shipped. The stock rows must be locked first. Row: units shipped.
    public func ship(shipment: ShipmentRecord) -> PostgresStatement {
        let lines = shipment.lines.filter { $0.packed > 0 }
        return
            """
            WITH u AS (
                SELECT * FROM unnest(\(lines.map(\.orderLineID))::int8[], \(lines.map(\.skuID))::int8[], \(lines.map { $0.reservationID ?? 0 })::int8[], \(lines.map(\.packed))::int8[])
                    AS u(order_line_id, sku_id, reservation_id, units)
            ), per_row AS (
                SELECT sku_id, sum(units)::int8 AS units FROM u GROUP BY sku_id
            ), inv AS (
                UPDATE inventory i SET on_hand = i.on_hand - p.units, reserved = i.reserved - p.units, updated_at = orderly_now()
                FROM per_row p WHERE i.warehouse_id = \(same: shipment.warehouseID) AND i.sku_id = p.sku_id
            ), ledger AS (
                INSERT INTO inventory_ledger (warehouse_id, sku_id, on_hand_delta, reserved_delta, reason, order_id,
                                              shipment_id, actor)
                SELECT \(same: shipment.warehouseID), sku_id, -units, -units, 'ship', \(shipment.orderID), \(same: shipment.id), \(actor) FROM per_row
            ), res AS (
                UPDATE reservations r SET status = 'consumed', closed_at = orderly_now()
                FROM u WHERE r.id = u.reservation_id AND r.status = 'active'
            ), order_line AS (
                UPDATE order_lines l
                SET quantity_shipped = l.quantity_shipped + s.units, quantity_reserved = l.quantity_reserved - s.units
                FROM (SELECT order_line_id, sum(units)::int AS units FROM u GROUP BY 1) s
                WHERE l.id = s.order_line_id
            ), sh AS (
                UPDATE shipments SET status = 'shipped', shipped_at = orderly_now(), updated_at = orderly_now()
                WHERE id = \(same: shipment.id) AND status = 'labelled'
            )
            SELECT coalesce(sum(units), 0)::int8 FROM u
            """ as PostgresStatement
    }

    /// A carrier's news about a shipped parcel: delivered, delayed or lost.
    public func carrierStatus(shipmentID: Int64, status: ShipmentStatus) -> PostgresStatement {
        """
        UPDATE shipments SET status = \(same: status), updated_at = orderly_now(),
            delivered_at = CASE WHEN \(same: status) = 'delivered' THEN orderly_now() ELSE delivered_at END
        WHERE id = \(shipmentID)
        """ as PostgresStatement
    }

    /// Orders with backordered units whose SKUs now have unreserved stock in an active warehouse,
    /// oldest first.
    /// Only lines of `skuID`, when given.
    public func fillableBackorders(_ connection: PostgresConnection, skuID: Int64?, limit: Int) throws -> [Int64] {
        try connection.query(
            """
            SELECT q.order_id FROM backorder_queue q
            WHERE (\(same: skuID)::int8 IS NULL OR q.sku_id = \(same: skuID))
              AND EXISTS (SELECT 1 FROM inventory i JOIN warehouses w ON w.id = i.warehouse_id
                          WHERE i.sku_id = q.sku_id AND w.active AND i.on_hand - i.reserved > 0)
            GROUP BY q.order_id
            ORDER BY min(q.placed_at), min(q.priority_rank), q.order_id LIMIT \(Int64(limit))
            """ as PostgresStatement
        ).map { try $0.decode(Int64.self, at: 0) }
    }
}

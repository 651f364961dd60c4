public import LibPQ
public import OrderlyCore

/// An order line as a return sees it: what shipped, what is on returns already, and since when its
/// units are the customer's (the latest delivery of a parcel carrying it, else its shipment).
public struct ReturnableLine: Hashable, Sendable {
    public var orderLineID: Int64
    public var skuID: Int64
    public var skuCode: String
    public var unitPriceMinor: Int64
    public var shipped: Int64
    public var returned: Int64
    /// `YYYY-MM-DD` (UTC) the window closes, nil when nothing of the line shipped.
    public var windowCloses: String?
    public var windowOpen: Bool
    /// The warehouse its last parcel left from.
    public var warehouseID: Int64?
}

/// Units inspected in one condition (one per row for a serial).
public struct InspectedUnits: Hashable, Sendable {
    public var returnLineID: Int64
    public var orderLineID: Int64
    public var skuID: Int64
    public var units: Int64
    public var condition: ReturnCondition
    public var serial: String?
    /// What becomes of them: the condition's, or a person's decision on held units.
    public var disposition: ReturnDisposition

    public init(
        returnLineID: Int64,
        orderLineID: Int64,
        skuID: Int64,
        units: Int64,
        condition: ReturnCondition,
        serial: String?,
        disposition: ReturnDisposition? = nil
    ) {
        self.disposition = disposition ?? condition.disposition
        self.returnLineID = returnLineID
        self.orderLineID = orderLineID
        self.skuID = skuID
        self.units = units
        self.condition = condition
        self.serial = serial
    }
}

/// A return as its steps read it (locked).
public struct ReturnRecord: Hashable, Sendable {
    public var id: Int64
    public var orderID: Int64
    public var rma: String
    public var status: ReturnStatus
    public var warehouseID: Int64?
    public var lines: [Line]

    public struct Line: Hashable, Sendable {
        public var id: Int64
        public var orderLineID: Int64
        public var skuID: Int64
        public var skuCode: String
        public var quantity: Int64
        public var unitPriceMinor: Int64
        public var serialTracked: Bool
    }
}

/// The SQL of returns (sql/migrations/0018). Every step runs under the order's lock, taken first.
public struct ReturnStore: Sendable {
    public let actor: String
    public init(actor: String) { self.actor = actor }

    /// The order's lines with what may be returned of them, at the database's now and the channel's
    /// window (days).
    public func returnableLines(orderID: Int64, windowDays: Int) -> PostgresQuery<[ReturnableLine]> {
        .rows(
            """
            SELECT l.id, l.sku_id, k.code, l.unit_price_minor, l.quantity_shipped::int8, l.quantity_returned::int8,
                   to_char((d.since + make_interval(days => \(Int64(windowDays))::int4)) AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                   coalesce(d.since + make_interval(days => \(Int64(windowDays))::int4) >= orderly_now(), false), d.warehouse_id
            FROM order_lines l JOIN skus k ON k.id = l.sku_id
            LEFT JOIN LATERAL (
                SELECT max(coalesce(s.delivered_at, s.shipped_at)) AS since,
                       (array_agg(s.warehouse_id ORDER BY s.shipped_at DESC))[1] AS warehouse_id
                FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id
                WHERE sl.order_line_id = l.id AND s.shipped_at IS NOT NULL AND sl.quantity_packed > 0
            ) d ON true
            WHERE l.order_id = \(orderID) ORDER BY l.line_no
            """
        ) { row in
            ReturnableLine(
                orderLineID: try row.decode(Int64.self, at: 0),
                skuID: try row.decode(Int64.self, at: 1),
                skuCode: try row.decode(String.self, at: 2),
                unitPriceMinor: try row.decode(Int64.self, at: 3),
                shipped: try row.decode(Int64.self, at: 4),
                returned: try row.decode(Int64.self, at: 5),
                windowCloses: try row.decode(String?.self, at: 6),
                windowOpen: try row.decode(Bool.self, at: 7),
                warehouseID: try row.decode(Int64?.self, at: 8)
            )
        }
    }

    /// A return opened: its row (RMA number from its id), its lines, the lines' returned units up
    /// (the CHECK `quantity_returned <= quantity_shipped` refuses units returned twice, whoever
    /// asks), the label if one was bought, and the customer's message. Row: (id, rma).
    public func open(
        orderID: Int64,
        reason: ReturnReason,
        note: String?,
        warehouseID: Int64,
        lines: [(orderLineID: Int64, skuID: Int64, units: Int64)],
        label: (quote: CarrierQuote, label: ShippingLabel)?,
        message: OutboxMessage?
    ) -> PostgresQuery<(id: Int64, rma: String)?> {
        .first(
            """
            WITH r AS (
                INSERT INTO returns (rma_number, order_id, reason, note, warehouse_id, carrier_id, service, tracking_number,
                                     label_document, label_cost_minor, opened_by)
                VALUES ('RMA-' || lpad(nextval('return_number')::text, 8, '0'),
                        \(same: orderID), \(reason), \(note), \(warehouseID), \(label?.quote.carrierID), \(label?.quote.service),
                        \(label?.label.trackingNumber), \(label?.label.document), \(label?.quote.priceMinor), \(actor))
                RETURNING id, rma_number
            ), rl AS (
                INSERT INTO return_lines (return_id, order_line_id, sku_id, quantity)
                SELECT r.id, u.line, u.sku, u.units
                FROM r, unnest(\(lines.map(\.orderLineID))::int8[], \(lines.map(\.skuID))::int8[], \(lines.map(\.units))::int8[])
                    AS u(line, sku, units)
            ), ol AS (
                UPDATE order_lines l SET quantity_returned = l.quantity_returned + u.units
                FROM unnest(\(lines.map(\.orderLineID))::int8[], \(lines.map(\.units))::int8[]) AS u(line, units)
                WHERE l.id = u.line AND l.order_id = \(same: orderID)
            ), msg AS (
                INSERT INTO notifications (order_id, kind, recipient, subject, body, dedupe_key)
                SELECT \(same: orderID), \(message?.kind.rawValue), \(message?.recipient), \(message?.subject),
                       \(message?.body) || ' (' || r.rma_number || ')', \(message?.dedupeKey) || r.id
                FROM r WHERE \(message?.kind.rawValue)::text IS NOT NULL
            )
            SELECT id, rma_number FROM r
            """
        ) { (id: try $0.decode(Int64.self, at: 0), rma: try $0.decode(String.self, at: 1)) }
    }

    /// The order a return belongs to.
    public func orderID(returnID: Int64) -> PostgresQuery<Int64?> {
        .first("SELECT order_id FROM returns WHERE id = \(returnID)") { try $0.decode(Int64.self, at: 0) }
    }

    /// The return and its lines, the return locked (take the order's lock first).
    public func read(_ returnID: Int64) -> PostgresQuery<ReturnRecord?> {
        PostgresQuery(
            statements: [
                "SELECT id, order_id, rma_number, status, warehouse_id FROM returns WHERE id = \(returnID) FOR UPDATE",
                """
                SELECT rl.id, rl.order_line_id, rl.sku_id, k.code, rl.quantity::int8, l.unit_price_minor, k.serial_tracked
                FROM return_lines rl JOIN skus k ON k.id = rl.sku_id JOIN order_lines l ON l.id = rl.order_line_id
                WHERE rl.return_id = \(returnID) ORDER BY rl.id
                """,
            ]
        ) { results in
            guard let row = results[0].first else { return nil }
            return ReturnRecord(
                id: try row.decode(Int64.self, at: 0),
                orderID: try row.decode(Int64.self, at: 1),
                rma: try row.decode(String.self, at: 2),
                status: try row.decode(ReturnStatus.self, at: 3),
                warehouseID: try row.decode(Int64?.self, at: 4),
                lines: try results[1].map { line in
                    ReturnRecord.Line(
                        id: try line.decode(Int64.self, at: 0),
                        orderLineID: try line.decode(Int64.self, at: 1),
                        skuID: try line.decode(Int64.self, at: 2),
                        skuCode: try line.decode(String.self, at: 3),
                        quantity: try line.decode(Int64.self, at: 4),
                        unitPriceMinor: try line.decode(Int64.self, at: 5),
                        serialTracked: try line.decode(Bool.self, at: 6)
                    )
                }
            )
        }
    }

    /// The parcel arrived at `warehouseID`.
    public func received(
        _ returnID: Int64,
        warehouseID: Int64,
        message: OutboxMessage?,
        orderID: Int64
    ) -> PostgresStatement {
        """
        WITH r AS (
            UPDATE returns SET status = 'received', warehouse_id = \(warehouseID), received_at = orderly_now(), updated_at = orderly_now()
            WHERE id = \(returnID) AND status = 'open' RETURNING id
        )
        INSERT INTO notifications (order_id, kind, recipient, subject, body, dedupe_key)
        SELECT \(orderID), \(message?.kind.rawValue), \(message?.recipient), \(message?.subject), \(message?.body),
               \(message?.dedupeKey)
        FROM r WHERE \(message?.kind.rawValue)::text IS NOT NULL
        ON CONFLICT (dedupe_key) DO NOTHING
        """
    }

    /// Inspection: a row per (line, condition); units that arrived go into the warehouse's stock
    /// (ledger `return`, on_hand up) and the scrapped ones out again (ledger `scrap`); missing units
    /// leave the lines' returned count. The inventory rows must be locked first. The return is
    /// inspected.
    public func inspect(
        _ record: ReturnRecord,
        warehouseID: Int64,
        rows: [InspectedUnits],
        fraud: Bool
    ) -> PostgresStatement {
        """
        WITH u AS (
            SELECT * FROM unnest(\(rows.map(\.returnLineID))::int8[], \(rows.map(\.orderLineID))::int8[],
                                 \(rows.map(\.skuID))::int8[], \(rows.map(\.units))::int8[],
                                 \(rows.map(\.condition.rawValue))::text[],
                                 \(rows.map { fraud ? ReturnDisposition.none.rawValue : $0.disposition.rawValue })::text[],
                                 \(rows.map(\.serial))::text[])
                AS u(return_line_id, order_line_id, sku_id, units, condition, disposition, serial)
        ), ins AS (
            INSERT INTO return_inspections (return_id, return_line_id, quantity, condition, disposition, warehouse_id,
                                            inspected_by, serial)
            SELECT \(same: record.id), return_line_id, units, condition, disposition, \(same: warehouseID), \(same: actor),
                   serial
            FROM u
        ), arrived AS (
            SELECT sku_id, sum(units)::int8 AS units FROM u WHERE disposition IN ('restock', 'scrap') GROUP BY sku_id
        ), scrapped AS (
            SELECT sku_id, sum(units)::int8 AS units FROM u WHERE disposition = 'scrap' GROUP BY sku_id
        ), stock AS (
            INSERT INTO inventory (warehouse_id, sku_id, on_hand)
            SELECT \(same: warehouseID), a.sku_id, a.units - coalesce(s.units, 0) FROM arrived a LEFT JOIN scrapped s USING (sku_id)
            ON CONFLICT (warehouse_id, sku_id) DO UPDATE SET on_hand = inventory.on_hand + EXCLUDED.on_hand, updated_at = orderly_now()
        ), ledger AS (
            INSERT INTO inventory_ledger (warehouse_id, sku_id, on_hand_delta, reason, order_id, return_id, actor, note)
            SELECT \(same: warehouseID), sku_id, units, 'return', \(same: record.orderID), \(same: record.id), \(same: actor),
                   \(same: record.rma) FROM arrived
            UNION ALL
            SELECT \(same: warehouseID), sku_id, -units, 'scrap', \(same: record.orderID), \(same: record.id), \(same: actor),
                   \(same: record.rma) || ' inspected damaged or defective' FROM scrapped
        ), missing AS (
            UPDATE order_lines l SET quantity_returned = l.quantity_returned - m.units
            FROM (SELECT order_line_id, sum(units)::int AS units FROM u WHERE condition IN ('missing', 'wrong_item')
                  AND NOT \(same: fraud)::bool GROUP BY 1) m
            WHERE l.id = m.order_line_id
        ), serial_back AS (
            UPDATE shipment_serials s SET returned_at = orderly_now(), return_id = \(same: record.id)
            FROM u WHERE u.disposition IN ('restock', 'scrap') AND s.order_id = \(same: record.orderID)
              AND s.sku_id = u.sku_id AND s.serial = u.serial AND s.returned_at IS NULL
        ), alert AS (
            SELECT \(Self.enqueueFraud(orderID: record.orderID, returnID: record.id)) WHERE \(same: fraud)::bool
        ), retry AS (
            SELECT \(unescaped: InventoryStore.enqueueRetrySQL)
            FROM (SELECT DISTINCT sku_id FROM u WHERE disposition = 'restock') x
            WHERE EXISTS (SELECT 1 FROM order_lines b WHERE b.sku_id = x.sku_id AND b.quantity_backordered > 0)
        )
        UPDATE returns SET status = CASE WHEN \(same: fraud)::bool THEN 'fraud_review' ELSE 'inspected' END,
            inspected_at = orderly_now(), updated_at = orderly_now()
        WHERE id = \(same: record.id) AND status = 'received' AND (SELECT count(*) FROM retry) + (SELECT count(*) FROM alert) >= 0
        """
    }

    /// The units of a return that arrived (not missing), by order line.
    public func arrivedUnits(_ returnID: Int64) -> PostgresQuery<[Int64: Int64]> {
        PostgresQuery(
            """
            SELECT rl.order_line_id, sum(i.quantity)::int8 FROM return_inspections i
            JOIN return_lines rl ON rl.id = i.return_line_id
            WHERE i.return_id = \(returnID) AND \(unescaped: Self.cameBack) GROUP BY 1
            """ as PostgresStatement
        ) { rows in
            var units: [Int64: Int64] = [:]
            for row in rows { units[try row.decode(Int64.self, at: 0)] = try row.decode(Int64.self, at: 1) }
            return units
        }
    }

    /// Units that came back on the order's other inspected returns, by order line.
    public func returnedUnits(orderID: Int64, excluding returnID: Int64) -> PostgresQuery<[Int64: Int64]> {
        PostgresQuery(
            """
            SELECT rl.order_line_id, sum(i.quantity)::int8 FROM return_inspections i
            JOIN return_lines rl ON rl.id = i.return_line_id JOIN returns r ON r.id = i.return_id
            WHERE r.order_id = \(orderID) AND r.id <> \(returnID)
              AND \(unescaped: Self.cameBack) GROUP BY 1
            """ as PostgresStatement
        ) { rows in
            var units: [Int64: Int64] = [:]
            for row in rows { units[try row.decode(Int64.self, at: 0)] = try row.decode(Int64.self, at: 1) }
            return units
        }
    }

    /// Refund without return: every unit `kept`, the return inspected at once (no stock moves).
    public func kept(_ returnID: Int64) -> PostgresStatement {
        """
        WITH ins AS (
            INSERT INTO return_inspections (return_id, return_line_id, quantity, condition, disposition, warehouse_id,
                                            inspected_by)
            SELECT r.id, rl.id, rl.quantity, 'kept', 'none', r.warehouse_id, \(actor)
            FROM returns r JOIN return_lines rl ON rl.return_id = r.id WHERE r.id = \(same: returnID)
        )
        UPDATE returns SET status = 'inspected', keep_item = true, received_at = orderly_now(), inspected_at = orderly_now(),
            updated_at = orderly_now()
        WHERE id = \(same: returnID) AND status = 'open'
        """
    }

    /// The return resolved by store credit of `amount`.
    public func credited(_ returnID: Int64, amount: Int64, fee: Int64) -> PostgresStatement {
        """
        UPDATE returns SET status = 'credited', resolution = 'store_credit', refund_minor = \(amount),
            restocking_fee_minor = \(fee), refunded_at = orderly_now(), updated_at = orderly_now()
        WHERE id = \(returnID) AND status = 'inspected'
        """
    }

    /// The return exchanged for `exchangeOrderID`. Row: whether it moved (an inspected return).
    public func exchanged(_ returnID: Int64, exchangeOrderID: Int64) -> PostgresQuery<Bool> {
        .scalar(
            """
            WITH r AS (
                UPDATE returns SET status = 'exchanged', resolution = 'exchange', exchange_order_id = \(exchangeOrderID),
                    exchanged_at = orderly_now(), updated_at = orderly_now()
                WHERE id = \(returnID) AND status = 'inspected' RETURNING id
            )
            SELECT count(*) = 1 FROM r
            """
        )
    }

    /// The order a return was exchanged for, if it was.
    public func exchangeOrder(_ returnID: Int64) -> PostgresQuery<Int64?> {
        .first("SELECT exchange_order_id FROM returns WHERE id = \(returnID) AND exchange_order_id IS NOT NULL") {
            try $0.decode(Int64.self, at: 0)
        }
    }

    /// Serials of `skuID` that left on the order and have not come back.
    public func serialsOut(orderID: Int64) -> PostgresQuery<[Int64: Set<String>]> {
        PostgresQuery(
            "SELECT sku_id, serial FROM shipment_serials WHERE order_id = \(orderID) AND returned_at IS NULL"
                as PostgresStatement
        ) { rows in
            var out: [Int64: Set<String>] = [:]
            for row in rows {
                out[try row.decode(Int64.self, at: 0), default: []].insert(try row.decode(String.self, at: 1))
            }
            return out
        }
    }

    static func enqueueFraud(orderID: Int64, returnID: Int64) -> PostgresStatement {
        JobQueue.enqueueSQL(
            Jobs.ReturnFraud.self,
            args: "ARRAY[jsonb_build_object('order_id', \(orderID)::int8, 'return_id', \(returnID)::int8)]",
            keys: "ARRAY['return_fraud:return:' || \(returnID)::int8]"
        )
    }

    /// Operations' alert that a return's serials did not match, once per return.
    public func fraudAlert(returnID: Int64, recipient: String, channel: String) -> PostgresStatement {
        """
        INSERT INTO notifications (order_id, kind, channel, recipient, subject, body, dedupe_key)
        SELECT r.order_id, 'return_fraud', \(channel), \(recipient), 'Return ' || r.rma_number || ' needs review',
               'The serials received on return ' || r.rma_number || ' (order ' || r.order_id
                   || ') do not match what left; nothing was restocked or refunded.',
               'return_fraud:return:' || r.id
        FROM returns r WHERE r.id = \(returnID) AND r.status = 'fraud_review'
        ON CONFLICT (dedupe_key) DO NOTHING
        """
    }

    /// An inspection row of units the customer gave back: restocked, scrapped, held or kept, but not a
    /// decision on held units (those were counted when held).
    static let cameBack =
        "(i.disposition = 'hold' OR i.disposition IN ('restock', 'scrap') AND i.condition <> 'review' OR i.condition = 'kept')"

    /// Held units of the return still to decide, by return line.
    public func held(_ returnID: Int64) -> PostgresQuery<[Int64: Int64]> {
        PostgresQuery(
            """
            SELECT return_line_id,
                   (sum(quantity) FILTER (WHERE disposition = 'hold')
                    - coalesce(sum(quantity) FILTER (WHERE condition = 'review' AND disposition <> 'hold'), 0))::int8
            FROM return_inspections WHERE return_id = \(returnID) GROUP BY 1
            """ as PostgresStatement
        ) { rows in
            var held: [Int64: Int64] = [:]
            for row in rows { held[try row.decode(Int64.self, at: 0)] = try row.decode(Int64?.self, at: 1) ?? 0 }
            return held
        }
    }

    /// The order's shipping charge (a return refunds it only by policy).
    public func shipping(orderID: Int64) -> PostgresQuery<Int64> {
        .scalar("SELECT shipping_minor FROM orders WHERE id = \(orderID)")
    }

    /// The return refunded: its amounts, and the refund job with the return's key.
    public func refunded(
        _ returnID: Int64,
        orderID: Int64,
        refund: Int64,
        fee: Int64,
        job: PostgresStatement?
    ) -> PostgresStatement {
        """
        WITH r AS (
            UPDATE returns SET status = 'refunded', refund_minor = \(refund), restocking_fee_minor = \(fee), resolution = 'refund',
                refunded_at = orderly_now(), updated_at = orderly_now()
            WHERE id = \(returnID) AND status = 'inspected' RETURNING id
        )
        SELECT count(*) FROM r
        """
    }
}

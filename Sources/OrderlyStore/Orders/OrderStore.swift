import Foundation
import LibPQ
import OrderlyCore

/// The SQL of orders: capture, locks, the reservation write, releases and moves. Each function builds
/// statements for the caller's transaction, so services can pipeline them: round trips are the cost
/// that matters here, and a statement that needs no answer before the next never waits for one.
public struct OrderStore: Sendable {
    public let actor: String

    public init(actor: String) {
        self.actor = actor
    }

    // MARK: Capture

    /// What the captured order's lines start with: units reserved, backordered, cancelled (per line,
    /// in line order). Zero for an order that is only captured.
    public struct LineStart: Sendable {
        public var reserved: [Int64]
        public var backordered: [Int64]
        public var cancelled: [Int64]

        public init(reserved: [Int64], backordered: [Int64], cancelled: [Int64]) {
            self.reserved = reserved
            self.backordered = backordered
            self.cancelled = cancelled
        }

        public static func none(_ order: ValidatedOrder) -> LineStart {
            let zeros = Array(repeating: Int64(0), count: order.lines.count)
            return LineStart(reserved: zeros, backordered: zeros, cancelled: zeros)
        }
    }

    /// The capture's CTEs (`new_order`, `line`, `event`, `payment`), parameters $1...$44: the order with
    /// its status, lines, events in order and payment row, unless (channel, external id) exists, in
    /// which case every CTE is empty.
    private static let captureCTEs = """
        new_order AS (
            INSERT INTO orders (
                channel, external_id, status, hold_reason, currency, subtotal_minor, shipping_minor, tax_minor,
                discount_minor, total_minor, payment_status, email, ship_name, ship_line1, ship_line2, ship_city,
                ship_region, ship_postal_code, ship_country, ship_latitude, ship_longitude, billing_country,
                risk_score, review_requested, routing_strategy)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                    $22, $23, $24, $44)
            ON CONFLICT (channel, external_id) DO NOTHING
            RETURNING id
        ), line AS (
            INSERT INTO order_lines (
                order_id, line_no, sku_id, quantity, unit_price_minor, line_total_minor, quantity_reserved,
                quantity_backordered, quantity_cancelled)
            SELECT o.id, l.line_no, l.sku_id, l.quantity, l.price, l.total, l.reserved, l.backordered, l.cancelled
            FROM new_order o,
                unnest($25::int8[], $26::int8[], $27::int8[], $28::int8[], $29::int8[], $41::int8[], $42::int8[],
                       $43::int8[])
                AS l(line_no, sku_id, quantity, price, total, reserved, backordered, cancelled)
            RETURNING order_id, id, sku_id
        ), event AS (
            INSERT INTO order_events (order_id, event, from_status, to_status, actor, reason, data)
            SELECT o.id, e.event, e.from_status, e.to_status, $30, e.reason, e.data::jsonb
            FROM new_order o, unnest($31::text[], $32::text[], $33::text[], $34::text[], $35::text[])
                WITH ORDINALITY AS e(event, from_status, to_status, reason, data, n)
            ORDER BY e.n
        ), payment AS (
            INSERT INTO payments (order_id, kind, status, amount_minor, currency, provider, provider_ref, error)
            SELECT o.id, $36, $37, $10, $5, $38, $39, $40 FROM new_order o WHERE $37::text IS NOT NULL
        )
        """

    private static let insertOrderSQL = "WITH " + captureCTEs + "\nSELECT id AS order_id FROM new_order"

    private static let placeSQL =
        "WITH " + captureCTEs
        + ", target AS (SELECT id FROM new_order), target_line AS (SELECT id, sku_id FROM line),\n"
        + reservationCTEs(from: 45) + "\nSELECT id AS order_id FROM new_order"

    private static let reserveSQL = """
        WITH target AS (SELECT $1::int8 AS id),
        target_line AS (SELECT id, sku_id FROM order_lines WHERE order_id = $1),
        """ + reservationCTEs(from: 2) + "\nSELECT (SELECT count(*) FROM moved) AS moved"

    private func captureBindings(
        _ order: ValidatedOrder,
        status: OrderStatus,
        holdReason: HoldReason?,
        payment: PaymentVerdict?,
        paymentStatus: PaymentStatus,
        events: [OrderMove],
        lines: LineStart,
        strategy: String?
    ) -> [any PostgresEncodable] {
        let o = order.order
        let paymentKind = payment?.status == .captured ? "capture" : "authorization"
        let paymentRowStatus: String? = payment.map {
            switch $0.status {
            case .authorized, .captured: "succeeded"
            case .pending: "pending"
            default: "failed"
            }
        }
        return [
            o.channel.rawValue, o.externalID, status.rawValue, holdReason?.rawValue, order.currency.code,
            order.subtotalMinor, o.shippingMinor, o.taxMinor, o.discountMinor, order.totalMinor,
            paymentStatus.rawValue, o.email, o.shipTo.name, o.shipTo.line1, o.shipTo.line2, o.shipTo.city,
            o.shipTo.region, o.shipTo.postalCode, o.shipTo.country, o.shipTo.location?.latitude,
            o.shipTo.location?.longitude, o.billingCountry, o.riskScore.map { Int64($0) }, o.reviewRequested,
            order.lines.map { Int64($0.lineNo) }, order.lines.map(\.sku.id), order.lines.map(\.quantity),
            order.lines.map(\.unitPriceMinor), order.lines.map(\.lineTotalMinor),
            actor, events.map(\.event), events.map { $0.from?.rawValue }, events.map(\.to.rawValue),
            events.map(\.reason), events.map(\.data),
            paymentKind, paymentRowStatus, payment?.provider, payment?.reference, payment?.message,
            lines.reserved, lines.backordered, lines.cancelled, strategy,
        ]
    }

    /// Captures an order without reserving anything (held, rejected, or captured for later routing).
    /// Returns no rows when (channel, external id) exists (the caller reads the first order instead).
    /// Row: (order_id).
    public func insertOrder(
        _ order: ValidatedOrder,
        status: OrderStatus,
        holdReason: HoldReason?,
        payment: PaymentVerdict?,
        paymentStatus: PaymentStatus,
        events: [OrderMove],
        lines: LineStart? = nil
    ) -> PostgresStatement {
        PostgresStatement.cached(
            Self.insertOrderSQL,
            captureBindings(
                order,
                status: status,
                holdReason: holdReason,
                payment: payment,
                paymentStatus: paymentStatus,
                events: events,
                lines: lines ?? .none(order),
                strategy: nil
            )
        )
    }

    /// Capture and reservation in one statement: the order is inserted as it ends up (its status, the
    /// lines' reserved and backordered units, its capture and reservation events), so nothing is
    /// inserted and then updated. The inventory rows must be locked first. Returns no rows when
    /// (channel, external id) exists: then nothing was written. Row: (order_id).
    public func place(
        _ order: ValidatedOrder,
        payment: PaymentVerdict?,
        paymentStatus: PaymentStatus,
        events: [OrderMove],
        lines: LineStart,
        write: ReservationWrite
    ) -> PostgresStatement {
        PostgresStatement.cached(
            Self.placeSQL,
            captureBindings(
                order,
                status: events.last?.to ?? .received,
                holdReason: nil,
                payment: payment,
                paymentStatus: paymentStatus,
                events: events,
                lines: lines,
                strategy: write.strategy
            ) + reservationBindings(write)
        )
    }

    /// The order with this channel id (the first capture of it).
    public func orderID(_ connection: PostgresConnection, channel: SalesChannel, externalID: String) throws -> Int64? {
        let rows = try connection.query(
            "SELECT id FROM orders WHERE channel = $1 AND external_id = $2",
            [channel.rawValue, externalID]
        )
        return rows.isEmpty ? nil : try rows[0].decode(Int64.self, at: 0)
    }

    // MARK: Reading and locking

    /// The order and its lines; `lock` takes the order's row lock first (every change to an order, its
    /// lines or its reservations holds it, and takes it before any inventory row).
    public func orderStatements(_ id: Int64, lock: Bool) -> [PostgresStatement] {
        [
            PostgresStatement.cached(lock ? OrderRecord.lockQuery : OrderRecord.readQuery, [id]),
            PostgresStatement.cached(OrderRecord.lineQuery, [id]),
        ]
    }

    public func decodeOrder(_ order: PostgresRows, lines: PostgresRows) throws -> OrderRecord? {
        guard let row = order.first else { return nil }
        return try OrderRecord.decode(row, lines: lines)
    }

    public func order(_ connection: PostgresConnection, id: Int64) throws -> OrderRecord? {
        let results = try connection.pipeline(orderStatements(id, lock: false))
        return try decodeOrder(results[0], lines: results[1])
    }

    /// Locks the given inventory rows in (warehouse_id, sku_id) order, as everywhere in Orderly, and
    /// reads them under the lock.
    public func lockStock(_ rows: [(warehouseID: Int64, skuID: Int64)]) -> PostgresStatement {
        let sorted = rows.sorted { ($0.warehouseID, $0.skuID) < ($1.warehouseID, $1.skuID) }
        return PostgresStatement.cached(
            """
            SELECT warehouse_id, sku_id, on_hand, reserved, safety_stock FROM inventory
            WHERE (warehouse_id, sku_id) IN (SELECT * FROM unnest($1::int8[], $2::int8[]))
            ORDER BY warehouse_id, sku_id
            FOR UPDATE
            """,
            [sorted.map(\.warehouseID), sorted.map(\.skuID)]
        )
    }

    /// Locks, in order, the inventory rows under the order's active reservations (all, or only those
    /// that have expired).
    public func lockReservedStock(orderID: Int64, expiredOnly: Bool) -> PostgresStatement {
        PostgresStatement.cached(
            """
            SELECT warehouse_id, sku_id, on_hand, reserved, safety_stock FROM inventory
            WHERE (warehouse_id, sku_id) IN (
                SELECT warehouse_id, sku_id FROM reservations
                WHERE order_id = $1 AND status = 'active' AND (NOT $2::bool OR expires_at <= now()))
            ORDER BY warehouse_id, sku_id
            FOR UPDATE
            """,
            [orderID, expiredOnly]
        )
    }

    public func decodeStock(_ rows: PostgresRows) throws -> [LockedStock] {
        try rows.map { row in
            LockedStock(
                warehouseID: try row.decode(Int64.self, at: 0),
                skuID: try row.decode(Int64.self, at: 1),
                onHand: try row.decode(Int64.self, at: 2),
                reserved: try row.decode(Int64.self, at: 3),
                safetyStock: Int64(try row.decode(Int32.self, at: 4))
            )
        }
    }

    // MARK: Writing

    /// The reservation's CTEs, for the order in `target(id)` with lines `target_line(id, sku_id)`;
    /// parameters numbered from `first` (see `reservationBindings`): reserved += units, ledger rows, a
    /// low-stock job where a row fell to its reorder point, the routing decision, the reservation rows,
    /// the lines' reserved and backordered units and the order's move with its event (both skipped
    /// when given none), the first fulfillment jobs (a pick per warehouse of the plan; the worker's
    /// pick builds the shipments) and the customer's message.
    private static func reservationCTEs(from first: Int) -> String {
        func p(_ n: Int) -> String { "$\(first + n - 1)" }
        return """
            alloc AS (
                SELECT a.warehouse_id, a.sku_id, tl.id AS order_line_id, a.quantity
                FROM unnest(\(p(2))::int8[], \(p(3))::int8[], \(p(4))::int8[]) AS a(warehouse_id, sku_id, quantity)
                JOIN target_line tl ON tl.sku_id = a.sku_id
            ), inv AS (
                UPDATE inventory i SET reserved = i.reserved + a.quantity, updated_at = now()
                FROM alloc a WHERE i.warehouse_id = a.warehouse_id AND i.sku_id = a.sku_id
                RETURNING i.warehouse_id, i.sku_id, i.on_hand, i.reserved, i.reorder_point
            ), ledger AS (
                INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, order_id, actor)
                SELECT a.warehouse_id, a.sku_id, a.quantity, 'reserve', t.id, \(p(1)) FROM alloc a, target t
            ), low_stock AS (
                INSERT INTO jobs (queue, kind, args, unique_key)
                SELECT 'alerts', 'low_stock', jsonb_build_object('warehouse_id', warehouse_id, 'sku_id', sku_id),
                       'low_stock:' || warehouse_id || ':' || sku_id
                FROM inv WHERE on_hand - reserved <= reorder_point
                ON CONFLICT (unique_key)
                    WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable')
                DO NOTHING
            ), decision AS (
                INSERT INTO routing_decisions (order_id, strategy, rule, candidates, plan, attempt)
                SELECT t.id, \(p(5)), \(p(6)), \(p(7))::jsonb, \(p(8))::jsonb, \(p(9)) FROM target t
                RETURNING id, order_id
            ), reservation AS (
                INSERT INTO reservations (order_id, order_line_id, warehouse_id, sku_id, quantity, decision_id, expires_at)
                SELECT d.order_id, a.order_line_id, a.warehouse_id, a.sku_id, a.quantity, d.id,
                       now() + make_interval(secs => \(p(10))::int8)
                FROM alloc a, decision d
            ), line_update AS (
                UPDATE order_lines l
                SET quantity_reserved = l.quantity_reserved + coalesce(a.quantity, 0),
                    quantity_backordered = b.units
                FROM unnest(\(p(11))::int8[], \(p(12))::int8[]) AS b(id, units)
                LEFT JOIN (SELECT order_line_id, sum(quantity) AS quantity FROM alloc GROUP BY 1) a
                    ON a.order_line_id = b.id
                WHERE l.id = b.id AND l.order_id = (SELECT id FROM target)
            ), moved AS (
                UPDATE orders SET status = \(p(14)), routing_strategy = \(p(5)), updated_at = now()
                WHERE id = (SELECT id FROM target) AND status = \(p(13)) AND \(p(15))::text IS NOT NULL
                RETURNING id
            ), move_event AS (
                INSERT INTO order_events (order_id, event, from_status, to_status, actor, reason, data)
                SELECT id, \(p(15)), \(p(13)), \(p(14)), \(p(1)), \(p(16)), \(p(17))::jsonb FROM moved
            ), pick AS (
                INSERT INTO jobs (queue, kind, args, unique_key)
                SELECT 'fulfillment', 'pick',
                       jsonb_build_object('order_id', d.order_id, 'warehouse_id', w.warehouse_id, 'decision_id', d.id),
                       'pick:order:' || d.order_id || ':decision:' || d.id || ':warehouse:' || w.warehouse_id
                FROM (SELECT DISTINCT warehouse_id FROM alloc) w, decision d
                WHERE \(p(18))::bool
            ), message AS (
                INSERT INTO notifications (order_id, kind, recipient, subject, body, dedupe_key)
                SELECT t.id, \(p(19)), \(p(20)), \(p(21)), \(p(22)), \(p(23)) || t.id FROM target t
                WHERE \(p(19))::text IS NOT NULL
                ON CONFLICT (dedupe_key) DO NOTHING
            )
            """
    }

    private func reservationBindings(_ write: ReservationWrite) -> [any PostgresEncodable] {
        let a = write.allocations
        return [
            actor, a.map(\.warehouseID), a.map(\.skuID), a.map(\.quantity),
            write.strategy, write.rule, write.candidatesJSON, write.planJSON, Int64(write.attempt),
            write.expiresInSeconds, write.backordered.map(\.lineID), write.backordered.map(\.units),
            write.move?.from?.rawValue, write.move?.to.rawValue, write.move?.event, write.move?.reason,
            write.move?.data ?? "{}", write.enqueuePicks, write.message?.kind.rawValue, write.message?.recipient,
            write.message?.subject, write.message?.body, write.message?.dedupeKey,
        ]
    }

    /// Step 2's writes for an order already captured, in one statement (see `reservationCTEs`).
    /// Row: (moved): 1 when the order made its move.
    public func reserve(_ write: ReservationWrite) -> PostgresStatement {
        PostgresStatement.cached(
            Self.reserveSQL,
            [write.orderID] + reservationBindings(write)
        )
    }

    /// Releases the order's active reservations (all, or the expired ones): reservation rows closed as
    /// `released` or `expired`, reserved -= units with ledger rows, the lines' reserved units down.
    /// The rows must be locked first (`lockReservedStock`). Row: units released.
    public func release(orderID: Int64, expiredOnly: Bool) -> PostgresStatement {
        PostgresStatement.cached(
            """
            WITH gone AS (
                UPDATE reservations SET status = $3, closed_at = now()
                WHERE order_id = $1 AND status = 'active' AND (NOT $2::bool OR expires_at <= now())
                RETURNING order_line_id, warehouse_id, sku_id, quantity
            ), per_row AS (
                SELECT warehouse_id, sku_id, sum(quantity)::int8 AS quantity FROM gone GROUP BY 1, 2
            ), inv AS (
                UPDATE inventory i SET reserved = i.reserved - p.quantity, updated_at = now()
                FROM per_row p WHERE i.warehouse_id = p.warehouse_id AND i.sku_id = p.sku_id
            ), ledger AS (
                INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, order_id, actor)
                SELECT warehouse_id, sku_id, -quantity, $4, $1, $5 FROM per_row
            ), line AS (
                UPDATE order_lines l SET quantity_reserved = l.quantity_reserved - g.quantity
                FROM (SELECT order_line_id, sum(quantity)::int AS quantity FROM gone GROUP BY 1) g
                WHERE l.id = g.order_line_id
            )
            SELECT coalesce(sum(quantity), 0)::int8 FROM per_row
            """,
            [orderID, expiredOnly, expiredOnly ? "expired" : "released", expiredOnly ? "expire" : "release", actor]
        )
    }

    /// What cancelling does besides releasing: lines cancelled, open shipments cancelled, pending pick
    /// jobs cancelled. Row: shipments cancelled.
    public func cancelRest(orderID: Int64) -> PostgresStatement {
        PostgresStatement.cached(
            """
            WITH line AS (
                UPDATE order_lines SET quantity_cancelled = quantity - quantity_shipped, quantity_backordered = 0
                WHERE order_id = $1
            ), ship AS (
                UPDATE shipments SET status = 'cancelled', updated_at = now()
                WHERE order_id = $1 AND status IN ('planned', 'picking', 'picked', 'packed', 'labelled')
                RETURNING id
            ), job AS (
                UPDATE jobs SET state = 'cancelled', completed_at = now()
                WHERE (args->>'order_id')::int8 = $1 AND args ? 'order_id' AND kind = 'pick'
                  AND state IN ('available', 'scheduled', 'retryable')
            )
            SELECT count(*) FROM ship
            """,
            [orderID]
        )
    }

    /// Once payment is secured (for the first time): reservations stop expiring, and each active
    /// reservation's (decision, warehouse) gets its pick job, as the reservation would have enqueued.
    public func paymentSecured(orderID: Int64) -> PostgresStatement {
        PostgresStatement.cached(
            """
            WITH keep AS (
                UPDATE reservations SET expires_at = NULL WHERE order_id = $1 AND status = 'active'
                RETURNING decision_id, warehouse_id
            )
            INSERT INTO jobs (queue, kind, args, unique_key)
            SELECT DISTINCT 'fulfillment', 'pick',
                   jsonb_build_object('order_id', $1::int8, 'warehouse_id', warehouse_id, 'decision_id', decision_id),
                   'pick:order:' || $1 || ':decision:' || decision_id || ':warehouse:' || warehouse_id
            FROM keep
            ON CONFLICT (unique_key)
                WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable')
            DO NOTHING
            """,
            [orderID]
        )
    }

    /// Records a payment event and the order's new payment status.
    public func recordPayment(
        orderID: Int64,
        currency: CurrencyCode,
        amountMinor: Int64,
        verdict: PaymentVerdict
    )
        -> PostgresStatement
    {
        let kind = verdict.status == .captured ? "capture" : verdict.status == .voided ? "void" : "authorization"
        let rowStatus =
            switch verdict.status {
            case .authorized, .captured, .voided: "succeeded"
            case .pending: "pending"
            default: "failed"
            }
        return PostgresStatement.cached(
            """
            WITH row AS (
                INSERT INTO payments (order_id, kind, status, amount_minor, currency, provider, provider_ref, error)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            )
            UPDATE orders SET payment_status = $9, updated_at = now() WHERE id = $1
            """,
            [
                orderID, kind, rowStatus, amountMinor, currency.code, verdict.provider, verdict.reference,
                verdict.message, verdict.status.rawValue,
            ]
        )
    }

    /// Checks a move statement's result: its order was moved (it was still in the move's `from`).
    public static func expectMoved(_ rows: PostgresRows, _ orderID: Int64) throws {
        guard rows.count == 1 else {
            throw OrderlyError(.conflict, "order \(orderID) changed status under its lock")
        }
    }

    /// A status move and its event row; `holdReason` is set on hold and cleared otherwise (the schema
    /// requires a reason exactly while held). Row: the event id, or no row if the order was not in
    /// `move.from` (the caller holds the order's lock, so that means a bug, and it throws).
    public func move(orderID: Int64, _ move: OrderMove, holdReason: HoldReason?) -> PostgresStatement {
        PostgresStatement.cached(
            """
            WITH moved AS (
                UPDATE orders SET status = $3, hold_reason = $4, updated_at = now()
                WHERE id = $1 AND status = $2
                RETURNING id
            )
            INSERT INTO order_events (order_id, event, from_status, to_status, actor, reason, data)
            SELECT id, $5, $2, $3, $6, $7, $8::jsonb FROM moved
            RETURNING id
            """,
            [
                orderID, move.from?.rawValue, move.to.rawValue, holdReason?.rawValue, move.event, actor, move.reason,
                move.data,
            ]
        )
    }

    /// A customer message for the outbox, once per dedupe key.
    public func enqueueMessage(orderID: Int64, _ message: OutboxMessage) -> PostgresStatement {
        PostgresStatement.cached(
            """
            INSERT INTO notifications (order_id, kind, recipient, subject, body, dedupe_key)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING
            """,
            [orderID, message.kind.rawValue, message.recipient, message.subject, message.body, message.dedupeKey]
        )
    }

    /// Orders whose unpaid reservations have run out, oldest first.
    public func expiredOrders(_ connection: PostgresConnection, limit: Int) throws -> [Int64] {
        try connection.query(
            """
            SELECT DISTINCT r.order_id FROM reservations r JOIN orders o ON o.id = r.order_id
            WHERE r.status = 'active' AND r.expires_at <= now() AND o.payment_status NOT IN ('authorized', 'captured')
            ORDER BY r.order_id LIMIT $1
            """,
            [Int64(limit)]
        ).map { try $0.decode(Int64.self, at: 0) }
    }

    /// The order's history, oldest first.
    public func events(_ connection: PostgresConnection, orderID: Int64) throws -> [OrderEventRecord] {
        try connection.query(
            """
            SELECT id, event, from_status, to_status, actor, reason, data::text, created_at
            FROM order_events WHERE order_id = $1 ORDER BY id
            """,
            [orderID]
        ).map { row in
            OrderEventRecord(
                id: try row.decode(Int64.self, at: 0),
                event: try row.decode(String.self, at: 1),
                from: try row.decode(String?.self, at: 2),
                to: try row.decode(String.self, at: 3),
                actor: try row.decode(String.self, at: 4),
                reason: try row.decode(String?.self, at: 5),
                data: try row.decode(String.self, at: 6),
                at: try row.decode(Date.self, at: 7)
            )
        }
    }
}

extension OrderStore {
    /// The status an order was in when a `hold_fulfillment` event last held it.
    public func statusBeforeFulfillmentHold(_ connection: PostgresConnection, orderID: Int64) throws -> OrderStatus? {
        let rows = try connection.query(
            PostgresStatement.cached(
                """
                SELECT from_status FROM order_events WHERE order_id = $1 AND event = 'hold_fulfillment'
                ORDER BY id DESC LIMIT 1
                """,
                [orderID]
            )
        )
        return try rows.first.flatMap { try $0.decode(String?.self, at: 0) }.flatMap(OrderStatus.init(rawValue:))
    }
}

extension OrderStore {
    /// Everything `OrderWaits` needs to say what an order waits for, in one statement; nil when the
    /// order does not exist.
    public func waitFacts(_ connection: PostgresConnection, orderID: Int64) throws -> OrderWaitFacts? {
        try decodeWaitFacts(connection.query(waitFactsStatement(orderID: orderID)), orderID: orderID)
    }

    /// The statement behind `waitFacts`, to ride in a pipeline with other reads.
    public func waitFactsStatement(orderID: Int64) -> PostgresStatement {
        PostgresStatement.cached(
            """
            SELECT 'order' AS fact, o.status AS a, o.hold_reason AS b, o.payment_status AS c, NULL::int8 AS n
            FROM orders o WHERE o.id = $1
            UNION ALL
            SELECT 'hold_note', e.reason, NULL, NULL, NULL FROM (
                SELECT reason FROM order_events WHERE order_id = $1 AND to_status = 'on_hold'
                ORDER BY id DESC LIMIT 1) e
            UNION ALL
            SELECT 'backordered', s.code, NULL, NULL, l.quantity_backordered::int8
            FROM order_lines l JOIN skus s ON s.id = l.sku_id
            WHERE l.order_id = $1 AND l.quantity_backordered > 0
            UNION ALL
            SELECT 'reserved_until', to_char(min(r.expires_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   NULL, NULL, NULL
            FROM reservations r WHERE r.order_id = $1 AND r.status = 'active' AND r.expires_at IS NOT NULL
            HAVING count(*) > 0
            UNION ALL
            SELECT 'missing_rate', w.code, o.ship_country, NULL, t.grams
            FROM (SELECT r.warehouse_id, sum(r.quantity::int8 * k.weight_grams)::int8 AS grams
                  FROM reservations r JOIN skus k ON k.id = r.sku_id
                  WHERE r.order_id = $1 AND r.status = 'active' GROUP BY r.warehouse_id) t
            JOIN warehouses w ON w.id = t.warehouse_id JOIN orders o ON o.id = $1
            WHERE NOT EXISTS (
                SELECT 1 FROM shipping_rates sr
                WHERE sr.active AND sr.destination_country = o.ship_country
                  AND (sr.origin_warehouse_id IS NULL OR sr.origin_warehouse_id = t.warehouse_id)
                  AND sr.min_weight_grams <= t.grams AND t.grams < sr.max_weight_grams)
            UNION ALL
            SELECT 'job', j.kind, j.state, j.last_error, j.id FROM jobs j
            WHERE j.state IN ('available', 'scheduled', 'retryable', 'running', 'discarded')
              AND j.args ? 'order_id' AND (j.args->>'order_id')::int8 = $1
            UNION ALL
            SELECT DISTINCT 'scanner_list', w.code, NULL, NULL, pl.id
            FROM pick_lists pl JOIN warehouses w ON w.id = pl.warehouse_id
            JOIN pick_list_lines pll ON pll.pick_list_id = pl.id
            JOIN shipment_lines sl ON sl.id = pll.shipment_line_id JOIN shipments sh ON sh.id = sl.shipment_id
            WHERE sh.order_id = $1 AND pl.status = 'in_progress' AND w.pick_confirmation = 'scanner'
            UNION ALL
            SELECT 'in_transit', sh.status, c.code, sh.tracking_number, sh.id
            FROM shipments sh LEFT JOIN carriers c ON c.id = sh.carrier_id
            WHERE sh.order_id = $1 AND sh.status IN ('shipped', 'delayed')
            """,
            [orderID]
        )
    }

    public func decodeWaitFacts(_ rows: PostgresRows, orderID: Int64) throws -> OrderWaitFacts? {
        guard let head = rows.first(where: { (try? $0.decode(String.self, at: 0)) == "order" }),
            let status = OrderStatus(rawValue: try head.decode(String.self, at: 1))
        else { return nil }
        var facts = OrderWaitFacts(
            orderID: orderID,
            status: status,
            holdReason: try head.decode(String?.self, at: 2).flatMap(HoldReason.init(rawValue:)),
            paymentStatus: PaymentStatus(rawValue: try head.decode(String?.self, at: 3) ?? "") ?? .pending
        )
        for row in rows {
            let (a, b, c, n) = (
                try row.decode(String?.self, at: 1), try row.decode(String?.self, at: 2),
                try row.decode(String?.self, at: 3), try row.decode(Int64?.self, at: 4)
            )
            switch try row.decode(String.self, at: 0) {
            case "hold_note": facts.holdNote = a
            case "backordered": facts.backordered.append(.init(sku: a ?? "?", units: n ?? 0))
            case "reserved_until": facts.reservedUntil = a
            case "missing_rate": facts.missingRates.append(.init(warehouse: a ?? "?", country: b ?? "?", grams: n ?? 0))
            case "job": facts.jobs.append(.init(id: n ?? 0, kind: a ?? "?", state: b ?? "?", lastError: c))
            case "scanner_list": facts.scannerLists.append((id: n ?? 0, warehouse: a ?? "?"))
            case "in_transit":
                facts.inTransit.append(.init(shipment: n ?? 0, status: a ?? "?", carrier: b, tracking: c))
            default: break
            }
        }
        facts.jobs.sort { $0.id < $1.id }
        return facts
    }
}

import Foundation
public import LibPQ
public import OrderlyCore

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

    /// The capture's CTEs (`new_order`, `line`, `event`, `payment`): the order with its status, lines,
    /// events in order and payment row, unless (channel, external id) exists, in which case every CTE
    /// is empty.
    private func captureCTEs(
        _ order: ValidatedOrder,
        status: OrderStatus,
        holdReason: HoldReason?,
        payment: PaymentVerdict?,
        paymentStatus: PaymentStatus,
        events: [OrderMove],
        lines: LineStart,
        strategy: String?
    ) -> PostgresStatement {
        let o = order.order
        let to = o.shipTo
        // The payment as the storefront or verifier stated it; idempotent on its reference.
        let entry = payment.map { PaymentEntry(verdict: $0, amountMinor: order.totalMinor) }
        let l = order.lines
        // Paid with store credit: the balance goes down in the same statement (never below 0: the
        // account's CHECK). Only such a capture carries these CTEs; no other placement pays for them.
        let creditCTEs: PostgresStatement =
            entry?.provider == StoreCredit.provider
            ? """
            , credit AS (
                UPDATE store_credit_accounts a SET balance_minor = a.balance_minor - \(same: order.totalMinor), updated_at = orderly_now()
                FROM new_order o
                WHERE a.email = lower(\(o.email)) AND a.currency = \(same: order.currency.code)
                RETURNING a.email, o.id AS order_id
            ), credit_entry AS (
                INSERT INTO store_credit_entries (email, currency, amount_minor, reason, order_id, actor)
                SELECT email, \(same: order.currency.code), -\(same: order.totalMinor), 'order', order_id, \(same: actor)
                FROM credit WHERE \(same: order.totalMinor) > 0
            )
            """ : ""
        return """
            new_order AS (
                INSERT INTO orders (
                    channel, external_id, status, hold_reason, currency, subtotal_minor, shipping_minor, tax_minor,
                    discount_minor, total_minor, payment_status, email, ship_name, ship_line1, ship_line2, ship_city,
                    ship_region, ship_postal_code, ship_country, ship_latitude, ship_longitude, billing_country,
                    risk_score, review_requested, routing_strategy, service_level, priority, cancelled_minor)
                VALUES (\(o.channel), \(o.externalID), \(same: status), \(holdReason), \(same: order.currency.code),
                        \(order.subtotalMinor), \(o.shippingMinor), \(o.taxMinor), \(o.discountMinor),
                        \(same: order.totalMinor), \(paymentStatus.rawValue), \(o.email), \(to.name), \(to.line1), \(to.line2),
                        \(to.city), \(to.region), \(to.postalCode), \(to.country), \(to.location?.latitude),
                        \(to.location?.longitude), \(o.billingCountry), \(o.riskScore.map { Int64($0) }),
                        \(o.reviewRequested), \(strategy), \(o.serviceLevel), \((o.priority ?? .normal).rawValue),
                        CASE WHEN \(same: status) = 'cancelled' THEN \(same: order.totalMinor) ELSE 0 END)
                ON CONFLICT (channel, external_id) DO NOTHING
                RETURNING id
            ), line AS (
                INSERT INTO order_lines (
                    order_id, line_no, sku_id, quantity, unit_price_minor, line_total_minor, quantity_reserved,
                    quantity_backordered, quantity_cancelled)
                SELECT o.id, l.line_no, l.sku_id, l.quantity, l.price, l.total, l.reserved, l.backordered, l.cancelled
                FROM new_order o,
                    unnest(\(l.map { Int64($0.lineNo) })::int8[], \(l.map(\.sku.id))::int8[], \(l.map(\.quantity))::int8[],
                           \(l.map(\.unitPriceMinor))::int8[], \(l.map(\.lineTotalMinor))::int8[],
                           \(lines.reserved)::int8[], \(lines.backordered)::int8[], \(lines.cancelled)::int8[])
                    AS l(line_no, sku_id, quantity, price, total, reserved, backordered, cancelled)
                RETURNING order_id, id, sku_id
            ), event AS (
                INSERT INTO order_events (order_id, event, from_status, to_status, actor, reason, data)
                SELECT o.id, e.event, e.from_status, e.to_status, \(same: actor), e.reason, e.data::jsonb
                FROM new_order o,
                    unnest(\(events.map(\.event))::text[], \(events.map { $0.from?.rawValue })::text[],
                           \(events.map(\.to.rawValue))::text[], \(events.map(\.reason))::text[],
                           \(events.map(\.data))::text[])
                    WITH ORDINALITY AS e(event, from_status, to_status, reason, data, n)
                ORDER BY e.n
            ), payment AS (
                INSERT INTO payments (order_id, kind, status, amount_minor, currency, provider, provider_ref, error,
                                      idempotency_key, actor)
                SELECT o.id, \(entry?.kind.rawValue), \(same: entry?.outcome.rawValue), \(same: order.totalMinor),
                       \(same: order.currency.code), \(entry?.provider), \(entry?.reference), \(payment?.message),
                       \(entry?.idempotencyKey), \(same: actor)
                FROM new_order o WHERE \(same: entry?.outcome.rawValue)::text IS NOT NULL
            )\(creditCTEs)
            """
    }

    /// The new order's id; nil when (channel, external id) existed and nothing was written.
    private static func newOrderID(_ rows: PostgresRows) throws -> Int64? {
        try rows.first?.decode(Int64.self, "order_id")
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
    ) -> PostgresQuery<Int64?> {
        let capture = captureCTEs(
            order,
            status: status,
            holdReason: holdReason,
            payment: payment,
            paymentStatus: paymentStatus,
            events: events,
            lines: lines ?? .none(order),
            strategy: nil
        )
        return PostgresQuery("WITH \(capture)\nSELECT id AS order_id FROM new_order", decode: Self.newOrderID)
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
    ) -> PostgresQuery<Int64?> {
        let capture = captureCTEs(
            order,
            status: events.last?.to ?? .received,
            holdReason: nil,
            payment: payment,
            paymentStatus: paymentStatus,
            events: events,
            lines: lines,
            strategy: write.strategy
        )
        let reservation = reservationCTEs(write)
        return PostgresQuery(
            """
            WITH \(capture), target AS (SELECT id FROM new_order), target_line AS (SELECT id, sku_id FROM line),
            \(reservation)
            SELECT id AS order_id FROM new_order WHERE \(unescaped: Self.runsJobCTEs)
            """,
            decode: Self.newOrderID
        )
    }

    /// The order with this channel id (the first capture of it).
    public func orderID(_ connection: PostgresConnection, channel: SalesChannel, externalID: String) throws -> Int64? {
        try connection.run(
            .first("SELECT id FROM orders WHERE channel = \(channel.rawValue) AND external_id = \(externalID)") {
                try $0.decode(Int64.self, at: 0)
            }
        )
    }

    // MARK: Reading and locking

    /// The order and its lines, nil when there is no such order; `lock` takes the order's row lock
    /// first (every change to an order, its lines or its reservations holds it, and takes it before any
    /// inventory row).
    public func order(_ id: Int64, lock: Bool) -> PostgresQuery<OrderRecord?> {
        PostgresQuery(
            statements: [
                OrderRecord.read(id, lock: lock),
                OrderRecord.lines(id),
            ]
        ) { results in
            guard let row = results[0].first else { return nil }
            return try OrderRecord.decode(row, lines: results[1])
        }
    }

    public func order(_ connection: PostgresConnection, id: Int64) throws -> OrderRecord? {
        try connection.run(order(id, lock: false))
    }

    /// Locks the given inventory rows in (warehouse_id, sku_id) order, as everywhere in Orderly, and
    /// reads them under the lock.
    public func lockStock(_ rows: [(warehouseID: Int64, skuID: Int64)]) -> PostgresQuery<[LockedStock]> {
        let sorted = rows.sorted { ($0.warehouseID, $0.skuID) < ($1.warehouseID, $1.skuID) }
        return .rows(
            """
            SELECT warehouse_id, sku_id, on_hand, reserved, safety_stock FROM inventory
            WHERE (warehouse_id, sku_id) IN (SELECT * FROM unnest(\(sorted.map(\.warehouseID))::int8[],
                                                                  \(sorted.map(\.skuID))::int8[]))
            ORDER BY warehouse_id, sku_id
            FOR UPDATE
            """,
            Self.lockedStock
        )
    }

    /// Locks, in order, the inventory rows under the order's active reservations (all, or only those
    /// that have expired).
    public func lockReservedStock(orderID: Int64, expiredOnly: Bool) -> PostgresQuery<[LockedStock]> {
        .rows(
            """
            SELECT warehouse_id, sku_id, on_hand, reserved, safety_stock FROM inventory
            WHERE (warehouse_id, sku_id) IN (
                SELECT warehouse_id, sku_id FROM reservations
                WHERE order_id = \(orderID) AND status = 'active' AND (NOT \(expiredOnly)::bool OR expires_at <= orderly_now()))
            ORDER BY warehouse_id, sku_id
            FOR UPDATE
            """,
            Self.lockedStock
        )
    }

    static func lockedStock(_ row: PostgresRow) throws -> LockedStock {
        let (warehouseID, skuID, onHand, reserved, safetyStock) = try row.decode(
            (Int64, Int64, Int64, Int64, Int32).self
        )
        return LockedStock(
            warehouseID: warehouseID,
            skuID: skuID,
            onHand: onHand,
            reserved: reserved,
            safetyStock: Int64(safetyStock)
        )
    }

    // MARK: Writing

    // The jobs the reservation writes enqueue (JobQueue.enqueueSQL: the kinds' definitions, one SQL
    // function). Their CTEs are SELECTs, which PostgreSQL runs only when read: `runsJobCTEs` reads them
    // (a one-time filter, evaluated even when the statement returns no row).
    static let enqueueLowStock = JobQueue.enqueueSQL(
        Jobs.LowStock.self,
        argsSQL: "array_agg(jsonb_build_object('warehouse_id', warehouse_id, 'sku_id', sku_id))",
        keysSQL: "array_agg('low_stock:' || warehouse_id || ':' || sku_id)"
    )
    static func enqueuePicks(priority: OrderPriority) -> PostgresStatement {
        JobQueue.enqueueSQL(
            Jobs.Pick.self,
            args: """
                array_agg(jsonb_build_object('order_id', d.order_id, 'warehouse_id', w.warehouse_id, 'decision_id', \
                d.id) ORDER BY w.warehouse_id)
                """,
            keys: """
                array_agg('pick:order:' || d.order_id || ':decision:' || d.id || ':warehouse:' || w.warehouse_id \
                ORDER BY w.warehouse_id)
                """,
            priority: "orderly_job_priority(\(priority.rawValue))"
        )
    }
    static func enqueueHeldBackPicks(orderID: Int64) -> PostgresStatement {
        JobQueue.enqueueSQL(
            Jobs.Pick.self,
            args: """
                array_agg(jsonb_build_object('order_id', \(orderID)::int8, 'warehouse_id', k.warehouse_id, \
                'decision_id', k.decision_id) ORDER BY k.decision_id, k.warehouse_id)
                """,
            keys: """
                array_agg('pick:order:' || \(orderID) || ':decision:' || k.decision_id || ':warehouse:' \
                || k.warehouse_id ORDER BY k.decision_id, k.warehouse_id)
                """,
            priority: "orderly_order_job_priority(\(orderID)::int8)"
        )
    }
    static let runsJobCTEs = "(SELECT count(*) FROM low_stock) + (SELECT count(*) FROM pick) >= 0"

    /// The reservation's CTEs, for the order in `target(id)` with lines `target_line(id, sku_id)`;
    /// parameters numbered from `first` (see `reservationBindings`): reserved += units, ledger rows, a
    /// low-stock job where a row fell to its reorder point, the routing decision, the reservation rows,
    /// the lines' reserved and backordered units and the order's move with its event (both skipped
    /// when given none), the first fulfillment jobs (a pick per warehouse of the plan; the worker's
    /// pick builds the shipments), the parcels' delivery promises and the customer's message.
    private func reservationCTEs(_ write: ReservationWrite) -> PostgresStatement {
        let a = write.allocations
        let move = write.move
        let message = write.message
        let p = write.promises
        // Instants as microseconds since the epoch (exact, unlike a float), days as ISO text.
        func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
        return """
            alloc AS (
                SELECT a.warehouse_id, a.sku_id, tl.id AS order_line_id, a.quantity
                FROM unnest(\(a.map(\.warehouseID))::int8[], \(a.map(\.skuID))::int8[], \(a.map(\.quantity))::int8[])
                    AS a(warehouse_id, sku_id, quantity)
                JOIN target_line tl ON tl.sku_id = a.sku_id
            ), inv AS (
                UPDATE inventory i SET reserved = i.reserved + a.quantity, updated_at = orderly_now()
                FROM alloc a WHERE i.warehouse_id = a.warehouse_id AND i.sku_id = a.sku_id
                RETURNING i.warehouse_id, i.sku_id, i.on_hand, i.reserved, i.reorder_point
            ), ledger AS (
                INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, order_id, actor)
                SELECT a.warehouse_id, a.sku_id, a.quantity, 'reserve', t.id, \(same: actor) FROM alloc a, target t
            ), low_stock AS (
                SELECT \(unescaped: Self.enqueueLowStock) FROM inv WHERE on_hand - reserved <= reorder_point
            ), decision AS (
                INSERT INTO routing_decisions (order_id, strategy, rule, candidates, plan, attempt)
                SELECT t.id, \(same: write.strategy), \(write.rule), \(write.candidatesJSON)::jsonb, \(write.planJSON)::jsonb,
                       \(Int64(write.attempt))
                FROM target t
                RETURNING id, order_id
            ), reservation AS (
                INSERT INTO reservations (order_id, order_line_id, warehouse_id, sku_id, quantity, decision_id, expires_at)
                SELECT d.order_id, a.order_line_id, a.warehouse_id, a.sku_id, a.quantity, d.id,
                       orderly_now() + make_interval(secs => \(write.expiresInSeconds)::int8)
                FROM alloc a, decision d
            ), line_update AS (
                UPDATE order_lines l
                SET quantity_reserved = l.quantity_reserved + coalesce(a.quantity, 0),
                    quantity_backordered = b.units
                FROM unnest(\(write.backordered.map(\.lineID))::int8[], \(write.backordered.map(\.units))::int8[])
                    AS b(id, units)
                LEFT JOIN (SELECT order_line_id, sum(quantity) AS quantity FROM alloc GROUP BY 1) a
                    ON a.order_line_id = b.id
                WHERE l.id = b.id AND l.order_id = (SELECT id FROM target)
            ), moved AS (
                UPDATE orders SET status = \(move?.to), routing_strategy = \(same: write.strategy), updated_at = orderly_now()
                WHERE id = (SELECT id FROM target) AND status = \(same: move?.from) AND \(same: move?.event)::text IS NOT NULL
                RETURNING id, status
            ), move_event AS (
                INSERT INTO order_events (order_id, event, from_status, to_status, actor, reason, data)
                SELECT id, \(same: move?.event), \(same: move?.from), status, \(same: actor), \(move?.reason),
                       \(move?.data ?? "{}")::jsonb
                FROM moved
            ), pick AS (
                SELECT \(Self.enqueuePicks(priority: write.priority))
                FROM (SELECT DISTINCT warehouse_id FROM alloc) w, decision d
                WHERE \(write.enqueuePicks)::bool
            ), promise AS (
                INSERT INTO delivery_promises (order_id, warehouse_id, decision_id, promised_at, ship_date, ship_by,
                                               deliver_by, carrier, service)
                SELECT d.order_id, p.warehouse_id, d.id, timestamptz 'epoch' + p.promised_us * interval '1 microsecond',
                       p.ship_date::date, timestamptz 'epoch' + p.ship_by_us * interval '1 microsecond',
                       p.deliver_by::date, p.carrier, p.service
                FROM decision d,
                    unnest(\(p.map(\.warehouseID))::int8[], \(p.map { micros($0.promisedAt) })::int8[],
                           \(p.map(\.shipDate.description))::text[], \(p.map { micros($0.shipBy) })::int8[],
                           \(p.map { $0.deliverBy?.description })::text[], \(p.map(\.carrier))::text[],
                           \(p.map(\.service))::text[])
                    AS p(warehouse_id, promised_us, ship_date, ship_by_us, deliver_by, carrier, service)
                ON CONFLICT (order_id, warehouse_id) DO UPDATE
                SET decision_id = EXCLUDED.decision_id, promised_at = EXCLUDED.promised_at,
                    ship_date = EXCLUDED.ship_date, ship_by = EXCLUDED.ship_by, deliver_by = EXCLUDED.deliver_by,
                    carrier = EXCLUDED.carrier, service = EXCLUDED.service, at_risk_at = NULL
            ), message AS (
                INSERT INTO notifications (order_id, kind, recipient, subject, body, dedupe_key)
                SELECT t.id, \(same: message?.kind), \(message?.recipient), \(message?.subject), \(message?.body),
                       \(message?.dedupeKey) || t.id
                FROM target t WHERE \(same: message?.kind)::text IS NOT NULL
                ON CONFLICT (dedupe_key) DO NOTHING
            )
            """
    }

    /// Step 2's writes for an order already captured, in one statement (see `reservationCTEs`): true
    /// when the order made its move (always, when the write has one and the order's lock is held).
    public func reserve(_ write: ReservationWrite) -> PostgresQuery<Bool> {
        PostgresQuery(
            """
            WITH target AS (SELECT \(write.orderID)::int8 AS id),
            target_line AS (SELECT id, sku_id FROM order_lines WHERE order_id = (SELECT id FROM target)),
            \(reservationCTEs(write))
            SELECT (SELECT count(*) FROM moved) AS moved WHERE \(unescaped: Self.runsJobCTEs)
            """
        ) { rows in try rows.scalar(Int64.self) == 1 }
    }

    /// Releases the order's active reservations (all, or the expired ones): reservation rows closed as
    /// `released` or `expired`, reserved -= units with ledger rows, the lines' reserved units down.
    /// The rows must be locked first (`lockReservedStock`). Row: units released.
    public func release(orderID: Int64, expiredOnly: Bool) -> PostgresQuery<Int64> {
        let (status, reason) = expiredOnly ? ("expired", "expire") : ("released", "release")
        return .scalar(
            """
            WITH gone AS (
                UPDATE reservations SET status = \(status), closed_at = orderly_now()
                WHERE order_id = \(same: orderID) AND status = 'active' AND (NOT \(expiredOnly)::bool OR expires_at <= orderly_now())
                RETURNING order_line_id, warehouse_id, sku_id, quantity
            ), per_row AS (
                SELECT warehouse_id, sku_id, sum(quantity)::int8 AS quantity FROM gone GROUP BY 1, 2
            ), inv AS (
                UPDATE inventory i SET reserved = i.reserved - p.quantity, updated_at = orderly_now()
                FROM per_row p WHERE i.warehouse_id = p.warehouse_id AND i.sku_id = p.sku_id
            ), ledger AS (
                INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, order_id, actor)
                SELECT warehouse_id, sku_id, -quantity, \(reason), \(same: orderID), \(actor) FROM per_row
            ), line AS (
                UPDATE order_lines l SET quantity_reserved = l.quantity_reserved - g.quantity
                FROM (SELECT order_line_id, sum(quantity)::int AS quantity FROM gone GROUP BY 1) g
                WHERE l.id = g.order_line_id
            )
            SELECT coalesce(sum(quantity), 0)::int8 FROM per_row
            """
        )
    }

    /// What rejecting an order that never shipped does besides releasing: lines cancelled, open
    /// shipments cancelled, pending pick jobs cancelled, the whole total released. (Cancelling units
    /// by command is `cancelUnits`.) Row: shipments cancelled.
    public func cancelRest(orderID: Int64) -> PostgresQuery<Int64> {
        .scalar(
            """
            WITH line AS (
                UPDATE order_lines SET quantity_cancelled = quantity - quantity_shipped, quantity_backordered = 0
                WHERE order_id = \(same: orderID)
            ), ship AS (
                UPDATE shipments SET status = 'cancelled', updated_at = orderly_now()
                WHERE order_id = \(same: orderID) AND status IN ('planned', 'picking', 'picked', 'packed', 'labelled')
                RETURNING id
            ), job AS (
                \(Self.cancelPendingPicks(orderID: orderID))
            ), money AS (
                UPDATE orders SET cancelled_minor = total_minor WHERE id = \(same: orderID)
            )
            SELECT count(*) FROM ship
            """
        )
    }

    /// The order's pick jobs that have not run, cancelled: nothing is left for them to pick.
    static func cancelPendingPicks(orderID: Int64) -> PostgresStatement {
        """
        UPDATE jobs SET state = 'cancelled', completed_at = orderly_now()
        WHERE (args->>'order_id')::int8 = \(orderID) AND args ? 'order_id' AND kind = 'pick'
          AND state IN ('available', 'scheduled', 'retryable')
        """
    }

    /// Once payment is secured (for the first time): reservations stop expiring, and each active
    /// reservation's (decision, warehouse) gets its pick job, as the reservation would have enqueued.
    public func paymentSecured(orderID: Int64) -> PostgresStatement {
        """
        WITH keep AS (
            UPDATE reservations SET expires_at = NULL WHERE order_id = \(orderID) AND status = 'active'
            RETURNING decision_id, warehouse_id
        )
        SELECT \(Self.enqueueHeldBackPicks(orderID: orderID)) FROM (SELECT DISTINCT decision_id, warehouse_id FROM keep) k
        """
    }

    /// A status move and its event row; `holdReason` is set on hold and cleared otherwise (the schema
    /// requires a reason exactly while held). Reading it throws a conflict if the order was not in
    /// `move.from` (the caller holds the order's lock, so that means a bug).
    public func move(orderID: Int64, _ move: OrderMove, holdReason: HoldReason?) -> PostgresQuery<Void> {
        let (from, to) = (move.from?.rawValue, move.to.rawValue)
        return PostgresQuery(
            """
            WITH moved AS (
                UPDATE orders SET status = \(same: to), hold_reason = \(holdReason?.rawValue), updated_at = orderly_now()
                WHERE id = \(orderID) AND status = \(same: from)
                RETURNING id
            )
            INSERT INTO order_events (order_id, event, from_status, to_status, actor, reason, data)
            SELECT id, \(move.event), \(same: from), \(same: to), \(actor), \(move.reason), \(move.data)::jsonb FROM moved
            RETURNING id
            """
        ) { rows in
            guard rows.count == 1 else {
                throw OrderlyError(.conflict, "order \(orderID) changed status under its lock")
            }
        }
    }

    /// A customer message for the outbox, once per dedupe key.
    public func enqueueMessage(orderID: Int64, _ message: OutboxMessage) -> PostgresStatement {
        """
        INSERT INTO notifications (order_id, kind, recipient, subject, body, dedupe_key)
        VALUES (\(orderID), \(message.kind.rawValue), \(message.recipient), \(message.subject), \(message.body),
                \(message.dedupeKey))
        ON CONFLICT (dedupe_key) DO NOTHING
        """
    }

    /// Orders whose unpaid reservations have run out, oldest first.
    public func expiredOrders(_ connection: PostgresConnection, limit: Int) throws -> [Int64] {
        try connection.run(
            .rows(
                """
                SELECT DISTINCT r.order_id FROM reservations r JOIN orders o ON o.id = r.order_id
                WHERE r.status = 'active' AND r.expires_at <= orderly_now() AND o.payment_status NOT IN ('authorized', 'partially_captured', 'captured')
                ORDER BY r.order_id LIMIT \(Int64(limit))
                """
            ) { try $0.decode(Int64.self, at: 0) }
        )
    }

    /// The order's history, oldest first.
    public func events(_ connection: PostgresConnection, orderID: Int64) throws -> [OrderEventRecord] {
        try connection.query(
            """
            SELECT id, event, from_status, to_status, actor, reason, data::text, created_at
            FROM order_events WHERE order_id = \(orderID) ORDER BY id
            """ as PostgresStatement
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
            """
            SELECT from_status FROM order_events WHERE order_id = \(orderID) AND event = 'hold_fulfillment'
            ORDER BY id DESC LIMIT 1
            """ as PostgresStatement
        )
        return try rows.first.flatMap { try $0.decode(String?.self, at: 0) }.flatMap(OrderStatus.init(rawValue:))
    }
}

extension OrderStore {
    /// Everything `OrderWaits` needs to say what an order waits for, in one statement; nil when the
    /// order does not exist.
    public func waitFacts(orderID: Int64) -> PostgresQuery<OrderWaitFacts?> {
        let store = self
        return PostgresQuery(waitFactsStatement(orderID: orderID)) { rows in
            try store.decodeWaitFacts(rows, orderID: orderID)
        }
    }

    /// The statement behind `waitFacts`.
    func waitFactsStatement(orderID: Int64) -> PostgresStatement {
        """
        SELECT 'order' AS fact, o.status AS a, o.hold_reason AS b, o.payment_status AS c, NULL::int8 AS n
        FROM orders o WHERE o.id = \(same: orderID)
        UNION ALL
        SELECT 'hold_note', e.reason, NULL, NULL, NULL FROM (
            SELECT reason FROM order_events WHERE order_id = \(same: orderID) AND to_status = 'on_hold'
            ORDER BY id DESC LIMIT 1) e
        UNION ALL
        SELECT 'backordered', s.code,
               -- The arrival that reaches this line's units behind the queue's units not covered by stock.
               (SELECT min(c.expected_on)::text
                FROM (SELECT b.expected_on, sum(b.units) OVER (ORDER BY b.expected_on) AS running
                      FROM inbound_stock b WHERE b.sku_id = l.sku_id) c
                WHERE c.running >= greatest(
                    coalesce((SELECT sum(q.units) FROM backorder_queue q JOIN orders me ON me.id = l.order_id
                              WHERE q.sku_id = l.sku_id
                                AND (q.placed_at, q.priority_rank, q.order_id)
                                    < (me.placed_at, orderly_job_priority(me.priority), me.id)), 0)
                    - coalesce((SELECT sum(greatest(i.on_hand - i.reserved - i.safety_stock, 0))
                                FROM inventory i JOIN warehouses w ON w.id = i.warehouse_id
                                WHERE i.sku_id = l.sku_id AND w.active), 0), 0) + l.quantity_backordered),
               NULL, l.quantity_backordered::int8
        FROM order_lines l JOIN skus s ON s.id = l.sku_id
        WHERE l.order_id = \(same: orderID) AND l.quantity_backordered > 0
        UNION ALL
        SELECT 'reserved_until', to_char(min(r.expires_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               NULL, NULL, NULL
        FROM reservations r WHERE r.order_id = \(same: orderID) AND r.status = 'active' AND r.expires_at IS NOT NULL
        HAVING count(*) > 0
        UNION ALL
        SELECT 'missing_rate', w.code, o.ship_country, NULL, t.grams
        FROM (SELECT r.warehouse_id, sum(r.quantity::int8 * k.weight_grams)::int8 AS grams
              FROM reservations r JOIN skus k ON k.id = r.sku_id
              WHERE r.order_id = \(same: orderID) AND r.status = 'active' GROUP BY r.warehouse_id) t
        JOIN warehouses w ON w.id = t.warehouse_id JOIN orders o ON o.id = \(same: orderID)
        WHERE NOT EXISTS (
            SELECT 1 FROM shipping_rates sr
            WHERE sr.active AND sr.destination_country = o.ship_country
              AND (sr.origin_warehouse_id IS NULL OR sr.origin_warehouse_id = t.warehouse_id)
              AND sr.min_weight_grams <= t.grams AND t.grams < sr.max_weight_grams)
        UNION ALL
        SELECT 'job', j.kind, j.state, j.last_error, j.id FROM jobs j
        WHERE j.state IN ('available', 'scheduled', 'retryable', 'running', 'discarded')
          AND j.args ? 'order_id' AND (j.args->>'order_id')::int8 = \(same: orderID)
        UNION ALL
        SELECT DISTINCT 'scanner_list', w.code, NULL, NULL, pl.id
        FROM pick_lists pl JOIN warehouses w ON w.id = pl.warehouse_id
        JOIN pick_list_lines pll ON pll.pick_list_id = pl.id
        JOIN shipment_lines sl ON sl.id = pll.shipment_line_id JOIN shipments sh ON sh.id = sl.shipment_id
        WHERE sh.order_id = \(same: orderID) AND pl.status = 'in_progress' AND w.pick_confirmation = 'scanner'
        UNION ALL
        SELECT 'in_transit', sh.status, c.code, sh.tracking_number, sh.id
        FROM shipments sh LEFT JOIN carriers c ON c.id = sh.carrier_id
        WHERE sh.order_id = \(same: orderID) AND sh.status IN ('shipped', 'delayed')
        """
    }

    func decodeWaitFacts(_ rows: PostgresRows, orderID: Int64) throws -> OrderWaitFacts? {
        guard let head = try rows.first(where: { try $0.decode(String.self, at: 0) == "order" }) else { return nil }
        var facts = OrderWaitFacts(
            orderID: orderID,
            status: try head.decode(OrderStatus.self, at: 1),
            holdReason: try head.decode(HoldReason?.self, at: 2),
            paymentStatus: try head.decode(PaymentStatus.self, at: 3)
        )
        for row in rows {
            let (a, b, c, n) = (
                try row.decode(String?.self, at: 1), try row.decode(String?.self, at: 2),
                try row.decode(String?.self, at: 3), try row.decode(Int64?.self, at: 4)
            )
            switch try row.decode(String.self, at: 0) {
            case "hold_note": facts.holdNote = a
            case "backordered":
                facts.backordered.append(.init(sku: a ?? "?", units: n ?? 0, expected: b.flatMap(LocalDate.init)))
            case "reserved_until": facts.reservedUntil = a
            case "missing_rate": facts.missingRates.append(.init(warehouse: a ?? "?", country: b ?? "?", grams: n ?? 0))
            case "job":
                facts.jobs.append(
                    .init(
                        id: try row.decode(Int64.self, at: 4),
                        kind: try row.decode(String.self, at: 1),
                        state: try row.decode(JobState.self, at: 2),
                        lastError: c
                    )
                )
            case "scanner_list": facts.scannerLists.append((id: n ?? 0, warehouse: a ?? "?"))
            case "in_transit":
                facts.inTransit.append(
                    .init(
                        shipment: try row.decode(Int64.self, at: 4),
                        status: try row.decode(ShipmentStatus.self, at: 1),
                        carrier: b,
                        tracking: c
                    )
                )
            default: break
            }
        }
        facts.jobs.sort { $0.id < $1.id }
        return facts
    }
}

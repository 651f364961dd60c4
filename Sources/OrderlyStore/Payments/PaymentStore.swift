public import LibPQ
public import OrderlyCore

/// The payment ledger (`payments`, append-only), the intents in flight (`payment_intents`) and the
/// balance view. Every write here runs under the order's row lock, taken by the caller.
public struct PaymentStore: Sendable {
    public let actor: String

    public init(actor: String) {
        self.actor = actor
    }

    /// The order's balance; nil when the order does not exist.
    public static func balance(orderID: Int64) -> PostgresQuery<PaymentBalance?> {
        .first(
            """
            SELECT total_minor, authorized_minor, captured_minor, refunded_minor, voided_minor, refunding_minor,
                   capturing_minor, due_minor
            FROM order_payment_balances WHERE order_id = \(orderID)
            """
        ) { row in
            let (total, authorized, captured, refunded, voided, refunding, capturing, due) = try row.decode(
                (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self
            )
            return PaymentBalance(
                total: total,
                authorized: authorized,
                captured: captured,
                refunded: refunded,
                voided: voided,
                refunding: refunding,
                capturing: capturing,
                due: due
            )
        }
    }

    /// One ledger row, unless a row with its key exists. Row: the new row's id, nil for a replay.
    public func insert(orderID: Int64, currency: CurrencyCode, _ entry: PaymentEntry) -> PostgresQuery<Int64?> {
        .first(
            """
            INSERT INTO payments (order_id, kind, status, amount_minor, currency, provider, provider_ref, error,
                                  idempotency_key, shipment_id, actor, note)
            VALUES (\(orderID), \(entry.kind.rawValue), \(entry.outcome.rawValue), \(entry.amountMinor), \(currency.code),
                    \(entry.provider), \(entry.reference), \(entry.error), \(entry.idempotencyKey), \(entry.shipmentID),
                    \(actor), \(entry.note))
            ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id
            """
        ) { try $0.decode(Int64.self, at: 0) }
    }

    /// The order's payment status, set from its balance after a ledger write (in the same
    /// transaction, after it): `status(current:)` in SQL would repeat it, so the caller passes it.
    public func setStatus(orderID: Int64, _ status: PaymentStatus) -> PostgresStatement {
        "UPDATE orders SET payment_status = \(status.rawValue), updated_at = orderly_now() WHERE id = \(orderID)"
    }

    /// An order event that moves nothing (from = to = the order's status now).
    public func fact(orderID: Int64, _ fact: OrderFact, reason: String?, data: String = "{}") -> PostgresStatement {
        """
        INSERT INTO order_events (order_id, event, from_status, to_status, actor, reason, data)
        SELECT id, \(fact.rawValue), status, status, \(actor), \(reason), \(data)::jsonb FROM orders WHERE id = \(orderID)
        """
    }

    // MARK: Intents

    /// An intent in flight or done.
    public struct Intent: Hashable, Sendable {
        /// `payment_intents.status`.
        public enum Status: String, Hashable, Sendable {
            /// Asked, or about to be; counts against the balance.
            case open
            case settled
            /// Given up (its job was discarded, or its parcel cancelled).
            case failed
        }

        public var id: Int64
        public var operation: GatewayOperation
        public var amountMinor: Int64
        public var key: String
        public var status: Status
        public var shipmentID: Int64?
        public var reason: String?
    }

    public static func intent(key: String) -> PostgresQuery<Intent?> {
        intent(where: "idempotency_key = \(key)")
    }

    static func intent(where condition: PostgresStatement) -> PostgresQuery<Intent?> {
        .first("SELECT \(unescaped: intentColumns) FROM payment_intents WHERE \(condition)", Self.intent(_:))
    }

    static let intentColumns = "id, operation, amount_minor, idempotency_key, status, shipment_id, reason"

    static func intent(_ row: PostgresRow) throws -> Intent {
        let (id, operation, amount, key, status, shipment, reason) = try row.decode(
            (Int64, String, Int64, String, String, Int64?, String?).self
        )
        guard let operation = GatewayOperation(rawValue: operation), let status = Intent.Status(rawValue: status) else {
            throw OrderlyError(.conflict, "payment intent \(id) has operation \(operation) and status \(status)")
        }
        return Intent(
            id: id,
            operation: operation,
            amountMinor: amount,
            key: key,
            status: status,
            shipmentID: shipment,
            reason: reason
        )
    }

    /// The newest capture intent of a parcel (one that failed for good is followed by a new one).
    public static func latestCapture(shipmentID: Int64) -> PostgresQuery<Intent?> {
        intent(
            where: "shipment_id = \(shipmentID) AND operation = 'capture' ORDER BY id DESC LIMIT 1"
        )
    }

    /// The newest void intent of an order (a void settled can be followed by another: a capture in
    /// flight at the cancel that was given up).
    public static func latestVoid(orderID: Int64) -> PostgresQuery<Intent?> {
        intent(where: "order_id = \(orderID) AND operation = 'void' ORDER BY id DESC LIMIT 1")
    }

    /// The key of a new intent after `latest` (the one it follows, if any, that can no longer be asked):
    /// `base`, or `base:after:<id>`.
    public static func nextKey(_ base: String, after latest: Intent?) -> String {
        base + (latest.map { ":after:\($0.id)" } ?? "")
    }

    /// An outbox message about the order on a notification channel (email, webhook, log...).
    public func message(orderID: Int64, _ message: OutboxMessage, channel: String) -> PostgresStatement {
        """
        INSERT INTO notifications (order_id, kind, channel, recipient, subject, body, dedupe_key)
        VALUES (\(orderID), \(message.kind.rawValue), \(channel), \(message.recipient), \(message.subject),
                \(message.body), \(message.dedupeKey))
        ON CONFLICT (dedupe_key) DO NOTHING
        """
    }

    /// Writes an intent (the trigger checks the balance). Row: the intent, nil if the key exists.
    public func openIntent(
        orderID: Int64,
        operation: GatewayOperation,
        amount: Money,
        key: String,
        shipmentID: Int64?,
        reason: String?
    ) -> PostgresQuery<Intent?> {
        .first(
            """
            INSERT INTO payment_intents (order_id, shipment_id, operation, amount_minor, currency, idempotency_key,
                                         reason, actor)
            VALUES (\(orderID), \(shipmentID), \(operation.rawValue), \(amount.minorUnits), \(amount.currency.code),
                    \(key), \(reason), \(actor))
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING \(unescaped: Self.intentColumns)
            """,
            Self.intent(_:)
        )
    }

    /// Closes an open intent as settled or failed. Row count: 1 if it was open.
    public func closeIntent(key: String, failed error: String?) -> PostgresQuery<Int> {
        .command(
            """
            UPDATE payment_intents SET status = \(error == nil ? "settled" : "failed"), settled_at = orderly_now(),
                last_error = \(error)
            WHERE idempotency_key = \(key) AND status = 'open'
            """
        )
    }

    /// Records a try that failed on an open intent (it stays open for the next).
    public func intentError(key: String, error: String) -> PostgresStatement {
        """
        UPDATE payment_intents SET last_error = \(String(error.prefix(1000)))
        WHERE idempotency_key = \(key) AND status = 'open'
        """
    }

    // MARK: What a parcel's capture needs

    /// A parcel's facts for its share, read under the order's lock: its status, the value of its goods,
    /// the goods of the order's parcels already captured or being captured (with their amounts),
    /// and whether it leaves no unit of the order open.
    public struct ParcelFacts: Hashable, Sendable {
        public var shipmentStatus: ShipmentStatus
        public var parcelValue: Int64
        public var priorValue: Int64
        public var priorAmount: Int64
        public var lastParcel: Bool
        public var subtotal: Int64
        public var total: Int64
    }

    public static func parcelFacts(orderID: Int64, shipmentID: Int64) -> PostgresQuery<ParcelFacts?> {
        .first(
            """
            WITH value AS (
                SELECT sl.shipment_id, sum(ol.unit_price_minor * sl.quantity_packed)::int8 AS goods,
                       sum(sl.quantity_packed)::int8 AS units
                FROM shipment_lines sl JOIN order_lines ol ON ol.id = sl.order_line_id
                WHERE ol.order_id = \(same: orderID)
                GROUP BY sl.shipment_id
            ), prior AS (
                SELECT i.shipment_id, i.amount_minor FROM payment_intents i
                WHERE i.order_id = \(same: orderID) AND i.operation = 'capture' AND i.status <> 'failed'
                  AND i.shipment_id <> \(same: shipmentID)
            )
            SELECT s.status,
                   coalesce((SELECT goods FROM value WHERE shipment_id = s.id), 0)::int8,
                   coalesce((SELECT sum(v.goods) FROM value v JOIN prior p USING (shipment_id)), 0)::int8,
                   coalesce((SELECT sum(amount_minor) FROM prior), 0)::int8,
                   (SELECT sum(quantity - quantity_cancelled) FROM order_lines WHERE order_id = \(same: orderID))
                       = coalesce((SELECT sum(v.units) FROM value v
                                   WHERE v.shipment_id = s.id OR v.shipment_id IN (SELECT shipment_id FROM prior)), 0),
                   -- Cancelled units are never due: what is shared is what the rest owes.
                   o.subtotal_minor - (SELECT coalesce(sum(unit_price_minor * quantity_cancelled), 0)
                                       FROM order_lines WHERE order_id = \(same: orderID))::int8,
                   o.total_minor - o.cancelled_minor
            FROM shipments s JOIN orders o ON o.id = s.order_id
            WHERE s.id = \(same: shipmentID) AND s.order_id = \(same: orderID)
            """
        ) { row in
            let (status, parcel, priorValue, priorAmount, last, subtotal, total) =
                try row.decode((ShipmentStatus, Int64, Int64, Int64, Bool, Int64, Int64).self)
            return ParcelFacts(
                shipmentStatus: status,
                parcelValue: parcel,
                priorValue: priorValue,
                priorAmount: priorAmount,
                lastParcel: last,
                subtotal: subtotal,
                total: total
            )
        }
    }

    /// The reference of the order's authorization (what captures, voids and refunds draw on).
    public static func authorization(orderID: Int64) -> PostgresQuery<String?> {
        PostgresQuery<String??>.first(
            """
            SELECT provider_ref FROM payments
            WHERE order_id = \(orderID) AND kind IN ('authorization', 'capture') AND shipment_id IS NULL
              AND status = 'succeeded'
            ORDER BY id DESC LIMIT 1
            """
        ) { try $0.decode(String?.self, at: 0) }.map { $0 ?? nil }
    }

    // MARK: Reading

    /// `PAYMENT LIST order=…`: the ledger, then the intents still open or failed, oldest first.
    public static func ledger(orderID: Int64) -> PostgresQuery<[ReportRow]> {
        PostgresQuery(
            """
            SELECT 'payment' AS entry, id, kind, status, amount_minor, currency, provider, provider_ref AS reference,
                   shipment_id, idempotency_key AS key, coalesce(error, note) AS detail, created_at::text AS at
            FROM payments WHERE order_id = \(same: orderID)
            UNION ALL
            SELECT 'intent', id, operation, status, amount_minor, currency, NULL, NULL, shipment_id, idempotency_key,
                   coalesce(last_error, reason), created_at::text
            FROM payment_intents WHERE order_id = \(same: orderID) AND status <> 'settled'
            ORDER BY at, entry DESC, id
            """,
            decode: AdminQueries.rows
        )
    }
}

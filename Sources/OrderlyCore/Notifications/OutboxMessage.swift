/// Where a notification stands. Raw values are what `notifications.status` stores.
public enum NotificationStatus: String, CaseIterable, Sendable, Hashable {
    /// Waiting for the worker's outbox job to send it.
    case pending
    case sent
    /// Given up on after its attempts; an admin can resend it.
    case failed
}

/// What a notification is about. Raw values are what `notifications.kind` stores.
public enum NotificationKind: String, CaseIterable, Sendable, Hashable {
    case orderConfirmed = "order_confirmed"
    case orderShipped = "order_shipped"
    case orderDelayed = "order_delayed"
    case orderDelivered = "order_delivered"
    case orderBackordered = "order_backordered"
    case orderCancelled = "order_cancelled"
    case returnReceived = "return_received"
    case refundIssued = "refund_issued"
    case lowStock = "low_stock"
    /// An instruction for an external payment system (the recording gateway's).
    case paymentInstruction = "payment_instruction"
    /// To operations: a parcel's capture failed for good and its order is held.
    case paymentFailed = "payment_failed"
    /// To operations: a parcel was not picked by its promised ship-by.
    case promiseAtRisk = "promise_at_risk"
    /// Some units of the order were cancelled (or the order edited).
    case orderUpdated = "order_updated"
    /// A return was opened (with its label's tracking number).
    case returnOpened = "return_opened"
    /// To operations: a return's serials did not match what left.
    case returnFraud = "return_fraud"
    /// To a connected channel's webhook: one of its orders shipped, was delivered, cancelled or
    /// refunded (the `orderly_channel_updates` trigger, sql/migrations/0027).
    case channelUpdate = "channel_update"
    /// To a connected channel's webhook: how much of some SKUs it may sell (the stock feed).
    case stockUpdate = "stock_update"
}

/// A customer notification for the outbox, written with its cause.
public struct OutboxMessage: Hashable, Sendable {
    public var kind: NotificationKind
    public var recipient: String
    public var subject: String
    public var body: String
    /// One message per cause, e.g. `order_confirmed:order:42`.
    public var dedupeKey: String

    public init(kind: NotificationKind, recipient: String, subject: String, body: String, dedupeKey: String) {
        self.kind = kind
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.dedupeKey = dedupeKey
    }
}

/// The customer messages an order's reservation writes to the outbox (the worker sends them). Those
/// written with a reservation carry a dedupe key prefix, to which the statement appends the order id.
public enum CustomerMessages {
    /// With the parcels' promises: the latest deliver-by (or ship-by, without a rate) is what is said.
    public static func confirmed(externalID: String, email: String, promises: [DeliveryPromise] = []) -> OutboxMessage {
        let when: String
        if let deliverBy = promises.compactMap(\.deliverBy).max(), promises.allSatisfy({ $0.deliverBy != nil }) {
            when = "It will arrive by \(deliverBy)."
        } else if let shipDate = promises.map(\.shipDate).max() {
            when = "It will ship by \(shipDate)."
        } else {
            when = "It will ship soon."
        }
        return OutboxMessage(
            kind: .orderConfirmed,
            recipient: email,
            subject: "Your order \(externalID) is confirmed",
            body: "Thank you. Every item of order \(externalID) is reserved for you. \(when)",
            dedupeKey: "order_confirmed:order:"
        )
    }

    /// `expected`: when the last of the missing units is expected (every one of them is).
    public static func backordered(externalID: String, email: String, expected: LocalDate? = nil) -> OutboxMessage {
        OutboxMessage(
            kind: .orderBackordered,
            recipient: email,
            subject: "Part of your order \(externalID) is backordered",
            body: "Some items of order \(externalID) are out of stock; we will ship them as soon as they arrive"
                + (expected.map { " (we expect them by \($0))." } ?? "."),
            dedupeKey: "order_backordered:order:"
        )
    }

    public static func cancelled(orderID: Int64, externalID: String, email: String, reason: String) -> OutboxMessage {
        OutboxMessage(
            kind: .orderCancelled,
            recipient: email,
            subject: "Your order \(externalID) is cancelled",
            body: "Order \(externalID) is cancelled: \(reason).",
            dedupeKey: "order_cancelled:order:\(orderID)"
        )
    }

    /// Some units cancelled, the rest still coming. `sequence` tells one cancellation from the next (the
    /// order's cancelled units after it), so each is told once.
    public static func partlyCancelled(
        orderID: Int64,
        externalID: String,
        email: String,
        units: [(sku: String, units: Int64)],
        reason: String,
        refund: Money?,
        sequence: Int64
    ) -> OutboxMessage {
        let what = units.map { "\($0.units) × \($0.sku)" }.joined(separator: ", ")
        let money = refund.map { " We are refunding \($0.formatted) to your original payment method." } ?? ""
        return OutboxMessage(
            kind: .orderUpdated,
            recipient: email,
            subject: "Part of your order \(externalID) is cancelled",
            body: "We cancelled \(what) of order \(externalID): \(reason). The rest of the order is unchanged.\(money)",
            dedupeKey: "order_updated:cancel:order:\(orderID):\(sequence)"
        )
    }

    /// The order edited: what changed, and the refund if the total went down. `sequence` tells one
    /// edit from the next.
    public static func edited(
        orderID: Int64,
        externalID: String,
        email: String,
        lines: [(sku: String, before: Int64, after: Int64)],
        addressChanged: Bool,
        refund: Money?,
        sequence: Int64
    ) -> OutboxMessage {
        var changes = lines.map { line in
            line.before == 0
                ? "added \(line.after) × \(line.sku)"
                : line.after == 0 ? "removed \(line.sku)" : "\(line.sku): \(line.before) → \(line.after)"
        }
        if addressChanged { changes.append("a new delivery address") }
        let what = changes.isEmpty ? "its delivery" : changes.joined(separator: ", ")
        let money = refund.map { " We are refunding \($0.formatted) to your original payment method." } ?? ""
        return OutboxMessage(
            kind: .orderUpdated,
            recipient: email,
            subject: "Your order \(externalID) was changed",
            body: "Order \(externalID) was changed: \(what).\(money)",
            dedupeKey: "order_updated:edit:order:\(orderID):\(sequence)"
        )
    }
}

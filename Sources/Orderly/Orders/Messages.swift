import OrderlyStore

/// The customer messages orders write to the outbox (the worker sends them). Those written with a
/// reservation carry a dedupe key prefix; the statement appends the order id.
enum Messages {
    static func confirmed(externalID: String, email: String) -> OutboxMessage {
        OutboxMessage(
            kind: "order_confirmed",
            recipient: email,
            subject: "Your order \(externalID) is confirmed",
            body: "Thank you. Every item of order \(externalID) is reserved for you and will ship soon.",
            dedupeKey: "order_confirmed:order:"
        )
    }

    static func backordered(externalID: String, email: String) -> OutboxMessage {
        OutboxMessage(
            kind: "order_backordered",
            recipient: email,
            subject: "Part of your order \(externalID) is backordered",
            body: "Some items of order \(externalID) are out of stock; we will ship them as soon as they arrive.",
            dedupeKey: "order_backordered:order:"
        )
    }

    static func cancelled(orderID: Int64, externalID: String, email: String, reason: String) -> OutboxMessage {
        OutboxMessage(
            kind: "order_cancelled",
            recipient: email,
            subject: "Your order \(externalID) is cancelled",
            body: "Order \(externalID) is cancelled: \(reason).",
            dedupeKey: "order_cancelled:order:\(orderID)"
        )
    }
}

import OrderlyCore
import OrderlyStore

/// The customer messages fulfillment writes to the outbox, one per cause (the dedupe key).
enum FulfillmentMessages {
    static func shipped(order: OrderRecord, shipment: ShipmentRecord, email: String, complete: Bool) -> OutboxMessage {
        let tracking = shipment.trackingNumber ?? "(none)"
        let carrier = [shipment.carrierCode, shipment.service].compactMap { $0 }.joined(separator: " ")
        return OutboxMessage(
            kind: .orderShipped,
            recipient: email,
            subject: complete
                ? "Your order \(order.externalID) has shipped"
                : "Part of your order \(order.externalID) has shipped",
            body: "A parcel of order \(order.externalID) is on its way with \(carrier). Tracking number: \(tracking).",
            dedupeKey: "order_shipped:shipment:\(shipment.id)"
        )
    }

    static func carrier(
        _ event: CarrierEvent,
        order: OrderRecord,
        shipment: ShipmentRecord,
        email: String,
        note: String?
    ) -> OutboxMessage {
        let tracking = shipment.trackingNumber ?? "(none)"
        let detail = note.map { " (\($0))" } ?? ""
        switch event {
        case .delivered:
            return OutboxMessage(
                kind: .orderDelivered,
                recipient: email,
                subject: "Your parcel of order \(order.externalID) was delivered",
                body: "Parcel \(tracking) of order \(order.externalID) was delivered\(detail).",
                dedupeKey: "order_delivered:shipment:\(shipment.id)"
            )
        case .delayed:
            return OutboxMessage(
                kind: .orderDelayed,
                recipient: email,
                subject: "Your parcel of order \(order.externalID) is delayed",
                body: "The carrier reports parcel \(tracking) of order \(order.externalID) delayed\(detail). "
                    + "We are following it up.",
                dedupeKey: "order_delayed:shipment:\(shipment.id)"
            )
        case .lost, .damaged, .returnedToSender:
            let what = event == .lost ? "lost" : event == .damaged ? "damaged" : "returned to us"
            return OutboxMessage(
                kind: .orderDelayed,
                recipient: email,
                subject: "A problem with your parcel of order \(order.externalID)",
                body: "The carrier reports parcel \(tracking) of order \(order.externalID) \(what)\(detail). "
                    + "We will send the items again or refund them.",
                dedupeKey: "order_\(event == .lost ? "lost" : event.rawValue):shipment:\(shipment.id)"
            )
        }
    }

    /// A claim on a parcel resolved: sent again, or refunded.
    static func claimResolved(
        claimID: Int64,
        _ resolution: ClaimResolution,
        order: OrderRecord,
        shipment: ShipmentRecord,
        refund: Money?,
        email: String
    ) -> OutboxMessage {
        let tracking = shipment.trackingNumber ?? "(none)"
        let body =
            resolution == .reship
            ? "We are sending the items of parcel \(tracking) of order \(order.externalID) again."
            : "We are refunding the items of parcel \(tracking) of order \(order.externalID)"
                + (refund.map { ": \($0.formatted) to your original payment method." } ?? ".")
        return OutboxMessage(
            kind: .orderUpdated,
            recipient: email,
            subject: "About your parcel of order \(order.externalID)",
            body: body,
            dedupeKey: "order_updated:claim:\(claimID)"
        )
    }
}

/// Where an order stands. The raw values are what `orders.status` stores (its CHECK lists the same set).
public enum OrderStatus: String, CaseIterable, Sendable, Hashable {
    /// Captured and validated; not yet routed.
    case received
    /// Waiting for a person (see `HoldReason`); never routed while held.
    case onHold = "on_hold"
    /// Nothing could be reserved; waits for stock.
    case backordered
    /// Some lines or units reserved, the rest backordered.
    case partiallyReserved = "partially_reserved"
    /// Every unit reserved.
    case reserved
    case picking
    case packed
    case partiallyShipped = "partially_shipped"
    case shipped
    case delivered
    case cancelled
    case returned
    case partiallyReturned = "partially_returned"
    /// A carrier exception (delayed, lost) on a shipped order.
    case exception
}

/// Why an order is held for manual review. Raw values are what `orders.hold_reason` stores.
public enum HoldReason: String, CaseIterable, Sendable, Hashable {
    case addressMismatch = "address_mismatch"
    case addressIncomplete = "address_incomplete"
    case paymentPending = "payment_pending"
    case paymentFailed = "payment_failed"
    case highValue = "high_value"
    case highRisk = "high_risk"
    case manual
    /// A fulfillment job (pick, pack, label, ship, reroute) failed for good: a person must fix the
    /// cause (a rate, a parcel limit, a warehouse) and release it, which resumes where it stopped.
    case fulfillmentFailed = "fulfillment_failed"
}

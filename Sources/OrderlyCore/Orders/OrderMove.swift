/// A status move with its audit row: `order_events` gets one row per move, in the same statement.
public struct OrderMove: Hashable, Sendable {
    public var event: String
    public var from: OrderStatus?
    public var to: OrderStatus
    public var reason: String?
    /// A JSON object with whatever explains the move (hold findings, shortages, ...).
    public var data: String

    public init(event: String, from: OrderStatus?, to: OrderStatus, reason: String?, data: String = "{}") {
        self.event = event
        self.from = from
        self.to = to
        self.reason = reason
        self.data = data
    }

    /// The move that creates an order: from no status to `OrderStateMachine.initial`.
    public static let capture = OrderMove(
        event: OrderStateMachine.captureEvent,
        from: nil,
        to: OrderStateMachine.initial,
        reason: nil
    )

    /// A move the state machine allows, or its typed refusal.
    public static func checked(
        _ event: OrderEvent,
        from: OrderStatus,
        reason: String?,
        data: String = "{}"
    ) throws(IllegalTransition) -> OrderMove {
        OrderMove(
            event: event.rawValue,
            from: from,
            to: try OrderStateMachine.next(from: from, on: event),
            reason: reason,
            data: data
        )
    }
}

extension OrderStatus {
    /// Being fulfilled (some shipment is being picked, packed or has left): reserving more units does
    /// not move the order, and a short order is never rejected.
    public static let fulfilling: Set<OrderStatus> = [.picking, .packed, .partiallyShipped]
    /// Statuses whose open units routing may reserve: not yet reserved in full, or being fulfilled.
    public static let reservable: Set<OrderStatus> = fulfilling.union([.received, .backordered, .partiallyReserved])
    /// Statuses in which reserved stock is picked: reserved ones, and those already being fulfilled.
    public static let pickable: Set<OrderStatus> = fulfilling.union([.reserved, .partiallyReserved])
}

/// One (warehouse, SKU, units) row of a reservation; the SKU names the order's line (one line per SKU).
public struct Allocation: Hashable, Sendable {
    public var warehouseID: Int64
    public var skuID: Int64
    public var quantity: Int64

    public init(warehouseID: Int64, skuID: Int64, quantity: Int64) {
        self.warehouseID = warehouseID
        self.skuID = skuID
        self.quantity = quantity
    }
}

/// An inventory row as re-read under its lock.
public struct LockedStock: Hashable, Sendable {
    public var warehouseID: Int64
    public var skuID: Int64
    public var onHand: Int64
    public var reserved: Int64
    public var safetyStock: Int64

    public init(warehouseID: Int64, skuID: Int64, onHand: Int64, reserved: Int64, safetyStock: Int64) {
        self.warehouseID = warehouseID
        self.skuID = skuID
        self.onHand = onHand
        self.reserved = reserved
        self.safetyStock = safetyStock
    }

    public var availableToPromise: Int64 { max(0, onHand - reserved - safetyStock) }
}

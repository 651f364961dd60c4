/// Where a shipment (one parcel from one warehouse) stands. Raw values are what `shipments.status`
/// stores (its CHECK lists the same set).
public enum ShipmentStatus: String, CaseIterable, Sendable, Hashable {
    /// Allowed by the schema for a shipment planned ahead of picking; Orderly creates shipments picking.
    case planned
    case picking
    case picked
    case packed
    case labelled
    case shipped
    case delivered
    case delayed
    case lost
    /// Damaged in transit (a carrier exception).
    case damaged
    /// Returned to the sender by the carrier.
    case returned
    /// Every unit was short at packing: nothing left the warehouse.

    case cancelled

    /// Not yet packed: its order cannot be packed while one of these is open.
    public static let beingPicked: Set<ShipmentStatus> = [.planned, .picking, .picked]
    /// Packed and not yet left.
    public static let packedToLeave: Set<ShipmentStatus> = [.packed, .labelled]
    /// Nothing more will happen to it on its way to the customer (an order is delivered once every
    /// shipment is one of these).
    public static let settled: Set<ShipmentStatus> = [.delivered, .cancelled]
    /// On its way: the carrier has it and has not delivered it.
    public static let inTransit: Set<ShipmentStatus> = [.shipped, .delayed]
    /// What went wrong on its way: a claim is opened on it.
    public static let failed: Set<ShipmentStatus> = [.lost, .damaged, .returned]
}

/// What happens to a shipment.
public enum ShipmentEvent: String, CaseIterable, Sendable, Hashable {
    case startPicking = "start_picking"
    /// Its pick lists are all confirmed.
    case pick
    case pack
    /// Packing found every unit short.
    case packNothing = "pack_nothing"
    case label
    case ship
    case deliver
    case delay
    case lose
    case damage
    case returnToSender = "return_to_sender"
}

/// What a carrier (or an admin on its behalf) reports about a shipped parcel.
public enum CarrierEvent: String, Sendable, CaseIterable, Codable {
    case delivered
    case delayed
    case lost
    case damaged
    case returnedToSender = "returned_to_sender"

    /// The status it leaves a shipment in.
    public var status: ShipmentStatus {
        switch self {
        case .delivered: .delivered
        case .delayed: .delayed
        case .lost: .lost
        case .damaged: .damaged
        case .returnedToSender: .returned
        }
    }

    /// The shipment event it is.
    public var shipmentEvent: ShipmentEvent {
        switch self {
        case .delivered: .deliver
        case .delayed: .delay
        case .lost: .lose
        case .damaged: .damage
        case .returnedToSender: .returnToSender
        }
    }
}

/// The shipment life cycle as data, like `OrderStateMachine`: for each event, the statuses it may
/// leave and where it leads. The store's updates name the same `from` statuses in their WHERE clauses.
public enum ShipmentStateMachine {
    public static let moves: [ShipmentEvent: [ShipmentStatus: ShipmentStatus]] = [
        .startPicking: [.planned: .picking],
        .pick: [.picking: .picked],
        .pack: [.picked: .packed],
        .packNothing: [.picked: .cancelled],
        .label: [.packed: .labelled],
        .ship: [.labelled: .shipped],
        // A delayed parcel can still arrive, or be declared lost.
        .deliver: [.shipped: .delivered, .delayed: .delivered],
        .delay: [.shipped: .delayed],
        .lose: [.shipped: .lost, .delayed: .lost],
        .damage: [.shipped: .damaged, .delayed: .damaged],
        .returnToSender: [.shipped: .returned, .delayed: .returned],
    ]

    /// The status Orderly creates a shipment in (its units go straight onto pick lists).
    public static let initial = ShipmentStatus.picking

    /// Where `event` takes a shipment in `status`, or nil when it cannot take it.
    public static func next(from status: ShipmentStatus, on event: ShipmentEvent) -> ShipmentStatus? {
        moves[event]?[status]
    }

    /// The statuses `event` may leave, sorted by name.
    public static func sources(of event: ShipmentEvent) -> [ShipmentStatus] {
        (moves[event] ?? [:]).keys.sorted { $0.rawValue < $1.rawValue }
    }

    /// The events a shipment in `status` can take.
    public static func events(from status: ShipmentStatus) -> [ShipmentEvent] {
        ShipmentEvent.allCases.filter { moves[$0]?[status] != nil }
    }

    /// Statuses no event leaves.
    public static var terminal: Set<ShipmentStatus> {
        Set(ShipmentStatus.allCases.filter { events(from: $0).isEmpty })
    }
}

/// Where a pick list stands. Raw values are what `pick_lists.status` stores.
public enum PickListStatus: String, CaseIterable, Sendable, Hashable {
    /// A batch still gathering shipments (not yet walked).
    case open
    /// Walked: a picker has it.
    case inProgress = "in_progress"
    case completed
    case cancelled

    /// A list a picker's counts can confirm.
    public static let confirmable: Set<PickListStatus> = [.open, .inProgress]
}

/// What happens to an order. Each event moves an order between statuses as `OrderStateMachine` allows.
public enum OrderEvent: String, CaseIterable, Sendable, Hashable {
    case hold
    case release
    case reserve
    case reservePartially = "reserve_partially"
    case backorder
    case startPicking = "start_picking"
    case pack
    case shipPartially = "ship_partially"
    case ship
    case deliver
    case reportException = "report_exception"
    case cancel
    /// The units of a partially shipped order that have not left are cancelled: it is shipped.
    case cancelUnshipped = "cancel_unshipped"
    /// The order edited before picking (`OrderEdit`): it starts over from `received` and is routed
    /// again for what changed; a held order stays held.
    case edit
    /// A claim on a parcel that went wrong resolved (`ClaimResolution`): the order goes where what is
    /// left puts it, back to fulfillment (a reship, or units still open), shipped (others on their
    /// way), delivered (the others arrived) or cancelled (nothing else left).
    case resolveOpen = "resolve_open"
    case resolveShipped = "resolve_shipped"
    case resolveDelivered = "resolve_delivered"
    case resolveCancelled = "resolve_cancelled"
    /// Some units cancelled, the order otherwise where it was.
    case cancelUnits = "cancel_units"
    /// The backordered units cancelled: what is left is all reserved.
    case cancelBackorder = "cancel_backorder"
    /// The reserved units cancelled: what is left waits for stock.
    case cancelReserved = "cancel_reserved"
    /// The units still being picked cancelled: every parcel left is packed.
    case cancelPicking = "cancel_picking"
    case returnPartially = "return_partially"
    case returnAll = "return_all"
    /// Fulfillment stopped on a job that failed for good: the order is held where it was.
    case holdFulfillment = "hold_fulfillment"
    /// Releasing such a hold: back to the status it was held in.
    case resumePicking = "resume_picking"
    case resumePacked = "resume_packed"
    case resumePartiallyShipped = "resume_partially_shipped"
}

/// The order life cycle as data: for each event, the statuses it may leave and where it leads.
///
/// The store refuses any move not in this table, and every move it makes writes one `order_events`
/// row, so an order's status can always be replayed from its events (invariant 4).
public enum OrderStateMachine {
    /// event → (from → to). A status missing under an event cannot take that event.
    public static let moves: [OrderEvent: [OrderStatus: OrderStatus]] = [
        // A held order can be held again: re-evaluation records the reasons that still hold it.
        .hold: [
            .received: .onHold, .backordered: .onHold, .partiallyReserved: .onHold, .reserved: .onHold,
            .onHold: .onHold,
        ],
        // A released order starts over: it is validated and routed again.
        .release: [.onHold: .received],
        // An order whose fulfillment job failed for good is held mid-fulfillment, and resumes there:
        // its shipments, picks and reservations stay as they were.
        .holdFulfillment: [.picking: .onHold, .packed: .onHold, .partiallyShipped: .onHold],
        .resumePicking: [.onHold: .picking],
        .resumePacked: [.onHold: .packed],
        .resumePartiallyShipped: [.onHold: .partiallyShipped],
        .reserve: [.received: .reserved, .backordered: .reserved, .partiallyReserved: .reserved],
        .reservePartially: [
            .received: .partiallyReserved, .backordered: .partiallyReserved, .partiallyReserved: .partiallyReserved,
        ],
        .backorder: [.received: .backordered],
        .startPicking: [.reserved: .picking, .partiallyReserved: .picking],
        .pack: [.picking: .packed],
        .shipPartially: [
            .picking: .partiallyShipped, .packed: .partiallyShipped, .partiallyShipped: .partiallyShipped,
        ],
        .ship: [.packed: .shipped, .partiallyShipped: .shipped],
        .deliver: [.shipped: .delivered, .exception: .delivered],
        .reportException: [.shipped: .exception, .partiallyShipped: .exception],
        // Until a parcel has left, an order can be cancelled; its reservations are released.
        .cancel: [
            .received: .cancelled, .onHold: .cancelled, .backordered: .cancelled, .partiallyReserved: .cancelled,
            .reserved: .cancelled, .picking: .cancelled, .packed: .cancelled,
        ],
        .cancelUnshipped: [.partiallyShipped: .shipped],
        // Some units cancelled (`UnitCancellation`): the order stays where it is, or moves to where
        // what is left puts it.
        .cancelUnits: [
            .received: .received, .onHold: .onHold, .backordered: .backordered,
            .partiallyReserved: .partiallyReserved, .reserved: .reserved, .picking: .picking, .packed: .packed,
            .partiallyShipped: .partiallyShipped,
        ],
        .cancelBackorder: [.partiallyReserved: .reserved],
        // Before any parcel is picked; the routing that follows moves it on (reserve, backorder, hold).
        .edit: [
            .received: .received, .backordered: .received, .partiallyReserved: .received, .reserved: .received,
            .onHold: .onHold,
        ],
        .cancelReserved: [.partiallyReserved: .backordered, .picking: .backordered, .packed: .backordered],
        .cancelPicking: [.picking: .packed],
        .resolveOpen: [.exception: .partiallyShipped],
        .resolveShipped: [.exception: .shipped],
        .resolveDelivered: [.exception: .delivered],
        .resolveCancelled: [.exception: .cancelled],
        // Units come back (a return inspected): from a shipped order too (the carrier's delivery scan
        // may never have come).
        .returnPartially: [
            .shipped: .partiallyReturned, .delivered: .partiallyReturned, .partiallyReturned: .partiallyReturned,
        ],
        .returnAll: [.shipped: .returned, .delivered: .returned, .partiallyReturned: .returned],
    ]

    /// The status every order starts in.
    public static let initial = OrderStatus.received

    /// The event that resumes fulfillment in `status` after a `holdFulfillment` from it.
    public static func resume(to status: OrderStatus) -> OrderEvent? {
        switch status {
        case .picking: .resumePicking
        case .packed: .resumePacked
        case .partiallyShipped: .resumePartiallyShipped
        default: nil
        }
    }

    /// The name of the one event that creates an order (from no status to `initial`). It is not a
    /// move between statuses, so it is not an `OrderEvent`.
    public static let captureEvent = "capture"

    /// Where `event` takes an order in `status`, or why it cannot.
    public static func next(from status: OrderStatus, on event: OrderEvent) throws(IllegalTransition) -> OrderStatus {
        guard let target = moves[event]?[status] else { throw IllegalTransition(from: status, event: event) }
        return target
    }

    /// The events an order in `status` can take.
    public static func events(from status: OrderStatus) -> [OrderEvent] {
        OrderEvent.allCases.filter { moves[$0]?[status] != nil }
    }

    /// Statuses no event leaves.
    public static var terminal: Set<OrderStatus> {
        Set(OrderStatus.allCases.filter { events(from: $0).isEmpty })
    }

    /// Every status some sequence of events reaches from `start`.
    public static func reachable(from start: OrderStatus = initial) -> Set<OrderStatus> {
        var seen: Set<OrderStatus> = [start]
        var frontier = [start]
        while let status = frontier.popLast() {
            for event in events(from: status) {
                if let next = moves[event]?[status], seen.insert(next).inserted { frontier.append(next) }
            }
        }
        return seen
    }

    /// The table as a Mermaid state diagram (docs/architecture.md carries it; a test keeps the two
    /// the same): one arrow per (from, to), labelled with every event that makes that move.
    public static var diagram: String {
        var lines = ["stateDiagram-v2", "    [*] --> \(initial.rawValue): \(captureEvent)"]
        for from in OrderStatus.allCases {
            for to in OrderStatus.allCases {
                let events = OrderEvent.allCases.filter { moves[$0]?[from] == to }
                guard !events.isEmpty else { continue }
                lines.append(
                    "    \(from.rawValue) --> \(to.rawValue): \(events.map(\.rawValue).joined(separator: ", "))"
                )
            }
        }
        for status in OrderStatus.allCases where terminal.contains(status) {
            lines.append("    \(status.rawValue) --> [*]")
        }
        return lines.joined(separator: "\n")
    }

    /// Replays recorded moves from the initial status; returns the status they lead to, or the first
    /// move that the table does not allow or that does not start where the previous one ended.
    public static func replay(
        _ recorded: [(event: OrderEvent, from: OrderStatus, to: OrderStatus)]
    ) throws(IllegalTransition) -> OrderStatus {
        var status = initial
        for move in recorded {
            guard move.from == status, try next(from: status, on: move.event) == move.to else {
                throw IllegalTransition(from: move.from, event: move.event)
            }
            status = move.to
        }
        return status
    }
}

/// An event the order's status does not allow. Changes nothing.
public struct IllegalTransition: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable code for the admin protocol.
    public static let code = "ILLEGAL_TRANSITION"
    public var from: OrderStatus
    public var event: OrderEvent
    /// What in the order stands in the way, when more than its status does (a parcel being picked).
    public var detail: String?

    public init(from: OrderStatus, event: OrderEvent, detail: String? = nil) {
        self.from = from
        self.event = event
        self.detail = detail
    }

    public var description: String {
        let allowed = OrderStateMachine.events(from: from).map(\.rawValue).joined(separator: ", ")
        if let detail { return "an order that is \(from.rawValue) cannot \(event.rawValue): \(detail)" }
        return "an order that is \(from.rawValue) cannot \(event.rawValue)"
            + (allowed.isEmpty ? " (it is final)" : " (allowed: \(allowed))")
    }
}

/// Something that happens to an order without moving its status: recorded in `order_events` with
/// `from_status` = `to_status` = the status it had, so the history says it and replay (invariant 4)
/// passes over it.
public enum OrderFact: String, CaseIterable, Sendable, Hashable {
    case paymentPending = "payment_pending"
    case paymentAuthorized = "payment_authorized"
    case paymentCaptured = "payment_captured"
    case paymentFailed = "payment_failed"
    case paymentVoided = "payment_voided"
    case paymentRefunded = "payment_refunded"
    case refundRequested = "refund_requested"
    case returnOpened = "return_opened"
    case returnReceived = "return_received"
    case returnRefunded = "return_refunded"
    case returnExchanged = "return_exchanged"
    case returnFraudReview = "return_fraud_review"
    case returnCredited = "return_credited"

    /// The fact a payment of this status records.
    public static func payment(_ status: PaymentStatus) -> OrderFact {
        switch status {
        case .pending: .paymentPending
        case .authorized: .paymentAuthorized
        case .partiallyCaptured, .captured: .paymentCaptured
        case .failed: .paymentFailed
        case .voided: .paymentVoided
        case .partiallyRefunded, .refunded: .paymentRefunded
        }
    }
}

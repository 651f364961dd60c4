public import Foundation

/// Everything step 2 of the reservation protocol writes, after the rows are locked and re-checked.
public struct ReservationWrite: Sendable {
    public var orderID: Int64
    public var allocations: [Allocation]
    /// Seconds the reservations last (unpaid orders); nil for no expiry.
    public var expiresInSeconds: Int64?
    public var strategy: String
    public var rule: String
    public var candidatesJSON: String
    public var planJSON: String
    public var attempt: Int
    /// Each line's backordered units after this reservation.
    public var backordered: [(lineID: Int64, units: Int64)]
    public var move: OrderMove?
    /// Enqueue the first fulfillment jobs (a pick per warehouse); false while payment is pending.
    public var enqueuePicks: Bool
    /// The customer's message; its `dedupeKey` is a prefix to which the order id is appended.
    public var message: OutboxMessage?
    /// A delivery promise per warehouse the order ships from now (replacing one made before).
    public var promises: [DeliveryPromise]
    /// The order's priority: its pick jobs'.
    public var priority: OrderPriority

    public init(
        orderID: Int64,
        allocations: [Allocation],
        expiresInSeconds: Int64?,
        strategy: String,
        rule: String,
        candidatesJSON: String,
        planJSON: String,
        attempt: Int,
        backordered: [(lineID: Int64, units: Int64)],
        move: OrderMove?,
        enqueuePicks: Bool,
        message: OutboxMessage?,
        promises: [DeliveryPromise] = [],
        priority: OrderPriority = .normal
    ) {
        self.orderID = orderID
        self.allocations = allocations
        self.expiresInSeconds = expiresInSeconds
        self.strategy = strategy
        self.rule = rule
        self.candidatesJSON = candidatesJSON
        self.planJSON = planJSON
        self.attempt = attempt
        self.backordered = backordered
        self.move = move
        self.enqueuePicks = enqueuePicks
        self.message = message
        self.promises = promises
        self.priority = priority
    }
}

/// A line as routing wants it: its open units.
public struct WantedLine: Hashable, Sendable {
    /// 0 for an order not yet stored.
    public var lineID: Int64
    public var skuID: Int64
    public var open: Int64
    public var weight: Int64

    public init(lineID: Int64, skuID: Int64, open: Int64, weight: Int64) {
        self.lineID = lineID
        self.skuID = skuID
        self.open = open
        self.weight = weight
    }
}

/// The plan did not fit the rows under their locks (stock moved since the unlocked read): read again.
public struct StalePlan: Error, Sendable {
    public init() {}
}

/// A routing decision for an order's open units, and the (warehouse, SKU, units) rows it takes.
public struct RoutedReservation: Sendable {
    public var input: RoutingInput
    public var strategy: String
    public var plan: RoutingPlan?
    /// SKU id → units no eligible warehouse could give.
    public var shortage: [Int64: Int64]
    public var allocations: [Allocation]
    private let routing: any RoutingStrategy

    /// Plans `wanted`'s open units to `destination` over what the warehouses hold.
    public init(
        wanted: [WantedLine],
        destination: RoutingDestination,
        warehouses: [RoutingWarehouse],
        available: [Int64: [Int64: Int64]],
        rates: [ShippingRate],
        serviceLevel: String? = nil,
        queued: [Int64: Int64] = [:],
        inbound: [Int64: [ExpectedArrival.Arrival]] = [:],
        strategy: any RoutingStrategy
    ) {
        let input = RoutingInput(
            lines: wanted.filter { $0.open > 0 }.map {
                RoutingLine(skuID: $0.skuID, quantity: $0.open, unitWeightGrams: $0.weight)
            },
            destination: destination,
            warehouses: warehouses,
            available: available,
            rates: rates,
            serviceLevel: serviceLevel,
            queued: queued,
            inbound: inbound
        )
        self.init(input: input, strategy: strategy)
    }

    public init(input: RoutingInput, strategy: any RoutingStrategy) {
        self.input = input
        self.routing = strategy
        self.strategy = strategy.name
        let (fillable, shortage) = input.fillable()
        let plan = fillable.lines.isEmpty ? nil : strategy.plan(fillable)
        self.plan = plan
        if plan == nil {
            // The strategy could not place even the fillable part (say, `nearest` alone with no
            // warehouse holding everything): all of it is short.
            var all: [Int64: Int64] = [:]
            for line in input.lines { all[line.skuID, default: 0] += line.quantity }
            self.shortage = all
        } else {
            self.shortage = shortage
        }
        self.allocations = (plan?.shipments ?? []).flatMap { shipment in
            shipment.units.sorted { $0.key < $1.key }.map {
                Allocation(warehouseID: shipment.warehouseID, skuID: $0.key, quantity: $0.value)
            }
        }
    }

    /// The inventory rows to lock: the plan's, and for a SKU other orders wait for, every row of it
    /// (what this order may take depends on all of them), each once, in (warehouse, SKU) order.
    public var rows: [(warehouseID: Int64, skuID: Int64)] {
        var rows = Set(allocations.map { Pair(warehouse: $0.warehouseID, sku: $0.skuID) })
        for (warehouse, skus) in input.available {
            for sku in skus.keys where (input.queued[sku] ?? 0) > 0 && wants(sku) {
                rows.insert(Pair(warehouse: warehouse, sku: sku))
            }
        }
        return rows.sorted { ($0.warehouse, $0.sku) < ($1.warehouse, $1.sku) }.map { ($0.warehouse, $0.sku) }
    }

    private struct Pair: Hashable {
        var warehouse: Int64
        var sku: Int64
    }

    private func wants(_ sku: Int64) -> Bool { input.lines.contains { $0.skuID == sku } }

    /// The plan if it still fits the locked rows and the backorders ahead as they are now (`queued`,
    /// read after the locks). If not: stale (read again), or on the last attempt a new plan from the
    /// locked rows alone, which fits by construction (the rest is short).
    public func fitted(
        to locked: [LockedStock],
        queued: [Int64: Int64] = [:],
        lastAttempt: Bool
    ) throws(StalePlan) -> RoutedReservation {
        var available: [Int64: [Int64: Int64]] = [:]
        for row in locked { available[row.warehouseID, default: [:]][row.skuID] = row.availableToPromise }
        let fits =
            allocations.allSatisfy { (available[$0.warehouseID]?[$0.skuID] ?? 0) >= $0.quantity }
            && leavesEnough(for: queued, locked: locked)
        if fits { return self }
        guard lastAttempt else { throw StalePlan() }
        var input = self.input
        input.available = available
        input.queued = queued
        return RoutedReservation(input: input, strategy: routing)
    }

    /// Whether, for every SKU of the order that others wait for, the active warehouses' locked rows
    /// still hold the waiting units after this plan takes its own. A SKU whose rows were not all
    /// locked (nobody waited when it was read) cannot be judged: not enough.
    private func leavesEnough(for queued: [Int64: Int64], locked: [LockedStock]) -> Bool {
        let active = Set(input.warehouses.filter(\.active).map(\.id))
        for (sku, waiting) in queued where waiting > 0 && wants(sku) {
            let rows = Set(locked.filter { $0.skuID == sku }.map(\.warehouseID))
            let all = Set(input.available.compactMap { $0.value[sku] == nil ? nil : $0.key })
            guard all.isSubset(of: rows) else { return false }
            let held = locked.filter { $0.skuID == sku && active.contains($0.warehouseID) }
                .reduce(Int64(0)) { $0 + $1.availableToPromise }
            let taken = allocations.filter { $0.skuID == sku }.reduce(Int64(0)) { $0 + $1.quantity }
            if held - taken < waiting { return false }
        }
        return true
    }
}

/// What a reservation comes to once the rows are locked and the plan fits them.
public enum ReservationDecision: Sendable {
    /// The channel rejects a short order: this cancel move, nothing reserved.
    case reject(OrderMove)
    /// Reserve: the writes, and units reserved per SKU.
    case reserve(ReservationWrite, [Int64: Int64])

    /// The order about to be reserved, as the decision needs it.
    public struct Order: Sendable {
        public var status: OrderStatus
        /// Units the order already holds (an order partially reserved before).
        public var alreadyReserved: Int64
        public var lines: [WantedLine]
        public var paymentSecured: Bool
        public var email: String?
        public var externalID: String
        /// nil for an order not yet stored (the statement that inserts it supplies the id).
        public var id: Int64?
        public var priority: OrderPriority

        public init(
            status: OrderStatus,
            alreadyReserved: Int64,
            lines: [WantedLine],
            paymentSecured: Bool,
            email: String?,
            externalID: String,
            id: Int64?,
            priority: OrderPriority = .normal
        ) {
            self.status = status
            self.alreadyReserved = alreadyReserved
            self.lines = lines
            self.paymentSecured = paymentSecured
            self.email = email
            self.externalID = externalID
            self.id = id
            self.priority = priority
        }
    }

    /// Decides the move (reserve, reserve partially, backorder, or the channel's rejection), the
    /// reservation rows and the customer's message for a plan that fits its locked rows.
    /// `promisedAt` is the instant the parcels' delivery promises are made from (when the stock was
    /// read).
    public static func decide(
        _ order: Order,
        routed: RoutedReservation,
        channel: ChannelPolicy,
        attempt: Int,
        promisedAt: Date
    ) throws(IllegalTransition) -> ReservationDecision {
        let status = order.status
        let allocations = routed.allocations
        var reservedBySKU: [Int64: Int64] = [:]
        for allocation in allocations { reservedBySKU[allocation.skuID, default: 0] += allocation.quantity }
        let reserved = allocations.reduce(Int64(0)) { $0 + $1.quantity }
        let short = routed.shortage.values.reduce(Int64(0), +)
        // When what is short is expected (STOCK EXPECT), behind the backorders ahead of this order.
        var expectedBy: [Int64: LocalDate] = [:]
        for (sku, units) in routed.shortage where units > 0 {
            if let date = routed.input.expectedDate(sku, units: units) { expectedBy[sku] = date }
        }
        let everyShortExpected = routed.shortage.allSatisfy { $0.value == 0 || expectedBy[$0.key] != nil }
        let shortageText = routed.shortage.keys.sorted().map { sku in
            "SKU \(sku) short \(routed.shortage[sku] ?? 0)" + (expectedBy[sku].map { " (expected \($0))" } ?? "")
        }.joined(separator: ", ")

        // An order already being fulfilled keeps its status: units it gets now (a short pick routed
        // elsewhere, a backorder filled) join it, and what cannot be had stays backordered.
        let fulfilling = OrderStatus.fulfilling.contains(status)
        // A channel that promises inbound stock takes the order as a backorder when all it lacks is expected.
        let promisable = channel.promiseInbound && everyShortExpected
        if short > 0 && channel.onShortage == .reject && !fulfilling && !promisable {
            return .reject(
                try OrderMove.checked(
                    .cancel,
                    from: status,
                    reason: "insufficient stock: " + shortageText,
                    data: DecisionJSON.plan(nil, shortage: routed.shortage)
                )
            )
        }
        let event: OrderEvent? =
            if fulfilling {
                nil
            } else if short == 0 {
                .reserve
            } else if reserved + order.alreadyReserved > 0 {
                reserved > 0 || status != .partiallyReserved ? .reservePartially : nil
            } else {
                status == .received ? .backorder : nil
            }
        let planJSON = DecisionJSON.plan(routed.plan, shortage: routed.shortage)
        let move = try event.map { (event) throws(IllegalTransition) in
            try OrderMove.checked(
                event,
                from: status,
                reason: short > 0 ? "backordered: " + shortageText : nil,
                data: planJSON
            )
        }
        let promises = DeliveryPromise.promises(routed.plan, warehouses: routed.input.warehouses, at: promisedAt)
        let message: OutboxMessage? = order.email.flatMap { email in
            fulfilling && short == 0
                ? nil
                : short == 0
                    ? CustomerMessages.confirmed(externalID: order.externalID, email: email, promises: promises)
                    : CustomerMessages.backordered(
                        externalID: order.externalID,
                        email: email,
                        expected: everyShortExpected ? expectedBy.values.max() : nil
                    )
        }
        let write = ReservationWrite(
            orderID: order.id ?? 0,
            allocations: allocations,
            expiresInSeconds: order.paymentSecured ? nil : channel.unpaidReservationSeconds,
            strategy: routed.strategy,
            rule: routed.plan?.rule ?? "no stock to reserve",
            candidatesJSON: DecisionJSON.candidates(routed.plan, input: routed.input),
            planJSON: planJSON,
            attempt: attempt,
            backordered: order.lines.map { ($0.lineID, $0.open - (reservedBySKU[$0.skuID] ?? 0)) },
            move: move,
            enqueuePicks: order.paymentSecured,
            message: message,
            promises: promises,
            priority: order.priority
        )
        return .reserve(write, reservedBySKU)
    }

    /// Units reserved, in all.
    public var unitsReserved: Int64 {
        switch self {
        case .reject: 0
        case .reserve(_, let reserved): reserved.values.reduce(0, +)
        }
    }
}

/// The routing decision as stored in `routing_decisions`: candidates with their scores, and the plan.
public enum DecisionJSON {
    public static func candidates(_ plan: RoutingPlan?, input: RoutingInput) -> String {
        let candidates = plan?.candidates ?? input.candidates
        return encode(
            candidates.map { candidate -> [String: Any] in
                var object: [String: Any] = [
                    "warehouse_id": candidate.warehouseID,
                    "code": candidate.code,
                    "can_ship_whole": candidate.canShipWhole,
                    "distance_km": (candidate.distanceKilometers * 10).rounded() / 10,
                ]
                if let excluded = candidate.excludedBecause { object["excluded_because"] = excluded }
                if let cost = candidate.wholeOrderCostMinor { object["whole_order_cost_minor"] = cost }
                return object
            }
        )
    }

    public static func plan(_ plan: RoutingPlan?, shortage: [Int64: Int64]) -> String {
        var object: [String: Any] = [
            "shipments": (plan?.shipments ?? []).map { shipment -> [String: Any] in
                var object: [String: Any] = [
                    "warehouse_id": shipment.warehouseID,
                    "units": Dictionary(uniqueKeysWithValues: shipment.units.map { (String($0.key), $0.value) }),
                    "weight_grams": shipment.weightGrams,
                    "distance_km": (shipment.distanceKilometers * 10).rounded() / 10,
                ]
                if let rate = shipment.rate {
                    object["carrier"] = rate.carrier
                    object["service"] = rate.service
                    object["cost_minor"] = rate.priceMinor
                }
                return object
            }
        ]
        if !shortage.isEmpty {
            object["shortage"] = Dictionary(uniqueKeysWithValues: shortage.map { (String($0.key), $0.value) })
        }
        return encode(object)
    }

    public static func encode(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

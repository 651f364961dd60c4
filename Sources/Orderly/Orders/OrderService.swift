import Foundation
import LibPQ
import OrderlyCore
import OrderlyRouting
import OrderlyStore

/// What placing, reserving, holding or cancelling an order came to.
public struct OrderOutcome: Sendable {
    public var orderID: Int64
    public var status: OrderStatus
    public var holdReason: HoldReason?
    /// True when (channel, external id) had been captured before: this is that first order, unchanged.
    public var replayed: Bool
    /// The routing plan that was reserved, if routing ran.
    public var plan: RoutingPlan?
    /// SKU id → units that could not be reserved (backordered, or the reason for a rejection).
    public var shortage: [Int64: Int64]
    /// Why the order is held, when it is.
    public var holdFindings: [HoldFinding]
    public var unitsReserved: Int64
}

/// Orders: capture, holds, payment, routing and the reservation transaction, cancel and expiry.
///
/// Placing an order takes three round trips when it reserves: one unlocked read of availability and
/// rates (a pipeline), then one transaction of two pipelines — [BEGIN, insert the order, lock the plan's
/// inventory rows] and, after the re-check in Swift, [every write, COMMIT]. Serialization failures,
/// deadlocks and plans gone stale under the lock are retried within `policy.reservationAttempts`.
public struct OrderService: Sendable {
    let database: OrderlyDatabase
    public let actor: String
    public let policy: OrderPolicy
    public let payments: any PaymentVerifier

    public init(
        database: OrderlyDatabase,
        actor: String,
        policy: OrderPolicy = .standard,
        payments: any PaymentVerifier = BuiltinPaymentVerifier()
    ) {
        self.database = database
        self.actor = actor
        self.policy = policy
        self.payments = payments
    }

    var store: OrderStore { OrderStore(actor: actor) }

    // MARK: Placing

    /// Captures an order and, unless a hold rule stops it, routes and reserves it, all in one
    /// transaction: the order is either not stored at all, or stored with its reservations, hold or
    /// rejection. Capturing the same (channel, external id) again returns the first order unchanged.
    public func place(_ order: NewOrder, alongside: CommitAlongside<OrderOutcome>? = nil) async throws -> OrderOutcome {
        // One spelling per external id: NFC and NFD forms of the same text are one order.
        var normalized = order
        normalized.externalID = order.externalID.precomposedStringWithCanonicalMapping
        let order = normalized
        let priced = try policy.validator.validateWithoutCatalog(order)
        let channel = policy.channel(order.channel)
        let strategy = try RoutingRegistry.strategy(named: channel.routing)
        let verdict = try await payments.verify(
            PaymentCheck(
                channel: order.channel,
                externalID: order.externalID,
                amount: priced.total,
                details: order.payment
            )
        )
        let holdContext = HoldContext(
            channel: order.channel,
            total: priced.total,
            shipTo: order.shipTo,
            billingCountry: order.billingCountry,
            email: order.email,
            riskScore: order.riskScore,
            reviewRequested: order.reviewRequested,
            paymentStatus: verdict.status,
            reservesUnpaid: channel.unpaidReservationSeconds != nil
        )
        let findings = policy.holds.evaluate(holdContext)
        let store = self.store
        let policy = self.policy
        return try await database.pool.withConnection { connection in
            try connection.retrying(Self.retryPolicy(policy), when: Self.isRetryable) { attempt in
                let snapshot = try RoutingSnapshot.read(
                    connection,
                    skuCodes: OrderValidator.skuCodes(of: order),
                    country: order.shipTo.country
                )
                let validated = try policy.validator.validate(order, catalog: snapshot.catalog)
                return try Self.placeOnce(
                    connection,
                    store: store,
                    order: validated,
                    verdict: verdict,
                    findings: findings,
                    channel: channel,
                    strategy: strategy,
                    snapshot: snapshot,
                    attempt: attempt,
                    lastAttempt: attempt >= policy.reservationAttempts,
                    alongside: alongside
                )
            }
        }
    }

    private static func placeOnce(
        _ connection: PostgresConnection,
        store: OrderStore,
        order: ValidatedOrder,
        verdict: PaymentVerdict,
        findings: [HoldFinding],
        channel: ChannelPolicy,
        strategy: any RoutingStrategy,
        snapshot: RoutingSnapshot,
        attempt: Int,
        lastAttempt: Bool,
        alongside: CommitAlongside<OrderOutcome>?
    ) throws -> OrderOutcome {
        let capture = OrderMove(event: OrderStateMachine.captureEvent, from: nil, to: .received, reason: nil)
        let payment = order.order.payment == nil ? nil : verdict
        do {
            guard findings.isEmpty else {
                // Held: captured with its hold, never routed. One statement, its own transaction.
                let hold = try OrderMove.checked(
                    .hold,
                    from: .received,
                    reason: findings.map(\.description).joined(separator: "; "),
                    data: findingsJSON(findings)
                )
                let insert = store.insertOrder(
                    order,
                    status: .onHold,
                    holdReason: findings[0].reason,
                    payment: payment,
                    paymentStatus: verdict.status,
                    events: [capture, hold]
                )
                func outcome(_ rows: [PostgresRows]) throws -> OrderOutcome {
                    guard let row = rows[0].first else { throw Replayed() }
                    return OrderOutcome(
                        orderID: try row.decode(Int64.self, "order_id"),
                        status: .onHold,
                        holdReason: findings[0].reason,
                        replayed: false,
                        plan: nil,
                        shortage: [:],
                        holdFindings: findings,
                        unitsReserved: 0
                    )
                }
                guard let alongside else { return try outcome(connection.pipeline([insert])) }
                return try connection.transaction { tx in
                    try tx.finish(try outcome(tx.pipeline([insert])), alongside: alongside)
                }
            }
            let destination = RoutingDestination(
                country: order.order.shipTo.country,
                zone: order.order.shipTo.region,
                location: order.order.shipTo.location
            )
            let wanted = order.lines.map {
                WantedLine(lineID: 0, skuID: $0.sku.id, open: $0.quantity, weight: $0.sku.weightGrams)
            }
            let routed = Routed(wanted: wanted, destination: destination, snapshot: snapshot, strategy: strategy)
            return try connection.transaction { tx in
                // [BEGIN, lock the plan's rows]; then the re-check here.
                var fitted = routed
                if !routed.rows.isEmpty {
                    let locked = try store.decodeStock(tx.pipeline([store.lockStock(routed.rows)])[0])
                    fitted = try routed.fitted(to: locked, lastAttempt: lastAttempt)
                }
                let decision = try decide(
                    status: .received,
                    alreadyReserved: 0,
                    lines: wanted,
                    routed: fitted,
                    channel: channel,
                    paymentSecured: verdict.status.isSecured,
                    email: order.order.email,
                    externalID: order.order.externalID,
                    orderID: nil,
                    attempt: attempt
                )
                let statement: PostgresStatement
                switch decision {
                case .reject(let move):
                    statement = store.insertOrder(
                        order,
                        status: .cancelled,
                        holdReason: nil,
                        payment: payment,
                        paymentStatus: verdict.status,
                        events: [capture, move],
                        lines: OrderStore.LineStart(
                            reserved: wanted.map { _ in 0 },
                            backordered: wanted.map { _ in 0 },
                            cancelled: wanted.map(\.open)
                        )
                    )
                case .reserve(let write, let reservedBySKU):
                    statement = store.place(
                        order,
                        payment: payment,
                        paymentStatus: verdict.status,
                        events: [capture] + (write.move.map { [$0] } ?? []),
                        lines: OrderStore.LineStart(
                            reserved: wanted.map { reservedBySKU[$0.skuID] ?? 0 },
                            backordered: wanted.map { $0.open - (reservedBySKU[$0.skuID] ?? 0) },
                            cancelled: wanted.map { _ in 0 }
                        ),
                        write: write
                    )
                }
                // [the writes, COMMIT]: if the order existed, nothing was written. With statements to
                // commit alongside, which need the order's id: [the writes], then [them, COMMIT].
                guard let alongside else {
                    guard let row = try tx.commit(after: [statement])[0].first else { throw Replayed() }
                    return decision.outcome(
                        orderID: try row.decode(Int64.self, "order_id"),
                        from: .received,
                        plan: fitted
                    )
                }
                guard let row = try tx.pipeline([statement])[0].first else { throw Replayed() }
                let outcome = decision.outcome(
                    orderID: try row.decode(Int64.self, "order_id"),
                    from: .received,
                    plan: fitted
                )
                return try tx.finish(outcome, alongside: alongside)
            }
        } catch is Replayed {
            guard
                let id = try store.orderID(
                    connection,
                    channel: order.order.channel,
                    externalID: order.order.externalID
                ),
                let existing = try store.order(connection, id: id)
            else { throw OrderlyError(.conflict, "the order was captured concurrently and cannot be read back") }
            return OrderOutcome(
                orderID: existing.id,
                status: existing.status,
                holdReason: existing.holdReason,
                replayed: true,
                plan: nil,
                shortage: [:],
                holdFindings: [],
                unitsReserved: existing.unitsReserved
            )
        }
    }

    // MARK: Reserving an order already captured

    /// Statuses `reserve(orderID:)` routes open units in.
    static let reservable: Set<OrderStatus> = Set<OrderStatus>([.received, .backordered, .partiallyReserved]).union(
        fulfilling
    )
    /// Being fulfilled: reserving more units does not move the order.
    static let fulfilling: Set<OrderStatus> = [.picking, .packed, .partiallyShipped]

    /// Routes and reserves an order's open units: one released from hold, or a backorder whose stock
    /// has arrived. Three round trips, as for `place`.
    public func reserve(orderID: Int64) async throws -> OrderOutcome {
        let store = self.store
        let policy = self.policy
        return try await database.pool.withConnection { connection in
            try connection.retrying(Self.retryPolicy(policy), when: Self.isRetryable) { attempt in
                try Self.reserveOnce(connection, store: store, policy: policy, orderID: orderID, attempt: attempt)
            }
        }
    }

    static func reserveOnce(
        _ connection: PostgresConnection,
        store: OrderStore,
        policy: OrderPolicy,
        orderID: Int64,
        attempt: Int
    ) throws -> OrderOutcome {
        let read = try connection.pipeline(
            store.orderStatements(orderID, lock: false) + RoutingSnapshot.statements(orderID: orderID)
        )
        guard let seen = try store.decodeOrder(read[0], lines: read[1]) else {
            throw OrderlyError(.notFound, "order \(orderID) does not exist")
        }
        guard Self.reservable.contains(seen.status) else {
            throw IllegalTransition(from: seen.status, event: .reserve)
        }
        let snapshot = try RoutingSnapshot.decode(Array(read[2...]))
        let channel = policy.channel(seen.channel)
        let strategy = try RoutingRegistry.strategy(named: channel.routing)
        let destination = RoutingDestination(
            country: seen.shipTo.country,
            zone: seen.shipTo.region,
            location: seen.shipTo.location
        )
        let wanted = seen.lines.map {
            WantedLine(lineID: $0.id, skuID: $0.skuID, open: $0.open, weight: $0.unitWeightGrams)
        }
        let routed = Routed(wanted: wanted, destination: destination, snapshot: snapshot, strategy: strategy)
        return try connection.transaction { tx in
            let results = try tx.pipeline(store.orderStatements(orderID, lock: true) + [store.lockStock(routed.rows)])
            guard let current = try store.decodeOrder(results[0], lines: results[1]), current == seen else {
                throw StalePlan()  // the order changed between the read and the lock: read again
            }
            let fitted = try routed.fitted(
                to: try store.decodeStock(results[2]),
                lastAttempt: attempt >= policy.reservationAttempts
            )
            return try commitReservation(
                tx,
                store: store,
                order: current,
                lines: wanted,
                routed: fitted,
                channel: channel,
                attempt: attempt
            )
        }
    }

    /// What a reservation comes to once the rows are locked and the plan fits them.
    enum Decision {
        /// The channel rejects a short order: this cancel move, nothing reserved.
        case reject(OrderMove)
        /// Reserve: the writes, and units reserved per SKU.
        case reserve(ReservationWrite, [Int64: Int64])

        func outcome(orderID: Int64, from status: OrderStatus, plan: Routed) -> OrderOutcome {
            switch self {
            case .reject(let move):
                return OrderOutcome(
                    orderID: orderID,
                    status: move.to,
                    holdReason: nil,
                    replayed: false,
                    plan: nil,
                    shortage: plan.shortage,
                    holdFindings: [],
                    unitsReserved: 0
                )
            case .reserve(let write, let reserved):
                return OrderOutcome(
                    orderID: orderID,
                    status: write.move?.to ?? status,
                    holdReason: nil,
                    replayed: false,
                    plan: plan.plan,
                    shortage: plan.shortage,
                    holdFindings: [],
                    unitsReserved: reserved.values.reduce(0, +)
                )
            }
        }
    }

    /// Decides the move (reserve, reserve partially, backorder, or the channel's rejection), the
    /// reservation rows and the customer's message for a plan that fits its locked rows.
    static func decide(
        status: OrderStatus,
        alreadyReserved: Int64,
        lines: [WantedLine],
        routed: Routed,
        channel: ChannelPolicy,
        paymentSecured: Bool,
        email: String?,
        externalID: String,
        orderID: Int64?,
        attempt: Int
    ) throws -> Decision {
        let allocations = routed.allocations.map {
            Allocation(warehouseID: $0.warehouse, skuID: $0.sku, quantity: $0.units)
        }
        var reservedBySKU: [Int64: Int64] = [:]
        for allocation in allocations { reservedBySKU[allocation.skuID, default: 0] += allocation.quantity }
        let reserved = allocations.reduce(Int64(0)) { $0 + $1.quantity }
        let short = routed.shortage.values.reduce(Int64(0), +)
        let shortageText = routed.shortage.keys.sorted().map { "SKU \($0) short \(routed.shortage[$0] ?? 0)" }
            .joined(separator: ", ")

        // An order already being fulfilled keeps its status: units it gets now (a short pick routed
        // elsewhere, a backorder filled) join it, and what cannot be had stays backordered.
        let fulfilling = Self.fulfilling.contains(status)
        if short > 0 && channel.onShortage == .reject && !fulfilling {
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
            } else if reserved + alreadyReserved > 0 {
                reserved > 0 || status != .partiallyReserved ? .reservePartially : nil
            } else {
                status == .received ? .backorder : nil
            }
        let planJSON = DecisionJSON.plan(routed.plan, shortage: routed.shortage)
        let move = try event.map {
            try OrderMove.checked(
                $0,
                from: status,
                reason: short > 0 ? "backordered: " + shortageText : nil,
                data: planJSON
            )
        }
        let message: OutboxMessage? = email.flatMap { email in
            fulfilling && short == 0
                ? nil
                : short == 0
                    ? Messages.confirmed(externalID: externalID, email: email)
                    : Messages.backordered(externalID: externalID, email: email)
        }
        let write = ReservationWrite(
            orderID: orderID ?? 0,
            allocations: allocations,
            expiresInSeconds: paymentSecured ? nil : channel.unpaidReservationSeconds,
            strategy: routed.strategy,
            rule: routed.plan?.rule ?? "no stock to reserve",
            candidatesJSON: DecisionJSON.candidates(routed.plan, input: routed.input),
            planJSON: planJSON,
            attempt: attempt,
            backordered: lines.map { ($0.lineID, $0.open - (reservedBySKU[$0.skuID] ?? 0)) },
            move: move,
            enqueuePicks: paymentSecured,
            message: message
        )
        return .reserve(write, reservedBySKU)
    }

    /// Step 2's writes for an order already captured, sent with COMMIT.
    private static func commitReservation(
        _ tx: PostgresConnection,
        store: OrderStore,
        order: OrderRecord,
        lines: [WantedLine],
        routed: Routed,
        channel: ChannelPolicy,
        attempt: Int
    ) throws -> OrderOutcome {
        let decision = try decide(
            status: order.status,
            alreadyReserved: order.unitsReserved,
            lines: lines,
            routed: routed,
            channel: channel,
            paymentSecured: order.paymentStatus.isSecured,
            email: order.email,
            externalID: order.externalID,
            orderID: order.id,
            attempt: attempt
        )
        switch decision {
        case .reject(let move):
            var statements = [
                store.release(orderID: order.id, expiredOnly: false),
                store.cancelRest(orderID: order.id),
                store.move(orderID: order.id, move, holdReason: nil),
            ]
            if let email = order.email {
                statements.append(
                    store.enqueueMessage(
                        orderID: order.id,
                        Messages.cancelled(
                            orderID: order.id,
                            externalID: order.externalID,
                            email: email,
                            reason: "some items are out of stock"
                        )
                    )
                )
            }
            try expectMoved(try tx.commit(after: statements)[2], order.id)
        case .reserve(let write, _):
            let result = try tx.commit(after: [store.reserve(write)])
            if write.move != nil, try result[0][0].decode(Int64.self, "moved") != 1 {
                throw OrderlyError(.conflict, "order \(order.id) changed status during its reservation")
            }
        }
        return decision.outcome(orderID: order.id, from: order.status, plan: routed)
    }

    static func retryPolicy(_ policy: OrderPolicy) -> RetryPolicy {
        RetryPolicy(maxAttempts: policy.reservationAttempts, baseDelay: .milliseconds(1), maxDelay: .milliseconds(50))
    }

    static func isRetryable(_ error: any Error) -> Bool {
        error is StalePlan || (error as? PostgresError)?.isRetryable == true
    }
}

/// A line as routing wants it: its open units.
struct WantedLine: Hashable, Sendable {
    var lineID: Int64
    var skuID: Int64
    var open: Int64
    var weight: Int64
}

/// The plan did not fit the rows under their locks (stock moved since the unlocked read): read again.
struct StalePlan: Error {}

/// (channel, external id) was captured before: the insert stored nothing.
struct Replayed: Error {}

/// A routing decision for the open units, and the (warehouse, SKU, units) rows it takes.
struct Routed: Sendable {
    var input: RoutingInput
    var strategy: String
    var plan: RoutingPlan?
    var shortage: [Int64: Int64]
    var allocations: [(warehouse: Int64, sku: Int64, units: Int64)]
    private let routing: any RoutingStrategy

    init(
        wanted: [WantedLine],
        destination: RoutingDestination,
        snapshot: RoutingSnapshot,
        strategy: any RoutingStrategy
    ) {
        let input = RoutingInput(
            lines: wanted.filter { $0.open > 0 }.map {
                RoutingLine(skuID: $0.skuID, quantity: $0.open, unitWeightGrams: $0.weight)
            },
            destination: destination,
            warehouses: snapshot.warehouses,
            available: snapshot.available,
            rates: snapshot.rates
        )
        self.init(input: input, strategy: strategy)
    }

    init(input: RoutingInput, strategy: any RoutingStrategy) {
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
            shipment.units.sorted { $0.key < $1.key }.map { (shipment.warehouseID, $0.key, $0.value) }
        }
    }

    /// The inventory rows to lock.
    var rows: [(warehouseID: Int64, skuID: Int64)] { allocations.map { ($0.warehouse, $0.sku) } }

    /// The plan if it still fits the locked rows. If not: stale (read again), or on the last attempt a
    /// new plan from the locked rows alone, which fits by construction (the rest is short).
    func fitted(to locked: [LockedStock], lastAttempt: Bool) throws -> Routed {
        var available: [Int64: [Int64: Int64]] = [:]
        for row in locked { available[row.warehouseID, default: [:]][row.skuID] = row.availableToPromise }
        let fits = allocations.allSatisfy { (available[$0.warehouse]?[$0.sku] ?? 0) >= $0.units }
        if fits { return self }
        guard lastAttempt else { throw StalePlan() }
        var input = self.input
        input.available = available
        return Routed(input: input, strategy: routing)
    }
}

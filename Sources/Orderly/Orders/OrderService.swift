import Foundation
import LibPQ
public import OrderlyCore
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
    public let database: OrderlyDatabase
    public let actor: String
    /// The process's composition root: policy, routing strategies, payment verifier.
    public let components: OrderlyComponents
    public var policy: OrderPolicy { components.policy }
    public var payments: any PaymentVerifier { components.payments }

    public init(database: OrderlyDatabase, actor: String, components: OrderlyComponents = .standard) {
        self.database = database
        self.actor = actor
        self.components = components
    }

    /// The standard components with this policy (and payment verifier).
    public init(
        database: OrderlyDatabase,
        actor: String,
        policy: OrderPolicy,
        payments: any PaymentVerifier = BuiltinPaymentVerifier()
    ) {
        var components = OrderlyComponents.standard
        components.policy = policy
        components.payments = payments
        self.init(database: database, actor: actor, components: components)
    }

    var store: OrderStore { OrderStore(actor: actor) }

    // MARK: Placing

    /// Captures an order and, unless a hold rule stops it, routes and reserves it, all in one
    /// transaction: the order is either not stored at all, or stored with its reservations, hold or
    /// rejection. Capturing the same (channel, external id) again returns the first order unchanged.
    /// Counted in `orderly_orders_placed_total` (by channel and the state stored, or "replayed") or
    /// `orderly_orders_refused_total` (by channel and reason); the transaction timed in
    /// `orderly_reservation_duration_seconds`.
    public func place(_ order: NewOrder, alongside: CommitAlongside<OrderOutcome>? = nil) async throws -> OrderOutcome {
        let metrics = components.metrics
        do {
            let outcome = try await capture(order, alongside: alongside)
            metrics.orderPlaced(
                channel: order.channel.rawValue,
                status: outcome.replayed ? "replayed" : outcome.status.rawValue
            )
            return outcome
        } catch {
            metrics.orderRefused(channel: order.channel.rawValue, reason: Self.refusalReason(error))
            throw error
        }
    }

    /// A refusal's reason as a metric label: the error's code, or what kind of failure it was.
    static func refusalReason(_ error: any Error) -> String {
        switch error {
        case let error as OrderlyError: "\(error.code)"
        case is PostgresError: "database"
        case is CancellationError: "cancelled"
        default: "internal"
        }
    }

    private func capture(_ order: NewOrder, alongside: CommitAlongside<OrderOutcome>?) async throws -> OrderOutcome {
        // One spelling per external id: NFC and NFD forms of the same text are one order.
        var normalized = order
        normalized.externalID = order.externalID.precomposedStringWithCanonicalMapping
        let order = normalized
        let priced = try policy.validator.validateWithoutCatalog(order)
        let verdict = try await Self.verdict(order, total: priced.total, verifier: payments)
        if order.statedPayment?.provider == StoreCredit.provider {
            try await checkStoreCredit(order, total: priced.total)
        }
        let started = ContinuousClock.now
        defer { components.metrics.reservation(ContinuousClock.now - started) }
        do {
            return try await placeChecked(order, priced: priced, verdict: verdict, alongside: alongside)
        } catch let error as PostgresError where error.constraint == "store_credit_never_negative" {
            // Spent concurrently: the balance's CHECK refused it, nothing was stored.
            throw OrderlyError(
                .badArgument,
                "payment: the store credit of \(order.email ?? "-") no longer covers the total"
            )
        }
    }

    /// Paying with store credit: the e-mail's balance must cover the whole total (the capture's debit
    /// re-checks it under the account's lock).
    func checkStoreCredit(_ order: NewOrder, total: Money) async throws {
        guard let email = order.email else {
            throw OrderlyError(.badArgument, "payment: store credit needs the customer's e-mail")
        }
        let balance = try await database.pool.withConnection {
            try $0.run(StoreCreditStore.balance(email: email, currency: total.currency.code))
        }
        guard balance >= total.minorUnits else {
            throw OrderlyError(
                .badArgument,
                "payment: the store credit of \(email) is \(Money(minorUnits: balance, currency: total.currency).formatted), "
                    + "less than the total \(total.formatted)"
            )
        }
    }

    func placeChecked(
        _ order: NewOrder,
        priced: ValidatedOrder,
        verdict: PaymentVerdict,
        alongside: CommitAlongside<OrderOutcome>?
    ) async throws -> OrderOutcome {
        let store = self.store
        let (policy, routing, metrics) = (self.policy, components.routing, components.metrics)
        return try await database.pool.withConnection { connection in
            try connection.retrying(policy.retryPolicy, counting: "place", in: metrics) { attempt in
                // The channel's policy comes with the routing snapshot: one round trip, and the policy
                // in force now, whichever process changed it last.
                let (snapshot, stored) = try connection.run(
                    RoutingSnapshot.query(skuCodes: OrderValidator.skuCodes(of: order), country: order.shipTo.country)
                        .and(ChannelStore.policy(order.channel)) { ($0, $1) }
                )
                let channel: ChannelPolicy
                do {
                    channel = try Self.channel(stored, named: order.channel)
                    try channel.admits(verdict.status)
                    if let level = order.serviceLevel, !snapshot.rates.contains(where: { $0.service == level }) {
                        throw OrderlyError(
                            .badArgument,
                            "service_level: no '\(level)' rate to \(order.shipTo.country) "
                                + "(RATE LIST country=\(order.shipTo.country) shows the services)"
                        )
                    }
                } catch {
                    // A capture replayed after its channel (or the rates) changed is still the first order.
                    guard let replay = try Self.replayed(connection, store: store, order) else { throw error }
                    return replay
                }
                let strategy = try routing.strategy(named: channel.routing)
                // The order's priority, or its channel's.
                var prioritized = order
                prioritized.priority = order.priority ?? channel.priority
                let findings = policy.holds.evaluate(
                    HoldContext(
                        channel: order.channel,
                        total: priced.total,
                        shipTo: order.shipTo,
                        billingCountry: order.billingCountry,
                        email: order.email,
                        riskScore: order.riskScore,
                        reviewRequested: order.reviewRequested,
                        paymentStatus: verdict.status,
                        reservesUnpaid: channel.unpaidReservationSeconds != nil,
                        limits: channel.holdLimits
                    )
                )
                let validated = try policy.validator.validate(prioritized, catalog: snapshot.catalog)
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

    /// The channel's policy as read, or BAD_ARG for a channel that does not exist.
    static func channel(_ stored: ChannelPolicy?, named channel: SalesChannel) throws(OrderlyError) -> ChannelPolicy {
        guard let stored else {
            throw OrderlyError(.badArgument, "channel: there is no channel '\(channel)' (CHANNEL LIST names them)")
        }
        return stored
    }

    /// The order captured before as (channel, external id), as a replay's outcome; nil if there is none.
    static func replayed(_ connection: PostgresConnection, store: OrderStore, _ order: NewOrder) throws -> OrderOutcome?
    {
        guard let id = try store.orderID(connection, channel: order.channel, externalID: order.externalID) else {
            return nil
        }
        guard let existing = try store.order(connection, id: id) else { return nil }
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

    /// The payment verdict capture decides by: what the storefront stated, or the verifier's answer.
    static func verdict(_ order: NewOrder, total: Money, verifier: any PaymentVerifier) async throws -> PaymentVerdict {
        guard let stated = order.statedPayment else {
            return try await verifier.verify(
                PaymentCheck(
                    channel: order.channel,
                    externalID: order.externalID,
                    amount: total,
                    details: order.payment
                )
            )
        }
        guard PaymentStatus.stated.contains(stated.status), stated.status != .refunded else {
            throw OrderlyError(.badArgument, "a payment stated at capture cannot be \(stated.status.rawValue)")
        }
        if let currency = stated.currency, currency != total.currency.code {
            throw OrderlyError(.badArgument, "the payment is in \(currency) but the order in \(total.currency.code)")
        }
        if let amount = stated.amountMinor, amount != total.minorUnits, stated.status.isSecured {
            throw OrderlyError(
                .badArgument,
                "the payment's amount \(amount) is not the order's total \(total.minorUnits) "
                    + "(lines + shipping + tax - discount)"
            )
        }
        guard !stated.provider.isEmpty else { throw OrderlyError(.badArgument, "a stated payment needs its provider") }
        if stated.status.isSecured, stated.reference == nil {
            throw OrderlyError(.badArgument, "an \(stated.status.rawValue) payment needs the provider's reference")
        }
        return PaymentVerdict(status: stated.status, provider: stated.provider, reference: stated.reference)
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
        let payment = order.order.payment == nil && order.order.statedPayment == nil ? nil : verdict
        // The payment's own event, when there is one: a fact at `received`, before any move.
        let capture = OrderMove.capture
        let paid = payment.map {
            OrderMove(
                event: OrderFact.payment($0.status).rawValue,
                from: .received,
                to: .received,
                reason: "\($0.provider) \($0.reference ?? "-"): \($0.status.rawValue)"
                    + ($0.message.map { " (\($0))" } ?? "")
            )
        }
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
                    events: [capture] + (paid.map { [$0] } ?? []) + [hold]
                )
                func outcome(_ inserted: Int64?) throws -> OrderOutcome {
                    guard let orderID = inserted else { throw Replayed() }
                    return OrderOutcome(
                        orderID: orderID,
                        status: .onHold,
                        holdReason: findings[0].reason,
                        replayed: false,
                        plan: nil,
                        shortage: [:],
                        holdFindings: findings,
                        unitsReserved: 0
                    )
                }
                guard let alongside else { return try outcome(connection.run(insert)) }
                return try connection.transaction { tx in
                    try tx.finish(try outcome(tx.run(insert)), alongside: alongside)
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
            let routed = RoutedReservation(
                wanted: wanted,
                destination: destination,
                snapshot: snapshot,
                serviceLevel: order.order.serviceLevel,
                strategy: strategy
            )
            return try connection.transaction { tx in
                // [BEGIN, lock the plan's rows (all of a SKU others wait for), the queue ahead as it
                // is now]; then the re-check here.
                var fitted = routed
                if !routed.rows.isEmpty {
                    let (locked, queued) = try tx.pipeline(
                        store.lockStock(routed.rows),
                        BackorderQueue.query(BackorderQueue.ahead(skuIDs: wanted.map(\.skuID)))
                    )
                    fitted = try routed.fitted(to: locked, queued: queued, lastAttempt: lastAttempt)
                }
                let decision = try ReservationDecision.decide(
                    ReservationDecision.Order(
                        status: .received,
                        alreadyReserved: 0,
                        lines: wanted,
                        paymentSecured: verdict.status.isSecured,
                        email: order.order.email,
                        externalID: order.order.externalID,
                        id: nil,
                        priority: order.order.priority ?? .normal
                    ),
                    routed: fitted,
                    channel: channel,
                    attempt: attempt,
                    promisedAt: snapshot.readAt
                )
                let statement: PostgresQuery<Int64?>
                switch decision {
                case .reject(let move):
                    statement = store.insertOrder(
                        order,
                        status: .cancelled,
                        holdReason: nil,
                        payment: payment,
                        paymentStatus: verdict.status,
                        events: [capture] + (paid.map { [$0] } ?? []) + [move],
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
                        events: [capture] + (paid.map { [$0] } ?? []) + (write.move.map { [$0] } ?? []),
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
                    let inserted: Int64? = try tx.commit(after: statement)
                    guard let orderID = inserted else { throw Replayed() }
                    return decision.outcome(orderID: orderID, from: .received, plan: fitted)
                }
                guard let orderID = try tx.run(statement) else { throw Replayed() }
                let outcome = decision.outcome(orderID: orderID, from: .received, plan: fitted)
                return try tx.finish(outcome, alongside: alongside)
            }
        } catch is Replayed {
            guard let replay = try replayed(connection, store: store, order.order) else {
                throw OrderlyError(.conflict, "the order was captured concurrently and cannot be read back")
            }
            return replay
        }
    }

    // MARK: Reserving an order already captured

    /// Routes and reserves an order's open units: one released from hold, or a backorder whose stock
    /// has arrived. Three round trips, as for `place`.
    public func reserve(orderID: Int64) async throws -> OrderOutcome {
        let store = self.store
        let (policy, routing, metrics) = (self.policy, components.routing, components.metrics)
        return try await database.pool.withConnection { connection in
            try connection.retrying(policy.retryPolicy, counting: "reserve", in: metrics) { attempt in
                try Self.reserveOnce(
                    connection,
                    store: store,
                    policy: policy,
                    routing: routing,
                    orderID: orderID,
                    attempt: attempt
                )
            }
        }
    }

    static func reserveOnce(
        _ connection: PostgresConnection,
        store: OrderStore,
        policy: OrderPolicy,
        routing: RoutingRegistry,
        orderID: Int64,
        attempt: Int
    ) throws -> OrderOutcome {
        let (read, snapshot, stored) = try connection.pipeline(
            store.order(orderID, lock: false),
            RoutingSnapshot.query(orderID: orderID),
            ChannelStore.policy(orderID: orderID)
        )
        guard let seen = read else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
        guard OrderStatus.reservable.contains(seen.status) else {
            throw IllegalTransition(from: seen.status, event: .reserve)
        }
        let channel = try Self.channel(stored, named: seen.channel)
        let strategy = try routing.strategy(named: channel.routing)
        let destination = RoutingDestination(
            country: seen.shipTo.country,
            zone: seen.shipTo.region,
            location: seen.shipTo.location
        )
        let wanted = seen.lines.map {
            WantedLine(lineID: $0.id, skuID: $0.skuID, open: $0.open, weight: $0.unitWeightGrams)
        }
        let routed = RoutedReservation(
            wanted: wanted,
            destination: destination,
            snapshot: snapshot,
            serviceLevel: seen.serviceLevel,
            strategy: strategy
        )
        return try connection.transaction { tx in
            let (current, locked, queued) = try tx.pipeline(
                store.order(orderID, lock: true),
                store.lockStock(routed.rows),
                BackorderQueue.query(BackorderQueue.ahead(of: orderID))
            )
            guard current == seen, let current else {
                throw StalePlan()  // the order changed between the read and the lock: read again
            }
            let fitted = try routed.fitted(
                to: locked,
                queued: queued,
                lastAttempt: attempt >= policy.reservationAttempts
            )
            return try commitReservation(
                tx,
                store: store,
                order: current,
                lines: wanted,
                routed: fitted,
                channel: channel,
                attempt: attempt,
                promisedAt: snapshot.readAt
            )
        }
    }

    /// Step 2's writes for an order already captured, sent with COMMIT.
    private static func commitReservation(
        _ tx: PostgresConnection,
        store: OrderStore,
        order: OrderRecord,
        lines: [WantedLine],
        routed: RoutedReservation,
        channel: ChannelPolicy,
        attempt: Int,
        promisedAt: Date
    ) throws -> OrderOutcome {
        let decision = try ReservationDecision.decide(
            ReservationDecision.Order(
                status: order.status,
                alreadyReserved: order.unitsReserved,
                lines: lines,
                paymentSecured: order.paymentStatus.isSecured,
                email: order.email,
                externalID: order.externalID,
                id: order.id,
                priority: order.priority
            ),
            routed: routed,
            channel: channel,
            attempt: attempt,
            promisedAt: promisedAt
        )
        switch decision {
        case .reject(let move):
            var batch = PostgresBatch()
            batch.add(store.release(orderID: order.id, expiredOnly: false))
            batch.add(store.cancelRest(orderID: order.id))
            let moved = batch.add(store.move(orderID: order.id, move, holdReason: nil))
            if let email = order.email {
                batch.add(
                    store.enqueueMessage(
                        orderID: order.id,
                        CustomerMessages.cancelled(
                            orderID: order.id,
                            externalID: order.externalID,
                            email: email,
                            reason: "some items are out of stock"
                        )
                    )
                )
            }
            try tx.commit(after: batch)[moved]
        case .reserve(let write, _):
            if try !tx.commit(after: store.reserve(write)), write.move != nil {
                throw OrderlyError(.conflict, "order \(order.id) changed status during its reservation")
            }
        }
        return decision.outcome(orderID: order.id, from: order.status, plan: routed)
    }

}

/// (channel, external id) was captured before: the insert stored nothing.
struct Replayed: Error {}

extension ReservationDecision {
    func outcome(orderID: Int64, from status: OrderStatus, plan: RoutedReservation) -> OrderOutcome {
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
        case .reserve(let write, _):
            return OrderOutcome(
                orderID: orderID,
                status: write.move?.to ?? status,
                holdReason: nil,
                replayed: false,
                plan: plan.plan,
                shortage: plan.shortage,
                holdFindings: [],
                unitsReserved: unitsReserved
            )
        }
    }
}

extension RoutedReservation {
    /// Plans `wanted` over what the unlocked read saw.
    init(
        wanted: [WantedLine],
        destination: RoutingDestination,
        snapshot: RoutingSnapshot,
        serviceLevel: String?,
        strategy: any RoutingStrategy
    ) {
        self.init(
            wanted: wanted,
            destination: destination,
            warehouses: snapshot.warehouses,
            available: snapshot.available,
            rates: snapshot.rates,
            serviceLevel: serviceLevel,
            queued: snapshot.queued,
            inbound: snapshot.inbound,
            strategy: strategy
        )
    }
}

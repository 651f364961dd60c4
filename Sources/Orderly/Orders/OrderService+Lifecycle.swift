public import Foundation
import LibPQ
public import OrderlyCore
import OrderlyRouting
import OrderlyStore

extension OrderService {
    // MARK: Reading

    public func order(_ id: Int64) async throws -> OrderRecord {
        let store = self.store
        guard let order = try await database.pool.withConnection({ try store.order($0, id: id) }) else {
            throw OrderlyError(.notFound, "order \(id) does not exist")
        }
        return order
    }

    public func order(channel: SalesChannel, externalID: String) async throws -> OrderRecord {
        let store = self.store
        guard
            let order = try await database.pool.withConnection({ connection -> OrderRecord? in
                guard let id = try store.orderID(connection, channel: channel, externalID: externalID) else {
                    return nil
                }
                return try store.order(connection, id: id)
            })
        else { throw OrderlyError(.notFound, "no \(channel.rawValue) order '\(externalID)'") }
        return order
    }

    public func events(_ orderID: Int64) async throws -> [OrderEventRecord] {
        let store = self.store
        return try await database.pool.withConnection { try store.events($0, orderID: orderID) }
    }

    // MARK: Cancel

    /// Cancels units of an order (`units`, by SKU code), or everything not shipped (nil): the rest of a
    /// partially shipped order (it ends `shipped`), or all of one not shipped (`cancelled`). One
    /// transaction: `UnitCancellation` plans where the units come from under the order's lock, its
    /// reserved stock rows' and its pick lists' and shipments'; their reservations are released
    /// (ledger rows), pick lists shrink or get put-back tasks, emptied parcels and lists are cancelled,
    /// the order moves as what is left puts it, and the customer is told once. Money: what the order
    /// collected beyond what it now owes is refunded (a `refund_payment` job through the refund
    /// primitive); once nothing is left to ship, what the authorization still covers is voided (a
    /// `void_payment` job; while units are still to ship, the last parcel's `ship` enqueues it).
    /// Shipped units, and part of a packed parcel, are refused with nothing changed.
    @discardableResult
    public func cancel(
        _ orderID: Int64,
        units: [String: Int64]? = nil,
        reason: String,
        alongside: CommitAlongside<OrderOutcome>? = nil
    ) async throws -> OrderOutcome {
        let reason = try Self.checkReason(reason)
        let request: UnitCancellation.Request = units.map { .units($0) } ?? .everythingOpen
        return try await withLockedOrder(orderID, lockReservations: .all) { tx, store, order in
            guard OrderStateMachine.moves[.cancelUnits]?[order.status] != nil else {
                throw IllegalTransition(from: order.status, event: .cancel)
            }
            let (reservations, balance) = try tx.pipeline(
                store.cancellableReservations(orderID: orderID),
                PaymentStore.balance(orderID: orderID)
            )
            let plan = try UnitCancellation.plan(order: order, reservations: reservations, request: request)
            // What this cancellation releases goes back, as far as the order collected more than it now
            // owes (an authorization captured per parcel never did; a refund of an earlier cancellation
            // still queued is not counted twice, since each refunds only its own release).
            let collected = balance.map { $0.captured - $0.refunded - $0.refunding } ?? 0
            let released = plan.cancelledMinor - order.cancelledMinor
            let refund = max(0, min(released, collected - (order.totalMinor - plan.cancelledMinor)))
            let move = try OrderMove.checked(
                plan.event,
                from: order.status,
                reason: reason,
                data: plan.eventData(refundMinor: refund)
            )
            let holdReason = move.to == .onHold ? order.holdReason : nil
            var batch = PostgresBatch()
            batch.add(store.cancelUnits(orderID: orderID, plan, reason: reason))
            let moved = batch.add(store.move(orderID: orderID, move, holdReason: holdReason))
            if plan.nothingOpen, order.paymentStatus.drawsOnAuthorization {
                batch.add(JobQueue.enqueueStatement(Jobs.VoidPayment.self, .init(orderID: orderID)))
            }
            if refund > 0 {
                batch.add(
                    JobQueue.enqueueStatement(
                        Jobs.RefundPayment.self,
                        .init(
                            orderID: orderID,
                            amountMinor: refund,
                            key: "cancel:\(plan.cancelledUnitsAfter)",
                            reason: "cancelled: " + reason
                        )
                    )
                )
            }
            if let email = order.email {
                let message =
                    plan.event == .cancel
                    ? CustomerMessages.cancelled(
                        orderID: orderID,
                        externalID: order.externalID,
                        email: email,
                        reason: reason
                    )
                    : CustomerMessages.partlyCancelled(
                        orderID: orderID,
                        externalID: order.externalID,
                        email: email,
                        units: plan.lines.map { ($0.skuCode, $0.units) },
                        reason: reason,
                        refund: refund > 0 ? Money(minorUnits: refund, currency: order.currency) : nil,
                        sequence: plan.cancelledUnitsAfter
                    )
                batch.add(store.enqueueMessage(orderID: orderID, message))
            }
            let outcome = Self.outcome(
                order,
                status: move.to,
                holdReason: holdReason,
                reserved: order.unitsReserved - plan.lines.reduce(0) { $0 + $1.released }
            )
            try tx.commit(after: batch, returning: outcome, alongside: alongside)[moved]
            return outcome
        }
    }

    // MARK: Holds

    /// Holds an order for a person to look at (manual reason). Its reservations, if any, are kept.
    @discardableResult
    public func hold(
        _ orderID: Int64,
        reason: HoldReason = .manual,
        note: String,
        alongside: CommitAlongside<OrderOutcome>? = nil
    ) async throws -> OrderOutcome {
        let note = try Self.checkReason(note)
        return try await withLockedOrder(orderID, lockReservations: .none) { tx, store, order in
            let move = try OrderMove.checked(.hold, from: order.status, reason: note)
            let outcome = Self.outcome(order, status: .onHold, holdReason: reason, reserved: order.unitsReserved)
            var batch = PostgresBatch()
            let moved = batch.add(store.move(orderID: orderID, move, holdReason: reason))
            try tx.commit(after: batch, returning: outcome, alongside: alongside)[moved]
            return outcome
        }
    }

    /// Releases a held order whatever held it (a person decided), then routes and reserves it.
    ///
    /// Two transactions (the release, then the reservation's own protocol); `alongside` commits with
    /// the last, whose outcome is the order as it then stands: its status and every unit it holds
    /// reserved, kept through the hold or reserved now.
    @discardableResult
    public func release(
        _ orderID: Int64,
        note: String,
        alongside: CommitAlongside<OrderOutcome>? = nil
    ) async throws -> OrderOutcome {
        let note = try Self.checkReason(note)
        if let resumed = try await resumeFulfillment(orderID, note: note, alongside: alongside) { return resumed }
        try await releaseOnly(orderID, reason: "released: " + note, data: "{}")
        return try await reserveAfterHold(orderID, alongside: alongside)
    }

    // MARK: Fulfillment that failed for good

    /// Holds an order whose fulfillment job was discarded for good (`fulfillment_failed`), inside the
    /// transaction that discards the job: mid-fulfillment (picking, packed, partially shipped) it is held
    /// where it is and `release` resumes it there; before picking it is held as any order is. An order
    /// already held, or past the point the job could matter (cancelled, shipped), is left as it is.
    /// Returns whether it held the order.
    @discardableResult
    public func holdForFailedFulfillment(
        _ transaction: Transaction,
        orderID: Int64,
        note: String,
        reason: HoldReason = .fulfillmentFailed
    ) throws -> Bool {
        let tx = transaction.connection
        let store = self.store
        guard let order = try tx.run(store.order(orderID, lock: true)) else { return false }
        let event: OrderEvent
        if OrderStateMachine.moves[.holdFulfillment]?[order.status] != nil {
            event = .holdFulfillment
        } else if order.status != .onHold, OrderStateMachine.moves[.hold]?[order.status] != nil {
            event = .hold
        } else {
            return false
        }
        let move = try OrderMove.checked(event, from: order.status, reason: String(note.prefix(500)))
        try tx.run(store.move(orderID: orderID, move, holdReason: reason))
        return true
    }

    /// Releases a `fulfillment_failed` hold taken mid-fulfillment: back to the status it was held in,
    /// with the order's discarded jobs available again, in one transaction. Nil when the order is not
    /// held that way (the ordinary release applies).
    func resumeFulfillment(
        _ orderID: Int64,
        note: String,
        alongside: CommitAlongside<OrderOutcome>?
    ) async throws -> OrderOutcome? {
        try await withLockedOrder(orderID, lockReservations: .none) { tx, store, order -> OrderOutcome? in
            guard order.status == .onHold,
                order.holdReason == .fulfillmentFailed || order.holdReason == .paymentFailed,
                let before = try store.statusBeforeFulfillmentHold(tx, orderID: orderID),
                let event = OrderStateMachine.resume(to: before)
            else { return nil }
            let move = try OrderMove.checked(event, from: .onHold, reason: "released: " + note)
            let outcome = Self.outcome(order, status: before, holdReason: nil, reserved: order.unitsReserved)
            var batch = PostgresBatch()
            let moved = batch.add(store.move(orderID: orderID, move, holdReason: nil))
            batch.add(JobQueue.retryDiscarded(orderID: orderID))
            try tx.commit(after: batch, returning: outcome, alongside: alongside)[moved]
            return outcome
        }
    }

    /// Routes a released order's open units; the reservations it kept through the hold get their pick
    /// jobs again if it is paid (a pick that ran while it was held did nothing). The outcome counts all
    /// of the order's reserved units, not only those reserved now.
    func reserveAfterHold(
        _ orderID: Int64,
        alongside: CommitAlongside<OrderOutcome>? = nil
    ) async throws -> OrderOutcome {
        let routed = try await reserve(orderID: orderID)
        let store = self.store
        return try await withLockedOrder(orderID, lockReservations: .none) { tx, _, order in
            var outcome = routed
            outcome.status = order.status
            outcome.holdReason = order.holdReason
            outcome.unitsReserved = order.unitsReserved
            let statements =
                order.paymentStatus.isSecured && order.unitsReserved > 0
                ? [store.paymentSecured(orderID: orderID)] : []
            try tx.commit(after: statements, returning: outcome, alongside: alongside)
            return outcome
        }
    }

    /// Runs the hold rules again on a held order, with what is known now (its payment status may have
    /// changed). If none holds it, it is released and reserved; if some still do, a `hold` event
    /// records them. A manual hold is only lifted by `release`.
    @discardableResult
    public func reevaluate(_ orderID: Int64) async throws -> OrderOutcome {
        let policy = self.policy
        let outcome = try await withLockedOrder(orderID, lockReservations: .none) { tx, store, order -> OrderOutcome? in
            guard order.status == .onHold else { throw IllegalTransition(from: order.status, event: .release) }
            let channel = try Self.channel(tx.run(ChannelStore.policy(order.channel)), named: order.channel)
            var findings = policy.holds.evaluate(Self.holdContext(order, channel: channel))
            if order.holdReason == .manual {
                findings.insert(HoldFinding(rule: "manual", reason: .manual, detail: "held by a person"), at: 0)
            }
            let data = Self.findingsJSON(findings)
            guard let first = findings.first else {
                let move = try OrderMove.checked(
                    .release,
                    from: .onHold,
                    reason: "re-evaluated: no rule holds it",
                    data: data
                )
                try tx.commit(after: store.move(orderID: orderID, move, holdReason: nil))
                return nil
            }
            let move = try OrderMove.checked(
                .hold,
                from: .onHold,
                reason: "re-evaluated: " + findings.map(\.description).joined(separator: "; "),
                data: data
            )
            try tx.commit(after: store.move(orderID: orderID, move, holdReason: first.reason))
            var outcome = Self.outcome(order, status: .onHold, holdReason: first.reason, reserved: order.unitsReserved)
            outcome.holdFindings = findings
            return outcome
        }
        if let outcome { return outcome }
        return try await reserveAfterHold(orderID)
    }

    private func releaseOnly(_ orderID: Int64, reason: String, data: String) async throws {
        _ = try await withLockedOrder(orderID, lockReservations: .none) { tx, store, order in
            let move = try OrderMove.checked(.release, from: order.status, reason: reason, data: data)
            try tx.commit(after: store.move(orderID: orderID, move, holdReason: nil))
            return Self.outcome(order, status: .received, holdReason: nil, reserved: order.unitsReserved)
        }
    }

    // MARK: Expiry

    /// Marks at risk, each once, the delivery promises whose ship-by passed before `asOf` (the
    /// database's clock when nil) with their parcel not picked, and enqueues a `promise_at_risk` alert
    /// for each; at most `limit`. Returns how many it marked. The worker runs it as a sweep.
    @discardableResult
    public func watchPromises(asOf: Date? = nil, limit: Int = 200) async throws -> Int {
        Int(try await database.pool.withConnection { try $0.run(PromiseStore.markAtRisk(asOf: asOf, limit: limit)) })
    }

    /// Releases the reservations of unpaid orders whose time ran out and holds those orders for
    /// payment (`payment_pending`); a payment later re-evaluates and reserves them again. Handles at
    /// most `limit` orders; returns how many it expired. The worker runs it as a sweep.
    @discardableResult
    public func expireUnpaidReservations(limit: Int = 100) async throws -> Int {
        let store = self.store
        let due = try await database.pool.withConnection { try store.expiredOrders($0, limit: limit) }
        var expired = 0
        for orderID in due {
            let done = try await withLockedOrder(orderID, lockReservations: .expired) { tx, store, order -> Bool in
                guard !order.paymentStatus.isSecured, order.status != .onHold || order.unitsReserved > 0 else {
                    return false
                }
                var batch = PostgresBatch()
                let released = batch.add(store.release(orderID: orderID, expiredOnly: true))
                var moved: PostgresBatch.Slot<Void>?
                if order.status != .onHold {
                    let move = try OrderMove.checked(.hold, from: order.status, reason: "unpaid: reservation expired")
                    moved = batch.add(store.move(orderID: orderID, move, holdReason: .paymentPending))
                }
                let results = try tx.commit(after: batch)
                if let moved { try results[moved] }
                return try results[released] > 0
            }
            if done { expired += 1 }
        }
        return expired
    }

    // MARK: Preview

    /// Every strategy's plan for an order, from an unlocked read, reserving nothing.
    public func preview(
        _ orderID: Int64,
        strategies: [String]? = nil
    ) async throws -> [(name: String, plan: RoutingPlan?)] {
        let store = self.store
        let (order, snapshot, channel) = try await database.pool.withConnection { connection in
            let (order, snapshot, channel) = try connection.pipeline(
                store.order(orderID, lock: false),
                RoutingSnapshot.query(orderID: orderID),
                ChannelStore.policy(orderID: orderID)
            )
            guard let order else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
            return (order, snapshot, try Self.channel(channel, named: order.channel))
        }
        let routing = components.routing
        let names = strategies ?? routing.names + [channel.routing]
        let input = RoutingInput(
            lines: order.lines.filter { $0.open > 0 }.map {
                RoutingLine(skuID: $0.skuID, quantity: $0.open, unitWeightGrams: $0.unitWeightGrams)
            },
            destination: RoutingDestination(
                country: order.shipTo.country,
                zone: order.shipTo.region,
                location: order.shipTo.location
            ),
            warehouses: snapshot.warehouses,
            available: snapshot.available,
            rates: snapshot.rates,
            serviceLevel: order.serviceLevel
        )
        return try names.map { name in (name, try routing.strategy(named: name).plan(input)) }
    }

    // MARK: Helpers

    enum ReservationLock { case none, all, expired }

    /// One transaction holding the order's lock (and, as asked, the locks of its reserved inventory
    /// rows, in order): [BEGIN, lock order, lines, lock rows] in one round trip; `body` ends it with
    /// `commit(after:)`.
    func withLockedOrder<T: Sendable>(
        _ orderID: Int64,
        lockReservations: ReservationLock,
        _ body: @escaping @Sendable (PostgresConnection, OrderStore, OrderRecord) throws -> T
    ) async throws -> T {
        let store = self.store
        let (policy, metrics) = (self.policy, components.metrics)
        return try await database.pool.withConnection { connection in
            try connection.retrying(
                policy.retryPolicy,
                counting: "order_change",
                in: metrics,
                when: { ($0 as? PostgresError)?.isRetryable == true }
            ) { _ in
                try connection.transaction { tx in
                    var batch = PostgresBatch()
                    let read = batch.add(store.order(orderID, lock: true))
                    if lockReservations != .none {
                        batch.add(
                            store.lockReservedStock(orderID: orderID, expiredOnly: lockReservations == .expired)
                        )
                    }
                    guard let order = try tx.pipeline(batch)[read] else {
                        throw OrderlyError(.notFound, "order \(orderID) does not exist")
                    }
                    return try body(tx, store, order)
                }
            }
        }
    }

    static func holdContext(_ order: OrderRecord, channel: ChannelPolicy) -> HoldContext {
        HoldContext(
            channel: order.channel,
            total: order.total,
            shipTo: order.shipTo,
            billingCountry: order.billingCountry,
            email: order.email,
            riskScore: order.riskScore,
            reviewRequested: order.reviewRequested,
            paymentStatus: order.paymentStatus,
            reservesUnpaid: channel.unpaidReservationSeconds != nil,
            limits: channel.holdLimits
        )
    }

    static func findingsJSON(_ findings: [HoldFinding]) -> String {
        DecisionJSON.encode([
            "findings": findings.map { ["rule": $0.rule, "reason": $0.reason.rawValue, "detail": $0.detail] }
        ])
    }

    static func outcome(
        _ order: OrderRecord,
        status: OrderStatus,
        holdReason: HoldReason?,
        reserved: Int64
    ) -> OrderOutcome {
        OrderOutcome(
            orderID: order.id,
            status: status,
            holdReason: holdReason,
            replayed: false,
            plan: nil,
            shortage: [:],
            holdFindings: [],
            unitsReserved: reserved
        )
    }

    static func checkReason(_ reason: String) throws -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw OrderlyError(.badArgument, "a reason is required") }
        guard trimmed.count <= 500 else { throw OrderlyError(.badArgument, "the reason is longer than 500 characters") }
        return trimmed
    }
}

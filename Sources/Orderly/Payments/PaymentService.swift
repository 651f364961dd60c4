import Foundation
import LibPQ
public import OrderlyCore
import OrderlyStore

/// Money after the sale: verdicts a provider reports (`PAYMENT RECORD`, webhooks), each parcel's share
/// captured when it ships, the authorization's rest voided on cancel, refunds.
///
/// Orderly's own requests to the provider are two transactions around the call: the intent (amount and
/// idempotency key, under the order's lock, checked against the balance by the database), then the
/// provider's answer recorded with the intent settled. The provider is never called inside a
/// transaction; a crash between the two leaves an open intent that the retry asks again with the same
/// key, so the provider takes nothing twice.
public struct PaymentService: Sendable {
    public let database: OrderlyDatabase
    public let actor: String
    public let components: OrderlyComponents
    public var gateway: any PaymentGateway { components.gateway }

    public init(database: OrderlyDatabase, actor: String, components: OrderlyComponents = .standard) {
        self.database = database
        self.actor = actor
        self.components = components
    }

    var store: PaymentStore { PaymentStore(actor: actor) }
    var orders: OrderService { OrderService(database: database, actor: actor, components: components) }

    // MARK: Reading

    public func balance(_ orderID: Int64) async throws -> PaymentBalance {
        guard
            let balance = try await database.pool.withConnection({ try $0.run(PaymentStore.balance(orderID: orderID)) })
        else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
        return balance
    }

    // MARK: Verdicts from outside

    /// What the provider says now, from `PAYMENT RECORD` or a webhook: a ledger row (idempotent on
    /// provider + reference + status), an order event, the order's payment status from its balance,
    /// and the order moved on: secured payment releases held-back picks and re-evaluates a payment
    /// hold; a failure holds an order reserved unpaid. A verdict recorded before changes nothing: the
    /// outcome says `replayed`.
    @discardableResult
    public func record(
        _ orderID: Int64,
        verdict: PaymentVerdict,
        amountMinor: Int64?,
        note: String? = nil,
        alongside: CommitAlongside<OrderOutcome>? = nil
    ) async throws -> OrderOutcome {
        guard let reference = verdict.reference, !reference.isEmpty else {
            throw OrderlyError(.badArgument, "a payment verdict needs the provider's reference")
        }
        let store = self.store
        let recorded = try await orders.withLockedOrder(orderID, lockReservations: .none) {
            tx,
            orderStore,
            order -> OrderOutcome in
            guard let before = try tx.run(PaymentStore.balance(orderID: orderID)) else {
                throw OrderlyError(.notFound, "order \(orderID) does not exist")
            }
            let amount = amountMinor ?? Self.defaultAmount(verdict.status, before)
            guard amount >= 0, amount <= order.totalMinor else {
                throw OrderlyError(
                    .badArgument,
                    "amount \(amount) is outside 0...\(order.totalMinor) (the order's total)"
                )
            }
            let entry = PaymentEntry(verdict: verdict, amountMinor: amount, note: note)
            let unchanged = OrderService.outcome(
                order,
                status: order.status,
                holdReason: order.holdReason,
                reserved: order.unitsReserved
            )
            guard try tx.run(store.insert(orderID: orderID, currency: order.currency, entry)) != nil else {
                var replayed = unchanged
                replayed.replayed = true
                try tx.commit(after: [], returning: replayed, alongside: alongside)
                return replayed
            }
            guard let after = try tx.run(PaymentStore.balance(orderID: orderID)) else {
                throw OrderlyError(.notFound, "order \(orderID) does not exist")
            }
            let status =
                verdict.status == .pending || verdict.status == .failed
                ? (before.authorized > 0 ? after.status(current: order.paymentStatus) : verdict.status)
                : after.status(current: verdict.status)
            var batch = PostgresBatch()
            batch.add(store.setStatus(orderID: orderID, status))
            batch.add(
                store.fact(
                    orderID: orderID,
                    .payment(verdict.status),
                    reason: "\(verdict.provider) \(reference): \(verdict.status.rawValue) \(amount)"
                        + (verdict.message.map { " (\($0))" } ?? "")
                )
            )
            // Only the first time: a capture after an authorization must not pick twice.
            if status.isSecured && !order.paymentStatus.isSecured {
                batch.add(orderStore.paymentSecured(orderID: orderID))
            }
            var outcome = unchanged
            var moved: PostgresBatch.Slot<Void>?
            if verdict.status == .failed, before.authorized == 0,
                [.received, .backordered, .partiallyReserved, .reserved].contains(order.status)
            {
                let move = try OrderMove.checked(
                    .hold,
                    from: order.status,
                    reason: "payment failed: \(verdict.message ?? "no reason given")"
                )
                moved = batch.add(orderStore.move(orderID: orderID, move, holdReason: .paymentFailed))
                outcome.status = .onHold
                outcome.holdReason = .paymentFailed
            }
            let results = try tx.commit(after: batch, returning: outcome, alongside: alongside)
            if let moved { try results[moved] }
            return outcome
        }
        guard !recorded.replayed, verdict.status.isSecured, recorded.status == .onHold,
            recorded.holdReason == .paymentPending || recorded.holdReason == .paymentFailed
        else { return recorded }
        // Held for payment mid-fulfillment (a capture that failed for good): resume where it stopped.
        let note = "payment \(verdict.status.rawValue)"
        if let resumed = try await orders.resumeFulfillment(orderID, note: note, alongside: nil) { return resumed }
        return try await orders.reevaluate(orderID)
    }

    static func defaultAmount(_ status: PaymentStatus, _ balance: PaymentBalance) -> Int64 {
        switch status {
        case .captured, .partiallyCaptured: balance.authorized > 0 ? balance.capturable : balance.outstanding
        case .voided: balance.capturable
        case .refunded, .partiallyRefunded: balance.refundable
        default: balance.total
        }
    }

    // MARK: Capture at shipment

    /// The `capture` job: the labelled parcel's share captured through the gateway, then its `ship`
    /// enqueued with the receipt. A decline or a timeout throws (the job retries with backoff and the
    /// same key); `attempt` is the job's.
    public func captureParcel(orderID: Int64, shipmentID: Int64, attempt: Int) async throws {
        let store = self.store
        let ship = JobQueue.enqueueStatement(
            NewJob(Jobs.Ship.self, .init(orderID: orderID, shipmentID: shipmentID)),
            priorityOf: orderID
        )
        // 1. The intent, under the order's lock: [the parcel's last intent, its facts, the authorization].
        let planned = try await orders.withLockedOrder(orderID, lockReservations: .none) {
            tx,
            _,
            order -> Planned? in
            let (latest, read, authorization) = try tx.pipeline(
                PaymentStore.latestCapture(shipmentID: shipmentID),
                PaymentStore.parcelFacts(orderID: orderID, shipmentID: shipmentID),
                PaymentStore.authorization(orderID: orderID)
            )
            if latest?.status == .settled { return nil }
            guard let facts = read else {
                throw OrderlyError(.notFound, "order \(orderID) has no shipment \(shipmentID)")
            }
            guard facts.shipmentStatus == .labelled, order.status != .cancelled else {
                // Cancelled meanwhile: an intent still open is given up, and what it held back from the
                // cancel's void is voided now.
                if let latest, latest.status == .open {
                    try tx.run(store.closeIntent(key: latest.key, failed: "parcel \(facts.shipmentStatus.rawValue)"))
                    try tx.execute(JobQueue.enqueueStatement(Jobs.VoidPayment.self, .init(orderID: orderID)))
                }
                return nil
            }
            if let latest, latest.status == .open {
                return Planned(latest, order: order, authorization: authorization, attempt: attempt, then: [ship])
            }
            let share = ParcelShare.share(
                total: facts.total,
                subtotal: facts.subtotal,
                shippedValueBefore: facts.priorValue,
                parcelValue: facts.parcelValue,
                everythingShippedAfter: facts.lastParcel,
                capturedBefore: facts.priorAmount
            )
            guard share > 0 else {
                try tx.execute(ship)
                return nil
            }
            // After an intent that failed for good (the order was released): a new request.
            let key = PaymentStore.nextKey("capture:shipment:\(shipmentID)", after: latest)
            guard
                let opened = try tx.run(
                    store.openIntent(
                        orderID: orderID,
                        operation: .capture,
                        amount: Money(minorUnits: share, currency: order.currency),
                        key: key,
                        shipmentID: shipmentID,
                        reason: "parcel \(shipmentID)'s share"
                    )
                )
            else { throw OrderlyError(.conflict, "capture intent \(key) was written concurrently") }
            return Planned(opened, order: order, authorization: authorization, attempt: attempt, then: [ship])
        }
        // 2 and 3: the provider, then the receipt with the parcel's ship.
        if let planned { try await carryOut(planned) }
    }

    /// A capture job discarded for good, in the transaction that discards it: its intent failed, the
    /// order held `payment_failed` where it is (releasing it, or a new authorization, resumes it) and
    /// operations alerted. Returns whether it held the order.
    @discardableResult
    public func captureFailedForGood(
        _ transaction: Transaction,
        orderID: Int64,
        shipmentID: Int64,
        error: String,
        alert: (recipient: String, channel: String)
    ) throws -> Bool {
        let tx = transaction.connection
        if let intent = try tx.run(PaymentStore.latestCapture(shipmentID: shipmentID)), intent.status == .open {
            try tx.run(store.closeIntent(key: intent.key, failed: String(error.prefix(1000))))
        }
        let held = try orders.holdForFailedFulfillment(
            transaction,
            orderID: orderID,
            note: "capture of parcel \(shipmentID) failed: \(error)",
            reason: .paymentFailed
        )
        try tx.execute(
            store.message(
                orderID: orderID,
                OutboxMessage(
                    kind: .paymentFailed,
                    recipient: alert.recipient,
                    subject: "Capture failed for order \(orderID), parcel \(shipmentID)",
                    body: "The parcel is not shipped and the order is held (payment_failed). Last error: \(error)",
                    dedupeKey: "payment_failed:shipment:\(shipmentID):\(UUID().uuidString)"
                ),
                channel: alert.channel
            )
        )
        return held
    }

    // MARK: Void

    /// The `void_payment` job: what the authorization still covers of a cancelled order, less captures
    /// in flight, is voided. Returns the amount voided (0: nothing left). A void still open is asked
    /// again with its key; after one settled, a later void (a capture in flight that was given up) is
    /// a new intent.
    @discardableResult
    public func voidRemainder(orderID: Int64, attempt: Int) async throws -> Int64 {
        let store = self.store
        let planned = try await orders.withLockedOrder(orderID, lockReservations: .none) {
            tx,
            _,
            order -> Planned? in
            let (latest, read, authorization) = try tx.pipeline(
                PaymentStore.latestVoid(orderID: orderID),
                PaymentStore.balance(orderID: orderID),
                PaymentStore.authorization(orderID: orderID)
            )
            if let latest, latest.status == .open {
                return Planned(latest, order: order, authorization: authorization, attempt: attempt)
            }
            guard let balance = read else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
            guard balance.voidable > 0 else { return nil }
            let key = PaymentStore.nextKey("void:order:\(orderID)", after: latest)
            guard
                let opened = try tx.run(
                    store.openIntent(
                        orderID: orderID,
                        operation: .void,
                        amount: Money(minorUnits: balance.voidable, currency: order.currency),
                        key: key,
                        shipmentID: nil,
                        reason: "the authorization's rest: the order is \(order.status.rawValue)"
                    )
                )
            else { throw OrderlyError(.conflict, "void intent \(key) was written concurrently") }
            return Planned(opened, order: order, authorization: authorization, attempt: attempt)
        }
        guard let planned else { return 0 }
        try await carryOut(planned)
        return planned.intent.amountMinor
    }

    // MARK: Refund

    /// Refunds `amountMinor` of what the order had captured, through the gateway: at most what was
    /// captured less what is refunded or being refunded (the database refuses more, whoever asks
    /// concurrently). `key` makes it idempotent: the same key again returns the first refund's
    /// outcome, or, if the provider did not answer then, asks it again with the same key. Returns the
    /// balance after.
    @discardableResult
    public func refund(
        _ orderID: Int64,
        amountMinor: Int64,
        key: String,
        reason: String,
        attempt: Int = 1
    ) async throws -> PaymentBalance {
        let reason = try OrderService.checkReason(reason)
        guard amountMinor > 0 else { throw OrderlyError(.badArgument, "a refund's amount must be positive") }
        guard !key.isEmpty, key.count <= 200 else {
            throw OrderlyError(.badArgument, "a refund key is 1-200 characters")
        }
        let intentKey = "refund:order:\(orderID):\(key)"
        let (store, actor) = (self.store, self.actor)
        let credit = StoreCreditStore(actor: actor)
        let planned = try await orders.withLockedOrder(orderID, lockReservations: .none) {
            tx,
            _,
            order -> Planned? in
            let (existing, read, authorization, paidWithCredit) = try tx.pipeline(
                PaymentStore.intent(key: intentKey),
                PaymentStore.balance(orderID: orderID),
                PaymentStore.authorization(orderID: orderID),
                StoreCreditStore.paidWithCredit(orderID: orderID)
            )
            // An order paid with store credit is refunded to it (the credit commits with the receipt).
            let backToCredit: [PostgresStatement] =
                paidWithCredit
                ? [
                    credit.credit(
                        email: order.email ?? "",
                        currency: order.currency.code,
                        amountMinor: amountMinor,
                        reason: "refund",
                        orderID: orderID,
                        returnID: nil
                    )
                ] : []
            // The customer's message commits with the receipt.
            let message = order.email.map { email in
                OrderStore(actor: actor).enqueueMessage(
                    orderID: orderID,
                    OutboxMessage(
                        kind: .refundIssued,
                        recipient: email,
                        subject: "A refund for your order \(order.externalID)",
                        body: "We refunded \(Money(minorUnits: amountMinor, currency: order.currency).formatted) "
                            + "to your original payment method (\(reason)).",
                        dedupeKey: "refund_issued:\(intentKey)"
                    )
                )
            }
            if let existing {
                guard existing.amountMinor == amountMinor else {
                    throw OrderlyError(
                        .conflict,
                        "refund key \(key) was used for \(existing.amountMinor), not \(amountMinor)"
                    )
                }
                guard existing.status == .open else { return nil }
                return Planned(
                    existing,
                    order: order,
                    authorization: authorization,
                    attempt: attempt,
                    then: (message.map { [$0] } ?? []) + backToCredit,
                    storeCredit: paidWithCredit
                )
            }
            guard let balance = read else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
            guard amountMinor <= balance.refundable else {
                throw OrderlyError(
                    .badArgument,
                    "a refund of \(amountMinor) is more than the \(balance.refundable) refundable "
                        + "(captured \(balance.captured), refunded \(balance.refunded), in flight \(balance.refunding))"
                )
            }
            var batch = PostgresBatch()
            let opened = batch.add(
                store.openIntent(
                    orderID: orderID,
                    operation: .refund,
                    amount: Money(minorUnits: amountMinor, currency: order.currency),
                    key: intentKey,
                    shipmentID: nil,
                    reason: reason
                )
            )
            batch.add(store.fact(orderID: orderID, .refundRequested, reason: "\(amountMinor): \(reason)"))
            guard let intent = try tx.commit(after: batch)[opened] else {
                throw OrderlyError(.conflict, "refund \(key) was written concurrently")
            }
            return Planned(
                intent,
                order: order,
                authorization: authorization,
                attempt: attempt,
                then: (message.map { [$0] } ?? []) + backToCredit,
                storeCredit: paidWithCredit
            )
        }
        if let planned { try await carryOut(planned) }
        return try await balance(orderID)
    }

    // MARK: Helpers

    /// A request planned under the order's lock: its intent, what the provider is asked, and what
    /// commits with the receipt.
    struct Planned: Sendable {
        var intent: PaymentStore.Intent
        var request: GatewayRequest
        var then: [PostgresStatement]
        /// Settled against the customer's store credit, not the gateway.
        var storeCredit: Bool

        init(
            _ intent: PaymentStore.Intent,
            order: OrderRecord,
            authorization: String?,
            attempt: Int,
            then: [PostgresStatement] = [],
            storeCredit: Bool = false
        ) {
            self.intent = intent
            self.request = GatewayRequest(
                operation: intent.operation,
                orderID: order.id,
                amount: Money(minorUnits: intent.amountMinor, currency: order.currency),
                idempotencyKey: intent.key,
                authorization: authorization,
                attempt: attempt
            )
            self.then = then
            self.storeCredit = storeCredit
        }
    }

    /// Steps 2 and 3 of a planned request: the provider, then its receipt settled.
    func carryOut(_ planned: Planned) async throws {
        if planned.storeCredit {
            try await settle(planned, receipt: GatewayReceipt(reference: "store_credit:" + planned.intent.key))
            return
        }
        let receipt = try await ask(planned.request, onFailure: planned.intent.key)
        try await settle(planned, receipt: receipt)
    }

    /// The gateway, within the timeout. A failure is noted on the open intent (for PAYMENT LIST)
    /// and rethrown.
    func ask(_ request: GatewayRequest, onFailure key: String) async throws -> GatewayReceipt {
        let gateway = self.gateway
        let timeout = components.gatewayTimeoutSeconds
        do {
            return try await withThrowingTaskGroup(of: GatewayReceipt?.self) { group in
                group.addTask { try await gateway.perform(request) }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let receipt = first else {
                    throw GatewayFailure.timedOut(seconds: timeout)
                }
                return receipt
            }
        } catch {
            let store = self.store
            _ = try? await database.pool.withConnection { connection in
                try connection.execute(store.intentError(key: key, error: "attempt \(request.attempt): \(error)"))
            }
            throw error
        }
    }

    /// Step 3: under the order's lock, the intent settled, its ledger row, the order's payment status
    /// from its balance, an event, the gateway's instruction and `then`. Nothing if it was settled
    /// already (a rerun after a crash).
    func settle(_ planned: Planned, receipt: GatewayReceipt) async throws {
        let (store, intent) = (self.store, planned.intent)
        let provider = planned.storeCredit ? StoreCredit.provider : gateway.name
        let entry = PaymentEntry(
            kind: PaymentEntry.Kind(intent.operation),
            outcome: .succeeded,
            amountMinor: intent.amountMinor,
            provider: provider,
            reference: receipt.reference,
            idempotencyKey: intent.key,
            shipmentID: intent.shipmentID,
            note: intent.reason
        )
        try await orders.withLockedOrder(planned.request.orderID, lockReservations: .none) { tx, _, order in
            guard try tx.run(store.closeIntent(key: intent.key, failed: nil)) == 1 else { return }
            let (_, balance) = try tx.pipeline(
                store.insert(orderID: order.id, currency: order.currency, entry),
                PaymentStore.balance(orderID: order.id)
            )
            guard let after = balance else { throw OrderlyError(.notFound, "order \(order.id) does not exist") }
            var statements = [
                store.setStatus(orderID: order.id, after.status(current: order.paymentStatus)),
                store.fact(
                    orderID: order.id,
                    entry.kind.fact,
                    reason: "\(entry.kind.rawValue) \(entry.amountMinor) \(order.currency.code) via \(provider) "
                        + "(\(receipt.reference))",
                    data: DecisionJSON.encode(["key": intent.key, "amount_minor": entry.amountMinor])
                ),
            ]
            if let instruction = receipt.instruction {
                statements.append(store.message(orderID: order.id, instruction, channel: "webhook"))
            }
            try tx.commit(after: statements + planned.then)
        }
    }
}

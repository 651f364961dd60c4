import Foundation
import LibPQ
public import OrderlyCore
import OrderlyRouting
import OrderlyStore

extension OrderService {
    // MARK: Edit

    /// Edits an order before any of it is picked (`ORDER EDIT`): quantities, lines added or removed,
    /// the ship-to, the service level. One transaction: the edited order is validated as capture
    /// would, the hold rules run on it, the units it gives back are released, and what is open is
    /// routed and reserved as for a new order (the order moves `edit` to `received`, then where the
    /// routing puts it). A new ship-to or service level routes every unit again. An edit a rejecting
    /// channel cannot fill is refused with nothing changed; a backordering one backorders what is
    /// short. A hold rule that now holds the order holds it (reservations kept, nothing routed); an
    /// order on hold stays on hold. Money: a lower total on a payment captured already is refunded
    /// (a `refund_payment` job); a higher one than the payment covers holds it `payment_pending`.
    /// Once a parcel is being picked: `ILLEGAL_TRANSITION` naming it.
    @discardableResult
    public func edit(
        _ orderID: Int64,
        _ change: OrderEdit,
        reason: String,
        alongside: CommitAlongside<OrderOutcome>? = nil
    ) async throws -> OrderOutcome {
        let reason = try Self.checkReason(reason)
        let (store, policy, routing, metrics) = (self.store, self.policy, components.routing, components.metrics)
        return try await database.pool.withConnection { connection in
            try connection.retrying(policy.retryPolicy, counting: "edit", in: metrics) { attempt in
                try EditRun(
                    store: store,
                    policy: policy,
                    routing: routing,
                    orderID: orderID,
                    change: change,
                    reason: reason,
                    attempt: attempt
                ).run(connection, alongside: alongside)
            }
        }
    }
}

/// One attempt of an edit: the unlocked read and plan, then the transaction.
struct EditRun {
    let store: OrderStore
    let policy: OrderPolicy
    let routing: RoutingRegistry
    let orderID: Int64
    let change: OrderEdit
    let reason: String
    let attempt: Int

    static let editable: Set<OrderStatus> = [.received, .onHold, .backordered, .partiallyReserved, .reserved]

    func run(_ connection: PostgresConnection, alongside: CommitAlongside<OrderOutcome>?) throws -> OrderOutcome {
        // The order is locked first and held through the edit, so nothing else changes it meanwhile
        // (an edit is rare; a cancel or reservation of the same order waits for it).
        try connection.transaction { tx in
            let (read, parcels, reservations) = try tx.pipeline(
                store.order(orderID, lock: true),
                store.liveParcels(orderID: orderID),
                store.activeReservations(orderID: orderID)
            )
            guard let seen = read else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
            try Self.checkEditable(seen, parcels: parcels)
            let edited = try change.apply(to: seen)
            let codes = edited.lines.map(\.sku)
            let (snapshot, stored) = try tx.pipeline(
                RoutingSnapshot.query(
                    skuCodes: codes,
                    country: edited.shipTo.country,
                    ahead: BackorderQueue.ahead(of: orderID, skuCodes: codes)
                ),
                ChannelStore.policy(seen.channel)
            )
            let channel = try OrderService.channel(stored, named: seen.channel)
            let strategy = try routing.strategy(named: channel.routing)
            let validated = try policy.validator.validate(edited.asNew, catalog: snapshot.catalog)
            if let level = edited.serviceLevel, level != seen.serviceLevel,
                !snapshot.rates.contains(where: { $0.service == level })
            {
                throw OrderlyError(.badArgument, "service_level: no '\(level)' rate to \(edited.shipTo.country)")
            }
            let money = try Totals(seen, edited: edited, subtotal: validated.subtotalMinor)

            // What the edit gives back: every reservation when routed again, else what a lower quantity frees.
            let before = Dictionary(seen.lines.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var releases: [UnitCancellation.ReservationCut] = []
            var kept: [Int64: Int64] = [:]  // line id → reserved units it keeps
            for line in edited.lines {
                guard let id = line.lineID, let stored = before[id] else { continue }
                let keep = edited.reroutesAll ? 0 : min(stored.reserved, line.quantity - stored.cancelled)
                kept[id] = keep
                var free = stored.reserved - keep
                for r in reservations.filter({ $0.orderLineID == id }).sorted(by: {
                    $0.reservationID > $1.reservationID
                })
                where free > 0 {
                    let units = min(free, r.quantity)
                    free -= units
                    releases.append(
                        .init(
                            reservationID: r.reservationID,
                            orderLineID: id,
                            warehouseID: r.warehouseID,
                            skuID: r.skuID,
                            units: units
                        )
                    )
                }
            }

            // The hold rules on the edited order, and whether the payment still covers it.
            var findings = policy.holds.evaluate(
                HoldContext(
                    channel: seen.channel,
                    total: Money(minorUnits: money.total, currency: seen.currency),
                    shipTo: edited.shipTo,
                    billingCountry: seen.billingCountry,
                    email: seen.email,
                    riskScore: seen.riskScore,
                    reviewRequested: seen.reviewRequested,
                    paymentStatus: seen.paymentStatus,
                    reservesUnpaid: channel.unpaidReservationSeconds != nil,
                    limits: channel.holdLimits
                )
            )

            // The open units routed over the snapshot, with what the edit releases available to it.
            var available = snapshot.available
            for cut in releases { available[cut.warehouseID, default: [:]][cut.skuID, default: 0] += cut.units }
            var routedSnapshot = snapshot
            routedSnapshot.available = available
            let skuIDs = snapshot.catalog.mapValues(\.id)
            let weights = snapshot.catalog.mapValues(\.weightGrams)
            func wanted(_ ids: [String: Int64]) -> [WantedLine] {
                edited.lines.map { line in
                    let cancelled = line.lineID.flatMap { before[$0]?.cancelled } ?? 0
                    let open = line.quantity - cancelled - (line.lineID.flatMap { kept[$0] } ?? 0)
                    return WantedLine(
                        lineID: ids[line.sku] ?? line.lineID ?? 0,
                        skuID: skuIDs[line.sku] ?? 0,
                        open: max(open, 0),
                        weight: weights[line.sku] ?? 1
                    )
                }
            }
            let destination = RoutingDestination(
                country: edited.shipTo.country,
                zone: edited.shipTo.region,
                location: edited.shipTo.location
            )
            let routed = RoutedReservation(
                wanted: wanted([:]),
                destination: destination,
                snapshot: routedSnapshot,
                serviceLevel: edited.serviceLevel,
                strategy: strategy
            )
            let lockRows = routed.rows + releases.map { ($0.warehouseID, $0.skuID) }

            // Then the rows it routes or releases, the edit, and the routing's writes with COMMIT.
            let (locked, queued, balance, edits) = try tx.pipeline(
                store.lockStock(Array(Set(lockRows.map { Row($0.0, $0.1) })).map { ($0.warehouse, $0.sku) }),
                BackorderQueue.query(BackorderQueue.ahead(of: orderID, skuCodes: codes)),
                PaymentStore.balance(orderID: orderID),
                store.eventCount(orderID: orderID, event: OrderEvent.edit.rawValue)
            )
            // The locked rows as they will be once the edit's releases are written.
            let adjusted = locked.map { row -> LockedStock in
                var row = row
                row.reserved -= releases.filter { $0.warehouseID == row.warehouseID && $0.skuID == row.skuID }
                    .reduce(0) { $0 + $1.units }
                return row
            }
            let held = seen.status == .onHold
            let fitted =
                held
                ? routed
                : try routed.fitted(to: adjusted, queued: queued, lastAttempt: attempt >= policy.reservationAttempts)
            // Money: covered, refunded, or held for more.
            let collected = balance.map { $0.captured - $0.refunded - $0.refunding } ?? 0
            let covers = balance.map { max($0.authorized - $0.voided, $0.captured) - $0.refunded } ?? 0
            let due = money.total - money.cancelled
            let refund = max(0, min(seen.dueMinor - due, collected - due))
            if seen.paymentStatus.isSecured, due > covers {
                findings.append(
                    HoldFinding(
                        rule: "edit_payment",
                        reason: .paymentPending,
                        detail:
                            "the edit makes the order \(Money(minorUnits: due, currency: seen.currency).formatted); "
                            + "its payment covers \(Money(minorUnits: covers, currency: seen.currency).formatted) "
                            + "(PAYMENT RECORD an authorization of the rest)"
                    )
                )
            }
            let editMove = try OrderMove.checked(
                .edit,
                from: seen.status,
                reason: reason,
                data: EditJSON.data(before: seen, after: edited, total: money.total, released: releases)
            )
            let (ids, _) = try tx.pipeline(
                store.applyEdit(
                    orderID: orderID,
                    edited,
                    skuIDs: skuIDs,
                    releases: releases,
                    subtotalMinor: money.subtotal,
                    totalMinor: money.total,
                    cancelledMinor: money.cancelled
                ),
                store.move(orderID: orderID, editMove, holdReason: held ? seen.holdReason : nil)
            )
            var batch = PostgresBatch()
            var outcome = OrderService.outcome(
                seen,
                status: editMove.to,
                holdReason: held ? seen.holdReason : nil,
                reserved: kept.values.reduce(0, +)
            )
            // The routing, even where a hold follows: an edit a rejecting channel cannot fill is refused.
            let decision =
                held
                ? nil
                : try ReservationDecision.decide(
                    ReservationDecision.Order(
                        status: .received,
                        alreadyReserved: kept.values.reduce(0, +),
                        lines: wanted(ids),
                        paymentSecured: seen.paymentStatus.isSecured,
                        email: seen.email,
                        externalID: seen.externalID,
                        id: orderID,
                        priority: seen.priority
                    ),
                    routed: fitted,
                    channel: channel,
                    attempt: attempt,
                    promisedAt: snapshot.readAt
                )
            if case .reject? = decision {
                let short = fitted.shortage.filter { $0.value > 0 }.map { sku, units in
                    "\(snapshot.catalog.values.first { $0.id == sku }?.code ?? "SKU \(sku)") short \(units)"
                }.sorted().joined(separator: ", ")
                throw OrderlyError(
                    .insufficientStock,
                    "the edit cannot be filled (channel \(seen.channel) does not backorder): \(short); nothing changed"
                )
            }
            if !held, !findings.isEmpty {
                // Held: nothing routed now; what it keeps stays reserved, the rest is routed on release.
                let hold = try OrderMove.checked(
                    .hold,
                    from: .received,
                    reason: findings.map(\.description).joined(separator: "; "),
                    data: OrderService.findingsJSON(findings)
                )
                batch.add(store.move(orderID: orderID, hold, holdReason: findings[0].reason))
                outcome.status = .onHold
                outcome.holdReason = findings[0].reason
                outcome.holdFindings = findings
            } else if let decision, case .reserve(var write, _) = decision {
                write.message = nil
                batch.add(store.reserve(write))
                let reserved = decision.outcome(orderID: orderID, from: .received, plan: fitted)
                outcome.status = reserved.status
                outcome.plan = reserved.plan
                outcome.shortage = reserved.shortage
                outcome.unitsReserved = kept.values.reduce(0, +) + reserved.unitsReserved
            }
            if refund > 0 {
                batch.add(
                    JobQueue.enqueueStatement(
                        Jobs.RefundPayment.self,
                        .init(
                            orderID: orderID,
                            amountMinor: refund,
                            key: "edit:\(edits + 1)",
                            reason: "edited: " + reason
                        )
                    )
                )
            }
            if let email = seen.email {
                batch.add(
                    store.enqueueMessage(
                        orderID: orderID,
                        CustomerMessages.edited(
                            orderID: orderID,
                            externalID: seen.externalID,
                            email: email,
                            lines: edited.lines.filter { $0.quantity != $0.before }.map {
                                ($0.sku, $0.before, $0.quantity)
                            },
                            addressChanged: edited.shipTo != seen.shipTo,
                            refund: refund > 0 ? Money(minorUnits: refund, currency: seen.currency) : nil,
                            sequence: edits + 1
                        )
                    )
                )
            }
            try tx.commit(after: batch, returning: outcome, alongside: alongside)
            return outcome
        }
    }

    /// Before any parcel is picked, and not after the order is done.
    static func checkEditable(_ order: OrderRecord, parcels: [(id: Int64, status: ShipmentStatus)]) throws {
        guard editable.contains(order.status) else {
            let detail = parcels.first.map {
                "parcel \($0.id) is \($0.status.rawValue); an order is edited only before any parcel is picked (ORDER CANCEL lines= cancels units)"
            }
            throw IllegalTransition(from: order.status, event: .edit, detail: detail)
        }
    }

    /// A (warehouse, SKU) row, hashable.
    struct Row: Hashable {
        var warehouse: Int64
        var sku: Int64
        init(_ warehouse: Int64, _ sku: Int64) { (self.warehouse, self.sku) = (warehouse, sku) }
    }

    /// The edited order's money: subtotal of its lines, total with the order's shipping, tax and
    /// discount as they were, and the share its cancelled units release.
    struct Totals {
        var subtotal: Int64
        var total: Int64
        var cancelled: Int64

        init(_ order: OrderRecord, edited: OrderEdit.Result, subtotal: Int64) throws {
            let adjustments = order.totalMinor - order.subtotalMinor
            let (total, overflow) = subtotal.addingReportingOverflow(adjustments)
            guard !overflow, total >= 0 else {
                throw OrderlyError(
                    .badArgument,
                    "the edited order's total would be below zero (its discount exceeds it)"
                )
            }
            let cancelledValue = order.lines.reduce(Int64(0)) { $0 + $1.unitPriceMinor * $1.cancelled }
            self.subtotal = subtotal
            self.total = total
            self.cancelled = ParcelShare.cancelledShare(
                total: total,
                subtotal: subtotal,
                cancelledValue: cancelledValue,
                shippedValue: 0,
                nothingOpen: false,
                anythingShipped: false
            )
        }
    }
}

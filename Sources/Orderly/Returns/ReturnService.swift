import Foundation
import LibPQ
public import OrderlyCore
import OrderlyStore

/// Returns: opened for shipped units within the channel's window (a return label through the
/// `Carrier` protocol), received at a warehouse, inspected unit by unit (restocked or scrapped, with
/// their ledger rows; the backorder queue served first), refunded through the refund primitive.
/// Every step is one transaction under the order's lock, an order event and a customer message.
public struct ReturnService: Sendable {
    public let database: OrderlyDatabase
    public let actor: String
    public let components: OrderlyComponents

    public init(database: OrderlyDatabase, actor: String, components: OrderlyComponents = .standard) {
        self.database = database
        self.actor = actor
        self.components = components
    }

    var store: ReturnStore { ReturnStore(actor: actor) }
    var orders: OrderStore { OrderStore(actor: actor) }
    /// Order events that move nothing (a return's steps).
    var facts: PaymentStore { PaymentStore(actor: actor) }

    /// What `open` did.
    public struct Opened: Hashable, Sendable {
        public var id: Int64
        public var rma: String
        public var trackingNumber: String?
        /// `open`, or `inspected` for a refund without return.
        public var status: ReturnStatus
    }

    /// Opens a return of `units` (SKU code → units) of an order's shipped units. Refused with nothing
    /// changed: an order with nothing shipped, a SKU the order has no line of, more units than
    /// shipped and not on returns already, a line whose window closed.
    public func open(
        orderID: Int64,
        units: [String: Int64],
        reason: ReturnReason,
        note: String?,
        warehouse: Int64? = nil,
        keepItem: Bool = false,
        alongside: CommitAlongside<Opened>? = nil
    ) async throws -> Opened {
        guard !units.isEmpty else { throw OrderlyError(.badArgument, "lines: name at least one SKU:QTY") }
        if let note, note.count > 500 { throw OrderlyError(.badArgument, "note is longer than 500 characters") }
        let (store, orders, facts, carriers) = (self.store, self.orders, self.facts, components.labelCarriers)
        return try await transaction { tx in
            guard let order = try tx.run(orders.order(orderID, lock: true)) else {
                throw OrderlyError(.notFound, "order \(orderID) does not exist")
            }
            let channel = try OrderService.channel(tx.run(ChannelStore.policy(order.channel)), named: order.channel)
            let lines = try tx.run(store.returnableLines(orderID: orderID, windowDays: channel.returnWindowDays))
            guard lines.contains(where: { $0.shipped > 0 }) else {
                throw OrderlyError(
                    .conflict,
                    "order \(orderID) has nothing shipped to return (it is \(order.status.rawValue))"
                )
            }
            var taken: [(orderLineID: Int64, skuID: Int64, units: Int64)] = []
            for (sku, count) in units.sorted(by: { $0.key < $1.key }) {
                guard let line = lines.first(where: { $0.skuCode == sku }) else {
                    throw OrderlyError(.badArgument, "lines: order \(orderID) has no line of SKU \(sku)")
                }
                guard count > 0 else { throw OrderlyError(.badArgument, "lines: \(sku): return at least 1 unit") }
                let returnable = line.shipped - line.returned
                guard count <= returnable else {
                    throw OrderlyError(
                        .conflict,
                        "lines: \(sku): \(count) asked, \(returnable) can be returned (\(line.shipped) shipped, "
                            + "\(line.returned) on returns already)"
                    )
                }
                guard line.windowOpen else {
                    throw OrderlyError(
                        .conflict,
                        "lines: \(sku): the return window closed on \(line.windowCloses ?? "-") "
                            + "(\(channel.returnWindowDays) days after delivery)"
                    )
                }
                if keepItem, line.unitPriceMinor * count > channel.keepItemLimitMinor {
                    throw OrderlyError(
                        .conflict,
                        "keep_item: \(sku): \(Money(minorUnits: line.unitPriceMinor * count, currency: order.currency).formatted) "
                            + "is over the channel's limit of "
                            + "\(Money(minorUnits: channel.keepItemLimitMinor, currency: order.currency).formatted)"
                    )
                }
                taken.append((line.orderLineID, line.skuID, count))
            }
            let warehouseID = try warehouse ?? Self.require(lines.compactMap(\.warehouseID).first)
            let label =
                keepItem
                ? nil
                : try Self.label(
                    tx,
                    order: order,
                    warehouseID: warehouseID,
                    grams: taken.reduce(Int64(0)) { total, unit in
                        total + unit.units * (order.lines.first { $0.id == unit.orderLineID }?.unitWeightGrams ?? 1)
                    },
                    carriers: carriers
                )
            let message = order.email.map { email in
                OutboxMessage(
                    kind: .returnOpened,
                    recipient: email,
                    subject: "Your return for order \(order.externalID)",
                    body: "We opened a return of "
                        + taken.map { unit in
                            "\(unit.units) × \(lines.first { $0.orderLineID == unit.orderLineID }?.skuCode ?? "?")"
                        }.joined(separator: ", ")
                        + (label.map { "; send it with the label, tracking \($0.label.trackingNumber)" } ?? ""),
                    dedupeKey: "return_opened:return:"
                )
            }
            guard
                let (id, rma) = try tx.run(
                    store.open(
                        orderID: orderID,
                        reason: reason,
                        note: note,
                        warehouseID: warehouseID,
                        lines: taken,
                        label: label,
                        message: message
                    )
                )
            else { throw OrderlyError(.conflict, "return for order \(orderID) was not written") }
            try tx.execute(
                facts.fact(
                    orderID: orderID,
                    .returnOpened,
                    reason: "\(rma): \(reason.rawValue)" + (keepItem ? ", kept" : "")
                )
            )
            if keepItem {
                // Kept: inspected at once, and the order moves as if the units had come back.
                try tx.execute(store.kept(id))
                let returnedBefore = try tx.run(store.returnedUnits(orderID: orderID, excluding: id))
                var back: [Int64: Int64] = [:]
                for unit in taken { back[unit.orderLineID, default: 0] += unit.units }
                let allBack = order.lines.allSatisfy { line in
                    line.shipped == 0 || (returnedBefore[line.id] ?? 0) + (back[line.id] ?? 0) >= line.shipped
                }
                let open = order.lines.contains { $0.quantity > $0.shipped + $0.cancelled }
                let event: OrderEvent = allBack && !open ? .returnAll : .returnPartially
                if let move = try? OrderMove.checked(event, from: order.status, reason: "\(rma) kept") {
                    try tx.run(orders.move(orderID: orderID, move, holdReason: nil))
                }
            }
            return try tx.finish(
                Opened(
                    id: id,
                    rma: rma,
                    trackingNumber: label?.label.trackingNumber,
                    status: keepItem ? .inspected : .open
                ),
                alongside: alongside
            )
        }
    }

    /// The return's parcel arrived at `warehouse`: it may be inspected.
    public func receive(
        _ returnID: Int64,
        warehouse: Int64,
        alongside: CommitAlongside<String>? = nil
    ) async throws
        -> String
    {
        let (store, facts) = (self.store, self.facts)
        return try await locked(returnID) { tx, order, record in
            guard record.status == .open else {
                throw OrderlyError(
                    .conflict,
                    "return \(returnID) is \(record.status.rawValue); only an open one is received"
                )
            }
            let message = order.email.map { email in
                OutboxMessage(
                    kind: .returnReceived,
                    recipient: email,
                    subject: "We received your return \(record.rma)",
                    body: "Your return \(record.rma) for order \(order.externalID) arrived; we are inspecting it.",
                    dedupeKey: "return_received:return:\(returnID)"
                )
            }
            try tx.execute(store.received(returnID, warehouseID: warehouse, message: message, orderID: order.id))
            try tx.execute(facts.fact(orderID: order.id, .returnReceived, reason: record.rma))
            return try tx.finish(ReturnStatus.received.rawValue, alongside: alongside)
        }
    }

    /// Inspects a received return: `found` lists (SKU code, units, condition, serial) and must account
    /// for every unit of it. Sellable units are restocked at the receiving warehouse, damaged and
    /// defective ones scrapped, missing ones and a wrong item leave the return; the order moves
    /// `return_partially` or `return_all` for what came back. A serial-tracked SKU's units come one
    /// per entry with their serial, which must be one that left on this order and has not come back:
    /// a mismatch or a missing serial puts the return in `fraud_review` (nothing restocked or
    /// refunded, operations alerted).
    public func inspect(
        _ returnID: Int64,
        found: [(sku: String, units: Int64, condition: ReturnCondition, serial: String?)],
        alongside: CommitAlongside<String>? = nil
    ) async throws -> String {
        let (store, orders, facts) = (self.store, self.orders, self.facts)
        return try await locked(returnID) { tx, order, record in
            guard record.status == .received, let warehouseID = record.warehouseID else {
                throw OrderlyError(
                    .conflict,
                    "return \(returnID) is \(record.status.rawValue); only a received one is inspected"
                )
            }
            if let stray = found.first(where: { entry in !record.lines.contains { $0.skuCode == entry.sku } }) {
                throw OrderlyError(.badArgument, "lines: return \(returnID) has no SKU \(stray.sku)")
            }
            if found.contains(where: { $0.condition == .kept }) {
                throw OrderlyError(
                    .badArgument,
                    "lines: kept is for a refund without return (RETURN OPEN keep_item=true)"
                )
            }
            let out = try tx.run(store.serialsOut(orderID: order.id))
            var rows: [InspectedUnits] = []
            var suspicious: [String] = []
            for line in record.lines {
                let entries = found.filter { $0.sku == line.skuCode }
                let counted = entries.reduce(Int64(0)) { $0 + $1.units }
                guard counted == line.quantity else {
                    throw OrderlyError(
                        .badArgument,
                        "lines: \(line.skuCode): \(counted) inspected, the return has \(line.quantity)"
                    )
                }
                var seen = Set<String>()
                for entry in entries {
                    let arrived = entry.condition != .missing && entry.condition != .wrongItem
                    if line.serialTracked, arrived {
                        guard entry.units == 1 else {
                            throw OrderlyError(
                                .badArgument,
                                "lines: \(line.skuCode) is serial-tracked: one unit per entry, with its serial"
                            )
                        }
                        if let serial = entry.serial, seen.insert(serial).inserted,
                            out[line.skuID]?.contains(serial) == true
                        {
                        } else {
                            suspicious.append("\(line.skuCode) \(entry.serial ?? "without a serial")")
                        }
                    }
                    rows.append(
                        InspectedUnits(
                            returnLineID: line.id,
                            orderLineID: line.orderLineID,
                            skuID: line.skuID,
                            units: entry.units,
                            condition: entry.condition,
                            serial: entry.serial
                        )
                    )
                }
            }
            let fraud = !suspicious.isEmpty
            let skus = fraud ? [] : Set(rows.filter { $0.condition.disposition != .none }.map(\.skuID)).sorted()
            try tx.execute(InventoryStore.lockRows(warehouseID: warehouseID, skuIDs: skus))
            try tx.execute(store.inspect(record, warehouseID: warehouseID, rows: rows, fraud: fraud))
            if fraud {
                try tx.execute(
                    facts.fact(
                        orderID: order.id,
                        .returnFraudReview,
                        reason: "\(record.rma): serials that did not leave on this order: "
                            + suspicious.joined(separator: ", ")
                    )
                )
                return try tx.finish(ReturnStatus.fraudReview.rawValue, alongside: alongside)
            }
            // The order: what came back, against what shipped.
            var back: [Int64: Int64] = [:]
            for row in rows where row.condition.disposition != .none { back[row.orderLineID, default: 0] += row.units }
            let returnedBefore = try tx.run(store.returnedUnits(orderID: order.id, excluding: returnID))
            let allBack = order.lines.allSatisfy { line in
                line.shipped == 0 || (returnedBefore[line.id] ?? 0) + (back[line.id] ?? 0) >= line.shipped
            }
            let open = order.lines.contains { $0.quantity > $0.shipped + $0.cancelled }
            if !back.isEmpty {
                let event: OrderEvent = allBack && !open ? .returnAll : .returnPartially
                if let move = try? OrderMove.checked(event, from: order.status, reason: "\(record.rma) inspected") {
                    try tx.run(orders.move(orderID: order.id, move, holdReason: nil))
                }
            }
            return try tx.finish(ReturnStatus.inspected.rawValue, alongside: alongside)
        }
    }

    /// Decides units held for manual review (`RETURN DECIDE`): `decisions` lists (SKU code, units,
    /// restock or scrap), at most what is still held of each. Restocked units go into the receiving
    /// warehouse's stock, scrapped ones in and out, as at inspection.
    public func decide(
        _ returnID: Int64,
        decisions: [(sku: String, units: Int64, disposition: ReturnDisposition)],
        alongside: CommitAlongside<String>? = nil
    ) async throws -> String {
        guard !decisions.isEmpty else {
            throw OrderlyError(.badArgument, "lines: name at least one SKU:QTY:DISPOSITION")
        }
        let store = self.store
        return try await locked(returnID) { tx, _, record in
            guard let warehouseID = record.warehouseID,
                [.inspected, .refunded, .credited, .exchanged].contains(record.status)
            else {
                throw OrderlyError(
                    .conflict,
                    "return \(returnID) is \(record.status.rawValue): it holds nothing to decide"
                )
            }
            let held = try tx.run(store.held(returnID))
            var rows: [InspectedUnits] = []
            var asked: [Int64: Int64] = [:]
            for decision in decisions {
                guard decision.disposition == .restock || decision.disposition == .scrap else {
                    throw OrderlyError(.badArgument, "lines: \(decision.sku): a held unit is restocked or scrapped")
                }
                guard let line = record.lines.first(where: { $0.skuCode == decision.sku }) else {
                    throw OrderlyError(.badArgument, "lines: return \(returnID) has no SKU \(decision.sku)")
                }
                asked[line.id, default: 0] += decision.units
                let holding = held[line.id] ?? 0
                guard decision.units > 0, asked[line.id, default: 0] <= holding else {
                    throw OrderlyError(
                        .conflict,
                        "lines: \(decision.sku): \(asked[line.id] ?? 0) decided, \(holding) held for review"
                    )
                }
                rows.append(
                    InspectedUnits(
                        returnLineID: line.id,
                        orderLineID: line.orderLineID,
                        skuID: line.skuID,
                        units: decision.units,
                        condition: .review,
                        serial: nil,
                        disposition: decision.disposition
                    )
                )
            }
            try tx.execute(InventoryStore.lockRows(warehouseID: warehouseID, skuIDs: Set(rows.map(\.skuID)).sorted()))
            try tx.execute(store.inspect(record, warehouseID: warehouseID, rows: rows, fraud: false))
            return try tx.finish(record.status.rawValue, alongside: alongside)
        }
    }

    /// The alert job's work: operations told that a return is in fraud review.
    public func alertFraud(_ transaction: Transaction, returnID: Int64, recipient: String, channel: String) throws {
        try transaction.connection.execute(store.fraudAlert(returnID: returnID, recipient: recipient, channel: channel))
    }

    /// Refunds an inspected return: its arrived units' share of the total (shipping by the channel's
    /// policy) less its restocking fee, through a `refund_payment` job with the return's key.
    public func refund(_ returnID: Int64, alongside: CommitAlongside<Int64>? = nil) async throws -> Int64 {
        let (store, facts) = (self.store, self.facts)
        return try await locked(returnID) { tx, order, record in
            guard record.status == .inspected else {
                throw OrderlyError(
                    .conflict,
                    "return \(returnID) is \(record.status.rawValue); only an inspected one is refunded"
                )
            }
            let (amount, fee) = try Self.amounts(tx, store: store, order: order, record: record)
            let balance = try tx.run(PaymentStore.balance(orderID: order.id))
            let refundable = balance.map(\.refundable) ?? 0
            let refund = min(amount, refundable)
            var batch = PostgresBatch()
            batch.add(store.refunded(returnID, orderID: order.id, refund: refund, fee: fee, job: nil))
            if refund > 0 {
                batch.add(
                    JobQueue.enqueueStatement(
                        Jobs.RefundPayment.self,
                        .init(
                            orderID: order.id,
                            amountMinor: refund,
                            key: "return:\(returnID)",
                            reason: "return \(record.rma)"
                        )
                    )
                )
            }
            batch.add(facts.fact(orderID: order.id, .returnRefunded, reason: "\(record.rma): \(refund)"))
            _ = try tx.pipeline(batch)
            return try tx.finish(refund, alongside: alongside)
        }
    }

    /// Resolves an inspected return by exchange: a new order for `replacement` (SKU code → units),
    /// priced at zero (paid by a zero `exchange` payment naming the RMA) or, where `difference` names
    /// a unit price for a SKU, at that difference (then its payment is pending, as any unpaid order:
    /// `PAYMENT RECORD` settles it), shipped to the same address, through the normal capture →
    /// reserve path; the return records it and the customer is told. The new order's external
    /// id is the original's with `-EX-<RMA>`, so asking again (after a crash between the two
    /// transactions, or a retry) replays the same order. Returns the new order.
    public func exchange(
        _ returnID: Int64,
        replacement: [String: Int64],
        difference: [String: Int64] = [:],
        alongside: CommitAlongside<OrderOutcome>? = nil
    ) async throws -> OrderOutcome {
        if let stray = difference.keys.first(where: { replacement[$0] == nil }) {
            throw OrderlyError(.badArgument, "lines: a price for \(stray), which is not a replacement line")
        }
        guard !replacement.isEmpty else { throw OrderlyError(.badArgument, "lines: name at least one SKU:QTY") }
        let (store, facts) = (self.store, self.facts)
        let (order, record) = try await locked(returnID) { _, order, record in (order, record) }
        guard record.status == .inspected || record.status == .exchanged else {
            throw OrderlyError(
                .conflict,
                "return \(returnID) is \(record.status.rawValue); only an inspected one is exchanged"
            )
        }
        let placed = try await OrderService(database: database, actor: actor, components: components).place(
            {
                var new = NewOrder(
                    channel: order.channel,
                    externalID: String((order.externalID + "-EX-" + record.rma).prefix(128)),
                    currency: order.currency.code,
                    lines: replacement.sorted { $0.key < $1.key }.map {
                        NewOrderLine(skuCode: $0.key, quantity: $0.value, unitPriceMinor: difference[$0.key] ?? 0)
                    },
                    shipTo: order.shipTo,
                    billingCountry: order.billingCountry,
                    email: order.email,
                    serviceLevel: order.serviceLevel,
                    priority: order.priority
                )
                let charged = difference.values.contains { $0 > 0 }
                new.statedPayment = StatedPayment(
                    status: charged ? .pending : .captured,
                    amountMinor: charged ? nil : 0,
                    currency: order.currency.code,
                    provider: "exchange",
                    reference: record.rma
                )
                return new
            }()
        )
        return try await locked(returnID) { tx, order, record in
            if record.status == .exchanged {
                guard try tx.run(store.exchangeOrder(returnID)) == placed.orderID else {
                    throw OrderlyError(.conflict, "return \(returnID) was exchanged for another order")
                }
            } else {
                guard try tx.run(store.exchanged(returnID, exchangeOrderID: placed.orderID)) else {
                    throw OrderlyError(.conflict, "return \(returnID) changed while it was exchanged")
                }
                try tx.execute(
                    facts.fact(orderID: order.id, .returnExchanged, reason: "\(record.rma): order \(placed.orderID)")
                )
                if let email = order.email {
                    try tx.execute(
                        orders.enqueueMessage(
                            orderID: order.id,
                            OutboxMessage(
                                kind: .orderUpdated,
                                recipient: email,
                                subject: "Your exchange for return \(record.rma)",
                                body: "We are sending "
                                    + replacement.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }
                                    .joined(separator: ", ")
                                    + " in exchange for your return \(record.rma) of order \(order.externalID).",
                                dedupeKey: "order_updated:exchange:return:\(returnID)"
                            )
                        )
                    )
                }
            }
            return try tx.finish(placed, alongside: alongside)
        }
    }

    /// Resolves an inspected return with store credit instead of a refund: the same amount (the
    /// goods' share less the restocking fee) added to the customer's balance (by e-mail, in the
    /// order's currency), usable to pay at capture (`payment=captured provider=store_credit`).
    public func credit(_ returnID: Int64, alongside: CommitAlongside<Int64>? = nil) async throws -> Int64 {
        let (store, facts, credits) = (self.store, self.facts, StoreCreditStore(actor: actor))
        return try await locked(returnID) { tx, order, record in
            guard record.status == .inspected else {
                throw OrderlyError(
                    .conflict,
                    "return \(returnID) is \(record.status.rawValue); only an inspected one is credited"
                )
            }
            guard let email = order.email else {
                throw OrderlyError(.conflict, "order \(order.id) has no e-mail to hold store credit")
            }
            let (amount, fee) = try Self.amounts(tx, store: store, order: order, record: record)
            var batch = PostgresBatch()
            batch.add(store.credited(returnID, amount: amount, fee: fee))
            if amount > 0 {
                batch.add(
                    credits.credit(
                        email: email,
                        currency: order.currency.code,
                        amountMinor: amount,
                        reason: "return",
                        orderID: order.id,
                        returnID: returnID
                    )
                )
            }
            batch.add(facts.fact(orderID: order.id, .returnCredited, reason: "\(record.rma): \(amount)"))
            batch.add(
                orders.enqueueMessage(
                    orderID: order.id,
                    OutboxMessage(
                        kind: .orderUpdated,
                        recipient: email,
                        subject: "Store credit for your return \(record.rma)",
                        body:
                            "We added \(Money(minorUnits: amount, currency: order.currency).formatted) of store credit "
                            + "for your return \(record.rma) of order \(order.externalID).",
                        dedupeKey: "order_updated:credit:return:\(returnID)"
                    )
                )
            )
            _ = try tx.pipeline(batch)
            return try tx.finish(amount, alongside: alongside)
        }
    }

    // MARK: Helpers

    /// What an inspected return is worth: its arrived units' share of the total (shipping by the
    /// channel's policy), less the restocking fee.
    static func amounts(
        _ tx: PostgresConnection,
        store: ReturnStore,
        order: OrderRecord,
        record: ReturnRecord
    ) throws
        -> (amount: Int64, fee: Int64)
    {
        let channel = try OrderService.channel(tx.run(ChannelStore.policy(order.channel)), named: order.channel)
        let (arrived, shipping) = try tx.pipeline(store.arrivedUnits(record.id), store.shipping(orderID: order.id))
        let goods = record.lines.reduce(Int64(0)) { $0 + (arrived[$1.orderLineID] ?? 0) * $1.unitPriceMinor }
        let (amount, fee) = ReturnRefund.amounts(
            total: order.totalMinor,
            subtotal: order.subtotalMinor,
            shipping: shipping,
            refundShipping: channel.refundShipping,
            goods: goods,
            feePercent: channel.restockingFeePercent
        )
        return (amount, fee)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let (policy, metrics) = (components.policy, components.metrics)
        return try await database.pool.withConnection { connection in
            try connection.retrying(policy.retryPolicy, counting: "returns", in: metrics) { _ in
                try connection.transaction { try body($0) }
            }
        }
    }

    /// The return's order locked, then the return.
    func locked<T: Sendable>(
        _ returnID: Int64,
        _ body: @escaping @Sendable (PostgresConnection, OrderRecord, ReturnRecord) throws -> T
    ) async throws -> T {
        let (store, orders) = (self.store, self.orders)
        return try await transaction { tx in
            guard let orderID = try tx.run(store.orderID(returnID: returnID)) else {
                throw OrderlyError(.notFound, "return \(returnID) does not exist")
            }
            let (order, record) = try tx.pipeline(orders.order(orderID, lock: true), store.read(returnID))
            guard let order, let record else { throw OrderlyError(.notFound, "return \(returnID) does not exist") }
            return try body(tx, order, record)
        }
    }

    static func require(_ warehouse: Int64?) throws -> Int64 {
        guard let warehouse else { throw OrderlyError(.badArgument, "warehouse: name where the return goes") }
        return warehouse
    }

    /// The return label, from the customer to the warehouse, through the carriers (the built-in
    /// rate table by default); nil when no carrier has a rate for it (the return opens without one).
    static func label(
        _ tx: PostgresConnection,
        order: OrderRecord,
        warehouseID: Int64,
        grams: Int64,
        carriers: [any Carrier]?
    ) throws -> (quote: CarrierQuote, label: ShippingLabel)? {
        let fulfillment = FulfillmentStore(actor: "returns")
        guard let warehouse = try fulfillment.warehouse(tx, id: warehouseID) else {
            throw OrderlyError(.notFound, "warehouse \(warehouseID) does not exist")
        }
        let parcel = Parcel(
            shipmentID: 0,
            weightGrams: max(grams, 1),
            originWarehouseID: warehouse.id,
            originCountry: order.shipTo.country,
            destinationCountry: warehouse.country,
            destinationZone: nil,
            currency: order.currency.code
        )
        let available: [any Carrier] =
            try carriers ?? [
                RateTableCarrier(
                    rates: try tx.run(
                        fulfillment.rates(destinationCountry: warehouse.country, weightGrams: parcel.weightGrams)
                    )
                )
            ]
        var offers: [(carrier: any Carrier, quote: CarrierQuote)] = []
        for carrier in available { offers += try carrier.quotes(for: parcel).map { (carrier, $0) } }
        guard let chosen = CarrierRule.cheapest.choose(offers.map(\.quote)),
            let carrier = offers.first(where: { $0.quote == chosen })?.carrier
        else { return nil }
        let to = order.shipTo
        let label = try carrier.label(
            for: parcel,
            quote: chosen,
            serial: try tx.run(fulfillment.nextTrackingSerial()),
            addresses: LabelAddresses(
                from: [
                    to.name, to.line1, [to.postalCode, to.city].compactMap { $0 }.joined(separator: " "), to.country,
                ],
                to: warehouse.addressLines
            )
        )
        return (chosen, label)
    }
}

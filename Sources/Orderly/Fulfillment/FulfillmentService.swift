import Foundation
import LibPQ
public import OrderlyCore
import OrderlyStore

/// Fulfillment: pick → pack → label → ship → deliver. Each step runs in the transaction the worker
/// completes its job in (DESIGN.md invariant 5), takes the order's row lock first, and does nothing if
/// its work is already done or no longer wanted (cancelled order, shipment moved on): a rerun after a
/// crash, or a duplicate job, changes nothing.
public struct FulfillmentService: Sendable {
    public let database: OrderlyDatabase
    public let actor: String
    /// The process's composition root: policy (each channel's carrier rule) and carriers.
    public let components: OrderlyComponents
    public var policy: OrderPolicy { components.policy }
    /// Carriers asked for quotes; nil asks the built-in rate-table carrier (the `shipping_rates` rows).
    public var carriers: [any Carrier]? { components.labelCarriers }

    public init(database: OrderlyDatabase, actor: String, components: OrderlyComponents = .standard) {
        self.database = database
        self.actor = actor
        self.components = components
    }

    var store: FulfillmentStore { FulfillmentStore(actor: actor) }
    var orders: OrderStore { OrderStore(actor: actor) }

    // MARK: Pick

    /// Turns the order's unshipped reservations at a warehouse into a shipment and puts it on pick
    /// lists by the warehouse's method. Returns the shipment, or nil when there was nothing to pick.
    @discardableResult
    public func pick(_ transaction: Transaction, orderID: Int64, warehouseID: Int64) throws -> Int64? {
        let tx = transaction.connection
        // One round trip: the order's lock, then the warehouse and the reservations to pick (locked).
        let (order, warehouse, unshipped) = try tx.pipeline(
            orders.order(orderID, lock: true),
            store.warehouse(warehouseID),
            store.unshippedReservations(orderID: orderID, warehouseID: warehouseID)
        )
        guard let order else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
        guard OrderStatus.pickable.contains(order.status) else { return nil }
        guard let warehouse else { throw OrderlyError(.notFound, "warehouse \(warehouseID) does not exist") }
        guard !unshipped.isEmpty else { return nil }
        let created = try tx.run(
            store.createShipment(
                orderID: orderID,
                warehouseID: warehouseID,
                reservationIDs: unshipped.map(\.reservationID)
            )
        )
        guard let created else { throw OrderlyError(.conflict, "order \(orderID): no shipment lines were written") }
        let shipmentID = created.id
        let lineOf = created.lineOfReservation
        let items = unshipped.compactMap { r -> PickItem? in
            guard let line = lineOf[r.reservationID] else { return nil }
            return PickItem(
                shipmentID: shipmentID,
                shipmentLineID: line,
                skuID: r.skuID,
                skuCode: r.skuCode,
                quantity: r.quantity,
                bin: r.bin,
                zone: r.zone
            )
        }
        switch warehouse.pickMethod {
        case .single, .zone:
            for list in PickPlanner.plan(warehouse.pickMethod, items: items) {
                let id = try tx.run(
                    store.createPickList(
                        warehouseID: warehouseID,
                        method: warehouse.pickMethod,
                        zone: list.zone,
                        open: false,
                        items: list.items
                    )
                )
                if !warehouse.scannerConfirmation { try confirmInFull(tx, listID: id) }
            }
        case .batch:
            try addToBatch(tx, warehouse: warehouse, items: items)
        }
        if order.status == .reserved || order.status == .partiallyReserved {
            try move(tx, order, .startPicking, reason: "shipment \(shipmentID) from \(warehouse.code) is being picked")
        }
        return shipmentID
    }

    /// Adds a shipment's items to the warehouse's gathering batch (a new one when there is none or it
    /// is full, with a job that walks it when its window closes); a batch that reaches its size is
    /// walked now.
    func addToBatch(_ tx: PostgresConnection, warehouse: WarehouseFulfillment, items: [PickItem]) throws {
        var batch = PostgresBatch()
        batch.add(store.lockBatching(warehouseID: warehouse.id))
        let gathering = batch.add(store.openBatch(warehouseID: warehouse.id))
        let open = try tx.pipeline(batch)[gathering]
        // Positions are provisional until the batch is walked and renumbered.
        let provisional = PickPlanner.walk(items).enumerated().map { ($0.offset + 1, $0.element) }
        let listID: Int64
        let shipments: Int64
        if let open, open.shipments < Int64(warehouse.batchSize) {
            listID = open.id
            shipments = open.shipments
            try tx.execute(store.addPickLines(listID: listID, items: provisional))
        } else {
            if let open { try walkBatch(Transaction(tx), listID: open.id, warehouse: warehouse) }
            listID = try tx.run(
                store.createPickList(
                    warehouseID: warehouse.id,
                    method: .batch,
                    zone: nil,
                    open: true,
                    items: provisional
                )
            )
            shipments = 0
            try JobQueue.enqueue(
                tx,
                Jobs.PickBatch.self,
                .init(pickListID: listID, warehouseID: warehouse.id),
                delaySeconds: Double(warehouse.batchWindowSeconds)
            )
        }
        if shipments + 1 >= Int64(warehouse.batchSize) {
            try walkBatch(Transaction(tx), listID: listID, warehouse: warehouse)
        }
    }

    /// Walks a gathered batch: its lines renumbered in one walk over every shipment's items; in an
    /// auto-confirming warehouse the full picks are confirmed at once. Nothing if already walked.
    public func walkBatch(
        _ transaction: Transaction,
        listID: Int64,
        warehouse known: WarehouseFulfillment? = nil
    ) throws {
        let tx = transaction.connection
        guard let list = try tx.run(store.pickList(listID)) else {
            throw OrderlyError(.notFound, "pick list \(listID) does not exist")
        }
        guard list.status == .open else { return }
        // A shipment line is on a list once, so it names the pick line.
        let pickLine = Dictionary(
            list.lines.map { ($0.shipmentLineID, $0.id) },
            uniquingKeysWith: { first, _ in first }
        )
        let walk = PickPlanner.walk(
            list.lines.map {
                PickItem(
                    shipmentID: $0.shipmentID,
                    shipmentLineID: $0.shipmentLineID,
                    skuID: $0.skuID,
                    skuCode: $0.skuCode,
                    quantity: $0.quantity,
                    bin: $0.bin,
                    zone: $0.zone
                )
            }
        )
        try tx.execute(store.walkBatch(listID: listID, lineIDs: walk.compactMap { pickLine[$0.shipmentLineID] }))
        guard let warehouse = try known ?? store.warehouse(tx, id: list.warehouseID) else { return }
        if !warehouse.scannerConfirmation { try confirmInFull(tx, listID: listID) }
    }

    /// An auto-confirming warehouse's list: every line picked in full, without reading it back.
    func confirmInFull(_ tx: PostgresConnection, listID: Int64) throws {
        _ = try tx.run(store.confirmPickList(listID: listID, lineIDs: [], picked: []))
    }

    /// Confirms a walked pick list: `picked` maps SKU codes to the units a picker found (SKUs not named
    /// were picked in full). A SKU's units are credited to its lines in
    /// walk order, so in a batch the first shipments on the walk are served first. Returns the
    /// shipments that became picked (all their lists done).
    public func confirm(
        _ transaction: Transaction,
        listID: Int64,
        picked: [String: Int64],
        serials: [String: [String]] = [:]
    ) throws -> [Int64] {
        let tx = transaction.connection
        guard let list = try tx.run(store.pickList(listID)) else {
            throw OrderlyError(.notFound, "pick list \(listID) does not exist")
        }
        guard PickListStatus.confirmable.contains(list.status) else {
            throw OrderlyError(
                .conflict,
                "pick list \(listID) is \(list.status.rawValue); only a list being walked can be confirmed"
            )
        }
        var remaining = picked
        let onList = Set(list.lines.map(\.skuCode))
        for (sku, units) in remaining {
            guard onList.contains(sku) else {
                throw OrderlyError(.badArgument, "SKU '\(sku)' is not on pick list \(listID)")
            }
            let wanted = list.lines.filter { $0.skuCode == sku }.reduce(Int64(0)) { $0 + $1.quantity }
            guard units >= 0, units <= wanted else {
                throw OrderlyError(.badArgument, "SKU '\(sku)': picked \(units) but the list asks for 0...\(wanted)")
            }
        }
        var quantities: [Int64] = []
        for line in list.lines {
            guard let left = remaining[line.skuCode] else {
                quantities.append(line.quantity)
                continue
            }
            let take = min(left, line.quantity)
            remaining[line.skuCode] = left - take
            quantities.append(take)
        }
        // Serials: every picked unit of a serial-tracked SKU has one, credited to its lines in walk order.
        var serialRows: [(shipmentLineID: Int64, serial: String)] = []
        for sku in Set(list.lines.map(\.skuCode)).union(serials.keys).sorted() {
            let lines = list.lines.enumerated().filter { $0.element.skuCode == sku }
            guard !lines.isEmpty else {
                throw OrderlyError(.badArgument, "serials: SKU '\(sku)' is not on pick list \(listID)")
            }
            let given = serials[sku] ?? []
            let units = lines.reduce(Int64(0)) { $0 + quantities[$1.offset] }
            guard Set(given).count == given.count else {
                throw OrderlyError(.badArgument, "serials: SKU '\(sku)' has a serial twice")
            }
            if lines[0].element.serialTracked {
                guard Int64(given.count) == units else {
                    throw OrderlyError(
                        .badArgument,
                        "serials: SKU '\(sku)' is serial-tracked: \(units) picked, \(given.count) serials given"
                    )
                }
            } else if !given.isEmpty {
                throw OrderlyError(.badArgument, "serials: SKU '\(sku)' is not serial-tracked")
            }
            var next = given.makeIterator()
            for (offset, line) in lines {
                for _ in 0..<quantities[offset] {
                    if let serial = next.next() { serialRows.append((line.shipmentLineID, serial)) }
                }
            }
        }
        let ready = try tx.run(store.confirmPickList(listID: listID, lineIDs: list.lines.map(\.id), picked: quantities))
        if !serialRows.isEmpty {
            do {
                try tx.execute(store.recordSerials(serialRows))
            } catch let error as PostgresError where error.code == .uniqueViolation {
                throw OrderlyError(.conflict, "serials: one of them is out already (shipped and not returned)")
            } catch let error as PostgresError where error.code == .checkViolation {
                throw OrderlyError(.badArgument, "serials: one is not 1-100 letters, digits or ._/-")
            }
        }
        return ready
    }

    // MARK: Pack

    /// Packs a picked shipment: packed = picked per line; units short leave stock as lost and go back
    /// to routing (a `reroute` job reserves them elsewhere or backorders them); weight computed; the
    /// label job enqueued. Returns the units short.
    @discardableResult
    public func pack(_ transaction: Transaction, orderID: Int64, shipmentID: Int64) throws -> Int64 {
        let tx = transaction.connection
        let (order, shipment) = try locked(tx, orderID: orderID, shipmentID: shipmentID)
        guard ShipmentStateMachine.next(from: shipment.status, on: .pack) != nil else { return 0 }
        // A line whose units were all cancelled keeps 0 units and no reservation.
        for line in shipment.lines
        where line.quantity > 0
            && (!line.reservationActive || line.reservationQuantity != line.quantity)
        {
            throw OrderlyError(
                .conflict,
                "shipment \(shipmentID) line \(line.id): its reservation no longer holds \(line.quantity) units"
            )
        }
        let short = shipment.lines.filter { $0.picked < $0.quantity }
        if !short.isEmpty {
            _ = try tx.query(store.lockShipmentStock(warehouseID: shipment.warehouseID, skuIDs: short.map(\.skuID)))
        }
        let weight = shipment.lines.reduce(Int64(0)) { $0 + $1.picked * $1.unitWeightGrams }
        let missing = try tx.run(store.pack(shipment: shipment, weightGrams: weight))
        let others = try store.otherShipmentStatuses(tx, orderID: orderID, except: shipmentID)
        // Packed once no shipment is still being picked and something is packed (a shipment whose
        // every unit was short leaves the order picking while its units are routed again).
        let somethingPacked = weight > 0 || others.contains { ShipmentStatus.packedToLeave.contains($0) }
        if order.status == .picking, somethingPacked,
            !others.contains(where: { ShipmentStatus.beingPicked.contains($0) })
        {
            try move(tx, order, .pack, reason: "every shipment is packed")
        }
        return missing
    }

    // MARK: Label

    /// Buys a label for a packed shipment from the carrier and service the channel's rule chooses.
    /// No rate for the parcel is an error (the job retries; an admin adds a rate or the job is
    /// discarded with this message).
    public func label(_ transaction: Transaction, orderID: Int64, shipmentID: Int64) throws {
        let tx = transaction.connection
        let (order, shipment) = try locked(tx, orderID: orderID, shipmentID: shipmentID)
        guard ShipmentStateMachine.next(from: shipment.status, on: .label) != nil else { return }
        guard let warehouse = try store.warehouse(tx, id: shipment.warehouseID) else {
            throw OrderlyError(.notFound, "warehouse \(shipment.warehouseID) does not exist")
        }
        let weight = shipment.weightGrams ?? 1
        let parcel = Parcel(
            shipmentID: shipmentID,
            weightGrams: weight,
            originWarehouseID: warehouse.id,
            originCountry: warehouse.country,
            destinationCountry: order.shipTo.country,
            destinationZone: order.shipTo.region,
            currency: order.currency.code
        )
        let available: [any Carrier] =
            try carriers ?? [
                RateTableCarrier(
                    rates: try tx.run(store.rates(destinationCountry: order.shipTo.country, weightGrams: weight))
                )
            ]
        var offers: [(carrier: any Carrier, quote: CarrierQuote)] = []
        for carrier in available { offers += try carrier.quotes(for: parcel).map { (carrier, $0) } }
        // The service the customer chose, if one: only its quotes.
        if let level = order.serviceLevel { offers = offers.filter { $0.quote.service == level } }
        let rule = try OrderService.channel(tx.run(ChannelStore.policy(order.channel)), named: order.channel)
            .carrierRule
        guard let chosen = rule.choose(offers.map(\.quote)),
            let carrier = offers.first(where: { $0.quote == chosen })?.carrier
        else {
            throw OrderlyError(
                .notFound,
                "no carrier rate from \(warehouse.code) to \(order.shipTo.country) for \(weight) g"
                    + (order.serviceLevel.map { " of service \($0)" } ?? "")
            )
        }
        let serial = try tx.run(store.nextTrackingSerial())
        let to = order.shipTo
        let label = try carrier.label(
            for: parcel,
            quote: chosen,
            serial: serial,
            addresses: LabelAddresses(
                from: warehouse.addressLines,
                to: [
                    to.name, to.line1, to.line2 ?? "",
                    [to.postalCode, to.city].compactMap { $0 }.joined(separator: " "),
                    [to.region, to.country].compactMap { $0 }.joined(separator: " "),
                ].filter { !$0.isEmpty }
            )
        )
        try tx.execute(
            store.labelled(
                shipment: shipment,
                quote: chosen,
                label: label,
                captureFirst: order.paymentStatus.drawsOnAuthorization
            )
        )
    }

    // MARK: Ship

    /// The parcel leaves: the reservation is consumed (on_hand and reserved down, ledger `ship`), the
    /// order moves to shipped or partially shipped, and the customer gets the tracking number.
    public func ship(_ transaction: Transaction, orderID: Int64, shipmentID: Int64) throws {
        let tx = transaction.connection
        let (order, shipment) = try locked(tx, orderID: orderID, shipmentID: shipmentID)
        guard ShipmentStateMachine.next(from: shipment.status, on: .ship) != nil else { return }
        // At a warehouse that hands parcels over by scan, the parcel leaves when the carrier takes it.
        if shipment.awaitingHandover {
            try tx.execute(store.markReady(shipmentID: shipmentID))
            return
        }
        let leaving = shipment.lines.filter { $0.packed > 0 }
        for line in leaving where !line.reservationActive || line.reservationQuantity != line.packed {
            throw OrderlyError(
                .conflict,
                "shipment \(shipmentID) line \(line.id): its reservation does not hold the \(line.packed) packed units"
            )
        }
        var shipped: [Int64: Int64] = [:]
        for line in leaving { shipped[line.orderLineID, default: 0] += line.packed }
        let complete = order.lines.allSatisfy { $0.shipped + (shipped[$0.id] ?? 0) + $0.cancelled == $0.quantity }
        let event: OrderEvent = complete ? .ship : .shipPartially
        // One round trip: lock the stock rows (in order), consume, move the order, tell the customer.
        var batch = PostgresBatch()
        batch.add(store.lockShipmentStock(warehouseID: shipment.warehouseID, skuIDs: leaving.map(\.skuID)))
        batch.add(store.ship(shipment: shipment))
        var moved: PostgresBatch.Slot<Void>?
        if (try? OrderStateMachine.next(from: order.status, on: event)) != nil {
            moved = batch.add(
                try moveStatement(
                    order,
                    event,
                    reason: "shipment \(shipmentID) shipped, tracking \(shipment.trackingNumber ?? "-")"
                )
            )
        }
        if let email = order.email {
            batch.add(
                orders.enqueueMessage(
                    orderID: orderID,
                    FulfillmentMessages.shipped(order: order, shipment: shipment, email: email, complete: complete)
                )
            )
        }
        // Units were cancelled while others were still to ship: the last parcel's capture took what is
        // due, and what the authorization still covers is voided.
        if complete, order.paymentStatus.drawsOnAuthorization, order.lines.contains(where: { $0.cancelled > 0 }) {
            batch.add(JobQueue.enqueueStatement(Jobs.VoidPayment.self, .init(orderID: orderID)))
        }
        let results = try tx.pipeline(batch)
        if let moved { try results[moved] }
    }

    // MARK: Delivery and exceptions

    /// A carrier's news about a shipped parcel. Delivered (from shipped or delayed) delivers the order
    /// once every parcel is delivered; delayed or lost put the order in `exception`. Each notifies the
    /// customer once. Repeating an event already recorded changes nothing.
    public func carrierEvent(_ transaction: Transaction, shipmentID: Int64, event: CarrierEvent, note: String?) throws {
        let tx = transaction.connection
        guard let orderID = try store.orderID(tx, shipmentID: shipmentID) else {
            throw OrderlyError(.notFound, "shipment \(shipmentID) does not exist")
        }
        let (order, shipment) = try locked(tx, orderID: orderID, shipmentID: shipmentID)
        let change = event.shipmentEvent
        // Reporting what is already recorded changes nothing.
        if shipment.status == event.status { return }
        guard let target = ShipmentStateMachine.next(from: shipment.status, on: change) else {
            throw OrderlyError(
                .conflict,
                "shipment \(shipmentID) is \(shipment.status.rawValue); \(event.rawValue) needs one that is "
                    + ShipmentStateMachine.sources(of: change).map(\.rawValue).joined(separator: " or ")
            )
        }
        try tx.execute(store.carrierStatus(shipmentID: shipmentID, status: target))
        let detail = note.map { ": " + $0 } ?? ""
        if let email = order.email {
            try tx.execute(
                orders.enqueueMessage(
                    orderID: orderID,
                    FulfillmentMessages.carrier(event, order: order, shipment: shipment, email: email, note: note)
                )
            )
        }
        guard let kind = ClaimKind(event) else {
            // Delivered: a delayed parcel's claim closes; the order moves once nothing else is amiss.
            let (open, others) = try tx.pipeline(
                store.openClaim(shipmentID: shipmentID),
                store.parcelStatuses(orderID: orderID, except: shipmentID)
            )
            if let open { try tx.execute(store.resolveClaim(open, .delivered, units: 0, refundMinor: 0, note: note)) }
            let otherClaims = try tx.run(store.otherOpenClaims(orderID: orderID, except: open ?? 0))
            guard order.status == .shipped || order.status == .exception, otherClaims == 0 else { return }
            let allShipped = order.lines.allSatisfy { $0.shipped + $0.cancelled == $0.quantity }
            let settled = others.allSatisfy {
                ShipmentStatus.settled.contains($0) || ShipmentStatus.failed.contains($0)
            }
            let reason = "shipment \(shipmentID) delivered" + detail
            if allShipped, settled {
                try move(tx, order, .deliver, reason: reason)
            } else if order.status == .exception,
                let event = ClaimResolution.delivered.orderEvent(
                    lines: order.lines,
                    otherParcels: others + [.delivered],
                    otherOpenClaims: false
                )
            {
                try move(tx, order, event, reason: reason)
            }
            return
        }
        // Something went wrong on the way: a claim, and the order in exception until it is resolved.
        let claim = try tx.run(store.openClaim(orderID: orderID, shipmentID: shipmentID, kind: kind, note: note))
        if order.status == .shipped || order.status == .partiallyShipped {
            try move(tx, order, .reportException, reason: "shipment \(shipmentID) \(event.rawValue)" + detail)
        }
        // The channel's own resolution, if it has one (a delayed parcel may still arrive: it waits).
        guard kind != .delayed,
            let policy = try tx.run(ChannelStore.policy(order.channel)),
            let resolution = policy.claimAction.resolution
        else { return }
        try resolve(tx, claimID: claim, resolution, note: "the channel's claim_action")
    }

    /// Resolves a claim (`CLAIM RESOLVE`, or the channel's `claim_action`) under its order's lock: the
    /// parcel's units leave the shipped count and are sent again (a `reroute` job reserves them
    /// through the normal path, from any warehouse that has them) or refunded (cancelled, the
    /// released share refunded by a `refund_payment` job as far as the order collected it); the order
    /// leaves `exception` for where what is left puts it once its last claim is resolved; the customer
    /// is told. A claim resolved already is a conflict; nothing changes.
    func resolve(_ tx: PostgresConnection, claimID: Int64, _ resolution: ClaimResolution, note: String?) throws {
        guard resolution != .delivered else {
            throw OrderlyError(.badArgument, "a claim is resolved by reship or refund (delivery closes it by itself)")
        }
        guard let orderID = try tx.run(store.claimOrder(claimID)) else {
            throw OrderlyError(.notFound, "claim \(claimID) does not exist")
        }
        let (read, claimRead, balance, others, otherClaims) = try tx.pipeline(
            orders.order(orderID, lock: true),
            store.claim(claimID),
            PaymentStore.balance(orderID: orderID),
            store.parcelStatusesOfOthers(claimID: claimID),
            store.otherOpenClaims(orderID: orderID, except: claimID)
        )
        guard let order = read, let claim = claimRead else {
            throw OrderlyError(.notFound, "claim \(claimID) does not exist")
        }
        guard claim.status == .open else { throw OrderlyError(.conflict, "claim \(claimID) is resolved already") }
        guard let shipment = try tx.run(store.shipment(claim.shipmentID)) else {
            throw OrderlyError(.notFound, "shipment \(claim.shipmentID) does not exist")
        }
        var units: [Int64: Int64] = [:]
        for line in shipment.lines where line.packed > 0 { units[line.orderLineID, default: 0] += line.packed }
        let refunding = resolution == .refund
        let after = order.lines.map { line -> OrderLineRecord in
            var line = line
            line.shipped -= units[line.id] ?? 0
            if refunding { line.cancelled += units[line.id] ?? 0 }
            return line
        }
        let cancelledMinor =
            refunding
            ? ParcelShare.cancelledShare(
                total: order.totalMinor,
                subtotal: order.subtotalMinor,
                cancelledValue: after.reduce(0) { $0 + $1.unitPriceMinor * $1.cancelled },
                shippedValue: after.reduce(0) { $0 + $1.unitPriceMinor * $1.shipped },
                nothingOpen: after.allSatisfy { $0.quantity == $0.shipped + $0.cancelled },
                anythingShipped: after.contains { $0.shipped > 0 }
            ) : order.cancelledMinor
        let collected = balance.map { $0.captured - $0.refunded - $0.refunding } ?? 0
        let refund = max(0, min(cancelledMinor - order.cancelledMinor, collected - (order.totalMinor - cancelledMinor)))
        let total = units.values.reduce(0, +)
        var batch = PostgresBatch()
        batch.add(
            store.takeBack(
                orderID: orderID,
                shipmentID: shipment.id,
                units: units.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                cancel: refunding,
                cancelledMinor: cancelledMinor
            )
        )
        batch.add(store.resolveClaim(claimID, resolution, units: total, refundMinor: refund, note: note))
        if resolution == .reship {
            batch.add(
                JobQueue.enqueueStatement(
                    NewJob(Jobs.Reroute.self, .init(orderID: orderID, shipmentID: shipment.id)),
                    priorityOf: orderID
                )
            )
        }
        if refund > 0 {
            batch.add(
                JobQueue.enqueueStatement(
                    Jobs.RefundPayment.self,
                    .init(
                        orderID: orderID,
                        amountMinor: refund,
                        key: "claim:\(claimID)",
                        reason: "parcel \(shipment.id) \(claim.kind.rawValue)"
                    )
                )
            )
        }
        if order.status == .exception,
            let event = resolution.orderEvent(lines: after, otherParcels: others, otherOpenClaims: otherClaims > 0)
        {
            batch.add(
                try moveStatement(
                    order,
                    event,
                    reason: "claim \(claimID) on parcel \(shipment.id) (\(claim.kind.rawValue)): \(resolution.rawValue)"
                        + (note.map { ": " + $0 } ?? "")
                )
            )
        }
        if let email = order.email {
            batch.add(
                orders.enqueueMessage(
                    orderID: orderID,
                    FulfillmentMessages.claimResolved(
                        claimID: claimID,
                        resolution,
                        order: order,
                        shipment: shipment,
                        refund: refund > 0 ? Money(minorUnits: refund, currency: order.currency) : nil,
                        email: email
                    )
                )
            )
        }
        _ = try tx.pipeline(batch)
    }

    // MARK: Commands (their own transactions)

    /// `PICKLIST CONFIRM`: a picker's counts for a list being walked.
    /// Returns the shipments the list completed the picking of.
    public func confirmPickList(
        _ listID: Int64,
        picked: [String: Int64],
        serials: [String: [String]] = [:],
        alongside: CommitAlongside<[Int64]>? = nil
    ) async throws -> [Int64] {
        try await inTransaction { tx, service in
            try tx.finish(
                try service.confirm(Transaction(tx), listID: listID, picked: picked, serials: serials),
                alongside: alongside
            )
        }
    }

    /// `PUTBACK DONE`: the units of a put-back task are back in their bin. A task already done is a
    /// conflict (nothing changes), one that does not exist NOT_FOUND.
    public func putBackDone(_ id: Int64, alongside: CommitAlongside<Int64>? = nil) async throws -> Int64 {
        try await inTransaction { tx, service in
            switch try tx.run(service.store.putBackDone(id)) {
            case nil: throw OrderlyError(.notFound, "put-back \(id) does not exist")
            case false?: throw OrderlyError(.conflict, "put-back \(id) is done already")
            case true?: return try tx.finish(id, alongside: alongside)
            }
        }
    }

    /// `SHIPMENT HANDOVER` (or the carrier's pickup scan): the carrier has the labelled parcel. If its
    /// capture is done it ships now (`ship`); if not, the capture's `ship` job ships it. A parcel
    /// shipped already changes nothing; one not labelled yet is a conflict.
    @discardableResult
    public func handover(_ shipmentID: Int64, alongside: CommitAlongside<String>? = nil) async throws -> String {
        try await inTransaction { tx, service in
            guard let orderID = try service.store.orderID(tx, shipmentID: shipmentID) else {
                throw OrderlyError(.notFound, "shipment \(shipmentID) does not exist")
            }
            let (_, shipment) = try service.locked(tx, orderID: orderID, shipmentID: shipmentID)
            if shipment.status == .labelled {
                try tx.execute(service.store.handedOver(shipmentID: shipmentID))
                if shipment.ready { try service.ship(Transaction(tx), orderID: orderID, shipmentID: shipmentID) }
            } else if ShipmentStatus.beingPicked.contains(shipment.status) || shipment.status == .packed {
                throw OrderlyError(
                    .conflict,
                    "shipment \(shipmentID) is \(shipment.status.rawValue): the carrier takes a labelled parcel"
                )
            } else if shipment.status == .cancelled {
                throw OrderlyError(.conflict, "shipment \(shipmentID) is cancelled")
            }
            let status = try tx.run(service.store.shipmentStatus(shipmentID))
            return try tx.finish(status, alongside: alongside)
        }
    }

    /// `CLAIM RESOLVE`: its own transaction.
    public func resolveClaim(
        _ claimID: Int64,
        _ resolution: ClaimResolution,
        note: String?,
        alongside: CommitAlongside<Int64>? = nil
    ) async throws -> Int64 {
        try await inTransaction { tx, service in
            try service.resolve(tx, claimID: claimID, resolution, note: note)
            return try tx.finish(claimID, alongside: alongside)
        }
    }

    /// `SHIPMENT DELIVER` / `SHIPMENT EXCEPTION`, or a carrier's webhook. Returns the shipment's status
    /// after it (the event's; reporting the status it already has changes nothing).
    @discardableResult
    public func report(
        _ event: CarrierEvent,
        shipmentID: Int64,
        note: String?,
        alongside: CommitAlongside<String>? = nil
    ) async throws -> String {
        try await inTransaction { tx, service in
            try service.carrierEvent(Transaction(tx), shipmentID: shipmentID, event: event, note: note)
            return try tx.finish(event.rawValue, alongside: alongside)
        }
    }

    func inTransaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, FulfillmentService) throws -> T
    ) async throws -> T {
        let service = self
        return try await database.pool.withConnection { connection in
            try connection.retrying(service.policy.retryPolicy, counting: "fulfillment", in: service.components.metrics)
            { _ in
                try connection.transaction { tx in try body(tx, service) }
            }
        }
    }

    // MARK: Helpers

    /// The order's lock, then the shipment's (both read), in one round trip.
    func locked(_ tx: PostgresConnection, orderID: Int64, shipmentID: Int64) throws -> (OrderRecord, ShipmentRecord) {
        let (order, shipment) = try tx.pipeline(orders.order(orderID, lock: true), store.shipment(shipmentID))
        guard let order else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
        guard let shipment, shipment.orderID == orderID else {
            throw OrderlyError(.notFound, "order \(orderID) has no shipment \(shipmentID)")
        }
        return (order, shipment)
    }

    func moveStatement(_ order: OrderRecord, _ event: OrderEvent, reason: String) throws -> PostgresQuery<Void> {
        orders.move(
            orderID: order.id,
            try OrderMove.checked(event, from: order.status, reason: reason),
            holdReason: nil
        )
    }

    func move(_ tx: PostgresConnection, _ order: OrderRecord, _ event: OrderEvent, reason: String) throws {
        try tx.run(moveStatement(order, event, reason: reason))
    }
}

extension FulfillmentService {
    /// Orders with backordered units their SKUs' stock can now fill (of one SKU, if given).
    public func fillableBackorders(skuID: Int64?, limit: Int) async throws -> [Int64] {
        let store = self.store
        return try await database.pool.withConnection { try store.fillableBackorders($0, skuID: skuID, limit: limit) }
    }
}

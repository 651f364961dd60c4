import Foundation
import Logging
import Orderly
import OrderlyCore
import OrderlyWorker

/// `orderly seed`'s simulation: a year of orders placed, held, paid, cancelled, picked, handed over,
/// delivered, lost and returned, each through the services a real caller uses, with the database's
/// clock (`orderly_now()`) moved through simulated time in quarter hours. Every decision (what is
/// ordered, when, by whom, what the customer and the carrier do next) comes from `--seed`; the
/// outcome of two orders racing for the last unit may differ between runs with more than one client.
final class Seeder {
    struct Settings {
        var orders: Int
        var days: Int
        var seed: UInt64
        var clients: Int
        var skus: Int
        /// When the simulated period ends (it starts `days` before).
        var end: Date
    }

    /// What one order needs to be followed after capture.
    struct Memo: Sendable {
        var channel: Int
        var city: Int
        var lines: [(code: String, units: Int64, category: Int)]
        var serials: [String: [String]] = [:]
        var warehouseID: Int64?
    }

    /// One thing that happens at a simulated quarter hour.
    enum Event: Sendable {
        case place(NewOrder, Memo, roll: UInt64)
        case cancel(orderID: Int64)
        case release(orderID: Int64)
        case pay(orderID: Int64)
        case pick(listID: Int64, picked: [String: Int64], serials: [String: [String]])
        case handover(shipmentID: Int64, orderID: Int64, memo: Memo?, roll: UInt64)
        case carrier(shipmentID: Int64, orderID: Int64, CarrierEvent, memo: Memo?, roll: UInt64)
        case openReturn(orderID: Int64, memo: Memo, roll: UInt64)
        case receiveReturn(returnID: Int64, warehouseID: Int64, memo: Memo, units: [String: Int64], roll: UInt64)
        case inspect(returnID: Int64, found: [FoundUnit], roll: UInt64)
        case resolve(returnID: Int64, resolution: Resolution)
        case receiveStock(warehouseID: Int64, skuID: Int64, units: Int64)
        case count(warehouseID: Int64, skuID: Int64, counted: Int64, reason: StockReason)
        case expect(
            warehouseID: Int64,
            skuID: Int64,
            units: Int64,
            arrivesOn: LocalDate,
            inDays: Int,
            reference: String
        )
    }

    struct FoundUnit: Sendable {
        var sku: String
        var units: Int64
        var condition: ReturnCondition
        var serial: String?
    }

    enum Resolution: Sendable {
        case refund
        case credit
        case exchange([String: Int64])
    }

    /// What an event led to: later events (hours from now) and what to count.
    struct Outcome: Sendable {
        var later: [(hours: Double, event: Event)] = []
        var placed: (orderID: Int64, memo: Memo)?
        var tally: [String: Int] = [:]
        var forget: Int64?
    }

    /// The services an event runs through (Sendable: events run side by side).
    struct Services: Sendable {
        let database: OrderlyDatabase
        let orders: OrderService
        let fulfillment: FulfillmentService
        let inventory: InventoryService
        let returns: ReturnService
        let payments: PaymentService
    }

    let simulation: Simulation
    let settings: Settings
    let services: Services
    let catalog: CatalogService
    let channelService: ChannelService
    let jobs: JobService
    let logger: Logger
    /// Two streams: what customers order (independent of how fast the floor runs) and everything else.
    var orderRandom: SeedRandom
    var random: SeedRandom

    var products: [SeedWorld.Product] = []
    var productCumulative: [Double] = []
    var cityCumulative: [Double] = []
    var channelCumulative: [Double] = []
    var warehouseIDs: [Int64] = []
    var skuIDs: [Int64] = []
    /// Expected units a day per warehouse and SKU (purchasing's forecast).
    var dailyDemand: [[Double]] = []
    var memos: [Int64: Memo] = [:]
    var schedule: [Int: [Event]] = [:]
    var tally: [String: Int] = [:]
    var serialNumber = 0
    var purchaseOrder = 0

    init(simulation: Simulation, settings: Settings, logger: Logger) {
        self.simulation = simulation
        self.settings = settings
        self.logger = logger
        self.random = SeedRandom(seed: settings.seed)
        self.orderRandom = SeedRandom(seed: settings.seed ^ 0x5EED_0_0DE5)
        let database = simulation.database
        // The standard composition: its gateway records captures and refunds in the outbox.
        let components = OrderlyComponents.standard
        let actor = "seed"
        services = Services(
            database: database,
            orders: OrderService(database: database, actor: actor, components: components),
            fulfillment: FulfillmentService(database: database, actor: actor, components: components),
            inventory: InventoryService(database: database, actor: actor),
            returns: ReturnService(database: database, actor: actor, components: components),
            payments: PaymentService(database: database, actor: actor, components: components)
        )
        catalog = CatalogService(database: database)
        channelService = ChannelService(database: database, actor: actor, components: components)
        jobs = JobService(database: database)
    }

    var start: Date { settings.end.addingTimeInterval(-Double(settings.days) * 86_400) }

    // MARK: The world

    func buildWorld() async throws {
        try await simulation.setClock(start.addingTimeInterval(-86_400))
        for site in SeedWorld.warehouses {
            let id = try await catalog.createWarehouse(
                NewWarehouse(
                    code: site.code,
                    name: site.name,
                    location: GeoPoint(latitude: site.latitude, longitude: site.longitude),
                    addressLine1: "Logistikpark 1",
                    city: site.city,
                    country: site.country
                )
            )
            // Pickers scan what they pick and the carrier scans what it collects: the floor's pace.
            try await simulation.setFulfillment(warehouseID: id, pickConfirmation: "scanner", handover: "scan")
            warehouseIDs.append(id)
        }
        products = SeedWorld.products(count: settings.skus, random: &random)
        // A long tail: the i-th most popular product sells 1/(i+1)^1.07 as much as the first.
        var order = Array(products.indices)
        for index in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(index, random.int(0...index))
        }
        var popularity = [Double](repeating: 0, count: products.count)
        for (rank, index) in order.enumerated() { popularity[index] = 1 / pow(Double(rank + 1), 1.07) }
        var running = 0.0
        productCumulative = popularity.map {
            running += $0
            return running
        }
        for product in products {
            skuIDs.append(
                try await catalog.createSKU(
                    NewSKU(
                        code: product.code,
                        name: product.name,
                        weightGrams: product.grams,
                        dimensionsMillimetres: (300, 200, 120),
                        serialTracked: product.serialTracked
                    )
                )
            )
        }
        running = 0
        cityCumulative = SeedWorld.cities.map {
            running += $0.weight
            return running
        }
        running = 0
        channelCumulative = SeedWorld.channels.map {
            running += $0.share
            return running
        }
        for channel in SeedWorld.channels {
            var change = ChannelSettings()
            change.kind = channel.kind
            change.routing = channel.routing
            change.onShortage = channel.onShortage
            change.highValueMinor = ["EUR": channel.kind == .b2b ? 2_000_000 : 150_000]
            change.riskScoreLimit = 92
            change.unpaidReservationSeconds = channel.kind == .web ? 3 * 86_400 : 0
            change.returnWindowDays = channel.name == "zalando" ? 100 : 30
            change.keepItemLimitMinor = channel.kind == .web ? 1_000 : 0
            change.restockingFeePercent = channel.kind == .b2b ? 15 : 0
            guard let name = SalesChannel(rawValue: channel.name) else { continue }
            _ = try await channelService.set(name, change)
        }
        // Rates from every warehouse to every country: cheaper and faster at home.
        for site in SeedWorld.warehouses {
            for country in SeedWorld.countries {
                let abroad = country != site.country
                for service in SeedWorld.services {
                    for (low, high, kilograms) in [
                        (0, 2_000, 1.0), (2_001, 10_000, 6.0), (10_001, 31_500, 20.0), (31_501, 1_000_000, 80.0),
                    ] {
                        let price = service.base + Int64(Double(service.perKilogram) * kilograms) + (abroad ? 350 : 0)
                        _ = try await catalog.addRate(
                            CatalogService.NewRate(
                                carrier: service.carrier,
                                service: service.service,
                                country: country,
                                origin: .code(site.code),
                                minGrams: Int64(low),
                                maxGrams: Int64(high),
                                priceMinor: price,
                                currency: "EUR",
                                transitDays: 1 + service.days + (abroad ? 1 : 0)
                            )
                        )
                    }
                }
            }
        }
        // Purchasing's forecast: each product's share of the units, split by the nearest warehouse.
        var warehouseShare = [Double](repeating: 0, count: warehouseIDs.count)
        for city in SeedWorld.cities {
            let point = GeoPoint(latitude: city.latitude, longitude: city.longitude)
            let distances = SeedWorld.warehouses.map {
                point.distanceKilometers(to: GeoPoint(latitude: $0.latitude, longitude: $0.longitude))
            }
            guard let nearest = distances.indices.min(by: { distances[$0] < distances[$1] }) else { continue }
            warehouseShare[nearest] += city.weight
        }
        let shareTotal = warehouseShare.reduce(0, +)
        let unitsPerDay = Double(settings.orders) * 2.9 / Double(settings.days)
        let popularityTotal = popularity.reduce(0, +)
        dailyDemand = warehouseShare.map { share in
            popularity.map { unitsPerDay * (share / shareTotal) * ($0 / popularityTotal) }
        }
        for (w, warehouse) in warehouseIDs.enumerated() {
            for (s, sku) in skuIDs.enumerated() {
                let daily = dailyDemand[w][s]
                try await services.inventory.receive(
                    warehouse: warehouse,
                    sku: sku,
                    quantity: Int64((daily * 30).rounded(.up)) + 12,
                    note: "opening stock"
                )
                _ = try await services.inventory.setThresholds(
                    warehouse: warehouse,
                    sku: sku,
                    reorderPoint: Int64((daily * 10).rounded(.up)) + 1,
                    safetyStock: 0
                )
            }
        }
    }

    // MARK: Orders

    /// The next order, drawn: channel, customer, destination, lines, payment, risk.
    func nextOrder(number: Int) -> Event {
        let channelIndex = orderRandom.pick(cumulative: channelCumulative)
        let channel = SeedWorld.channels[channelIndex]
        let cityIndex = orderRandom.pick(cumulative: cityCumulative)
        let city = SeedWorld.cities[cityIndex]
        let lineCount = [1, 1, 1, 1, 1, 2, 2, 2, 3, 4][orderRandom.int(0...9)]
        var chosen = [Int]()
        while chosen.count < lineCount {
            let index = orderRandom.pick(cumulative: productCumulative)
            if !chosen.contains(index) { chosen.append(index) }
        }
        let lines = chosen.map { index -> NewOrderLine in
            let units =
                channel.quantities.upperBound > 3
                ? orderRandom.int(channel.quantities) : [1, 1, 1, 1, 1, 1, 1, 2, 2, 3][orderRandom.int(0...9)]
            let quantity = Int64(min(units, channel.quantities.upperBound))
            return NewOrderLine(
                skuCode: products[index].code,
                quantity: quantity,
                unitPriceMinor: products[index].priceMinor
            )
        }
        let subtotal = lines.reduce(Int64(0)) { $0 + $1.quantity * $1.unitPriceMinor }
        let shipping: Int64 = channel.kind == .pos || subtotal >= 5_000 ? 0 : 490
        let tax = subtotal * 19 / 119 / 10  // a share shown as tax on top, kept small
        let customer = orderRandom.int(0...max(1, settings.orders / 3))
        let token: String =
            switch channel.kind {
            case .pos: "tok_captured"
            case .marketplace: orderRandom.chance(0.995) ? "tok_captured" : "tok_declined"
            case .web:
                orderRandom.chance(0.05)
                    ? "tok_pending" : (orderRandom.chance(0.015) ? "tok_declined" : "tok_authorized")
            default: "tok_authorized"
            }
        let riskScore = orderRandom.chance(0.03) ? orderRandom.int(85...99) : orderRandom.int(0...60)
        let street = ["Hauptstraße", "Rue de la Paix", "ul. Długa", "Calle Mayor", "Kerkstraat", "Ringstraße"]
        let postal = city.postalPrefix + String(format: "%03d", orderRandom.int(0...999))
        let order = NewOrder(
            channel: SalesChannel(rawValue: channel.name) ?? .web,
            externalID: "\(channel.name.uppercased())-\(100_000 + number)",
            currency: "EUR",
            lines: lines,
            shipTo: PostalAddress(
                name: "Customer \(customer)",
                line1: "\(street[orderRandom.int(0...street.count - 1)]) \(orderRandom.int(1...180))",
                city: city.name,
                postalCode: postal,
                country: city.country,
                location: GeoPoint(
                    latitude: city.latitude + (orderRandom.unit() - 0.5) * 0.1,
                    longitude: city.longitude + (orderRandom.unit() - 0.5) * 0.1
                )
            ),
            billingCountry: city.country,
            email: "customer\(customer)@example.com",
            shippingMinor: shipping,
            taxMinor: tax,
            payment: PaymentDetails(method: "card", token: token),
            riskScore: riskScore,
            priority: channel.kind == .b2b ? .low : nil
        )
        let memo = Memo(
            channel: channelIndex,
            city: cityIndex,
            lines: zip(chosen, lines).map { index, line in (line.skuCode, line.quantity, products[index].category) }
        )
        return .place(order, memo, roll: orderRandom.next())
    }

    // MARK: Running

    func run(progress: ProgressBar) async throws -> [String: Int] {
        try await buildWorld()
        let quarters = settings.days * 96
        let perHour = DemandCurve(start: start, hours: settings.days * 24).counts(total: settings.orders)
        let handlers = StandardJobs.handlers(
            orders: services.orders,
            fulfillment: services.fulfillment,
            notifier: SilentNotifier(),
            logger: logger
        )
        let worker = Worker(
            database: simulation.database,
            listens: true,
            handlers: handlers.transactional,
            idempotentHandlers: handlers.idempotent,
            configuration: WorkerConfiguration(
                id: "seed-\(ProcessInfo.processInfo.processIdentifier)",
                concurrency: max(2, settings.clients),
                leaseSeconds: 60,
                pollInterval: .milliseconds(20),
                backoffBase: 0.5,
                backoffCap: 30
            ),
            onDiscard: StandardJobs.onDiscard(orders: services.orders),
            logger: logger
        )
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        var placed = 0
        var number = 0
        var busy = false
        for quarter in 0..<quarters {
            let instant = start.addingTimeInterval(Double(quarter) * 900)
            try await simulation.setClock(instant)
            let hour = quarter / 4
            let (weekday, hourOfDay, minute) = Self.clockFace(instant)
            var due = schedule.removeValue(forKey: quarter) ?? []
            // This quarter's share of the hour's orders.
            let hourOrders = perHour[hour]
            let share = hourOrders / 4 + (quarter % 4 < hourOrders % 4 ? 1 : 0)
            for _ in 0..<share {
                number += 1
                due.append(nextOrder(number: number))
            }
            let working = (2...6).contains(weekday)  // Monday to Friday
            if working && minute == 0 && [7, 9, 11, 13].contains(hourOfDay)
                || working && hourOfDay == 14 && minute == 15
            {
                due += try await pickWave()
            }
            if working && hourOfDay == 14 && minute == 45 { due += try await carrierPickup() }
            if hourOfDay == 5 && minute == 0 { due += try await purchasingAndCounts(instant) }
            busy = busy || !due.isEmpty
            let outcomes = await perform(due)
            for outcome in outcomes {
                if let (orderID, memo) = outcome.placed {
                    memos[orderID] = memo
                    placed += 1
                }
                if let forget = outcome.forget { memos.removeValue(forKey: forget) }
                for (hours, event) in outcome.later {
                    let at = quarter + max(1, Int((hours * 4).rounded()))
                    if at < quarters { schedule[at, default: []].append(event) }
                }
                for (key, count) in outcome.tally { tally[key, default: 0] += count }
            }
            if quarter % 4 == 3 {
                // The domain's sweeps every six simulated hours (unpaid reservations, backorders the
                // receipts' own retries missed, promises at risk); pruning once a day; the analytics
                // are refreshed once, at the end.
                if hourOfDay % 6 == 5 {
                    let sweeps = StandardJobs.sweeps.filter {
                        $0.kind != Jobs.RefreshAnalytics.name && ($0.kind != Jobs.PruneJobs.name || hourOfDay == 23)
                    }
                    _ = try await jobs.enqueue(sweeps)
                    busy = true
                }
                if busy { try await drain() }
                busy = false
                progress.update(
                    done: placed,
                    detail: "simulated "
                        + ISO8601DateFormatter.string(
                            from: instant,
                            timeZone: SeedWorld.utc.timeZone,
                            formatOptions: [.withFullDate]
                        )
                )
            }
        }
        try await drain()
        worker.shutdown()
        try await running.value
        try await simulation.clearClock()
        tally["orders"] = placed
        return tally
    }

    /// Waits until the worker has run every job that is due.
    func drain() async throws {
        while try await simulation.jobsInFlight() > 0 { try await Task.sleep(for: .milliseconds(5)) }
    }

    /// (weekday 1 = Sunday, hour, minute) in UTC.
    static func clockFace(_ instant: Date) -> (Int, Int, Int) {
        let parts = SeedWorld.utc.dateComponents([.weekday, .hour, .minute], from: instant)
        return (parts.weekday ?? 1, parts.hour ?? 0, parts.minute ?? 0)
    }

    /// `instant` rounded down to a quarter hour: the simulation steps by them.
    static func quarterHour(_ instant: Date) -> Date {
        Date(timeIntervalSince1970: (instant.timeIntervalSince1970 / 900).rounded(.down) * 900)
    }

    /// Pickers walk every open list: almost always in full, now and then a unit short; serial-tracked
    /// units are scanned with serials of their own.
    func pickWave() async throws -> [Event] {
        var events = [Event]()
        for warehouse in warehouseIDs {
            let lines = try await simulation.openPickLines(warehouseID: warehouse)
            var lists = [Int64: [Simulation.PickLine]]()
            var order = [Int64]()
            for line in lines {
                if lists[line.listID] == nil { order.append(line.listID) }
                lists[line.listID, default: []].append(line)
            }
            for listID in order {
                var picked = [String: Int64]()
                var serials = [String: [String]]()
                for line in lists[listID] ?? [] {
                    if line.serialTracked {
                        let numbers = (0..<line.units).map { _ -> String in
                            serialNumber += 1
                            return String(format: "SN%09d", serialNumber)
                        }
                        serials[line.skuCode, default: []] += numbers
                        memos[line.orderID]?.serials[line.skuCode, default: []] += numbers
                    } else if random.chance(0.004), line.units > 0 {
                        picked[line.skuCode] = line.units - 1  // a unit not found in its bin
                    }
                }
                events.append(.pick(listID: listID, picked: picked, serials: serials))
            }
        }
        return events
    }

    /// The carrier collects every labelled parcel.
    func carrierPickup() async throws -> [Event] {
        var events = [Event]()
        for warehouse in warehouseIDs {
            for (shipmentID, orderID) in try await simulation.awaitingHandover(warehouseID: warehouse) {
                memos[orderID]?.warehouseID = warehouse
                events.append(
                    .handover(shipmentID: shipmentID, orderID: orderID, memo: memos[orderID], roll: random.next())
                )
            }
        }
        return events
    }

    /// Each morning: purchase orders for rows at their reorder point (arriving in 3 to 8 days), and
    /// cycle counts of a few rows per warehouse, most exact, some a unit or two off.
    func purchasingAndCounts(_ instant: Date) async throws -> [Event] {
        var events = [Event]()
        let stock = try await simulation.stock()
        let warehouseIndex = Dictionary(uniqueKeysWithValues: warehouseIDs.enumerated().map { ($1, $0) })
        let skuIndex = Dictionary(uniqueKeysWithValues: skuIDs.enumerated().map { ($1, $0) })
        for row in stock {
            guard let w = warehouseIndex[row.warehouseID], let s = skuIndex[row.skuID] else { continue }
            let daily = dailyDemand[w][s]
            let position = row.onHand - row.reserved + row.expected
            if Double(position) <= daily * 10 {
                let units = Int64((daily * 24).rounded(.up)) + 2
                let days = random.int(3...8)
                purchaseOrder += 1
                events.append(
                    .expect(
                        warehouseID: row.warehouseID,
                        skuID: row.skuID,
                        units: units,
                        arrivesOn: LocalDate(dayNumber: Int64(instant.timeIntervalSince1970 / 86_400) + Int64(days)),
                        inDays: days,
                        reference: "PO-\(purchaseOrder)"
                    )
                )
            }
        }
        for warehouse in warehouseIDs {
            let rows = stock.filter { $0.warehouseID == warehouse }
            guard !rows.isEmpty else { continue }
            for _ in 0..<6 {
                let row = rows[random.int(0...rows.count - 1)]
                var counted = row.onHand
                var reason = StockReason.correction
                if random.chance(0.12) {
                    let delta = Int64(random.int(1...3)) * (random.chance(0.7) ? -1 : 1)
                    counted = max(row.reserved, row.onHand + delta)
                    reason = counted < row.onHand ? (random.chance(0.7) ? .lost : .damaged) : .found
                }
                events.append(.count(warehouseID: warehouse, skuID: row.skuID, counted: counted, reason: reason))
            }
        }
        return events
    }

    /// Runs events side by side, `clients` at a time, and collects what they led to.
    func perform(_ events: [Event]) async -> [Outcome] {
        let services = self.services
        let limit = max(1, settings.clients)
        return await withTaskGroup(of: Outcome.self) { group in
            var outcomes = [Outcome]()
            var iterator = events.makeIterator()
            for _ in 0..<limit {
                guard let event = iterator.next() else { break }
                group.addTask { await Self.perform(event, services) }
            }
            while let outcome = await group.next() {
                outcomes.append(outcome)
                if let event = iterator.next() { group.addTask { await Self.perform(event, services) } }
            }
            return outcomes
        }
    }

    /// One event through the services. A refusal (the order moved on: shipped before the customer's
    /// cancel arrived, say) is counted, as a real caller would see it, and changes nothing.
    static func perform(_ event: Event, _ services: Services) async -> Outcome {
        var outcome = Outcome()
        do {
            try await run(event, services, &outcome)
        } catch {
            outcome.tally["refused:\(event.name)"] = 1
        }
        return outcome
    }

    static func run(_ event: Event, _ s: Services, _ outcome: inout Outcome) async throws {
        switch event {
        case .place(let order, let memo, let roll):
            var random = SeedRandom(seed: roll)
            let placed = try await s.orders.place(order)
            outcome.placed = (placed.orderID, memo)
            outcome.tally["placed:\(placed.status.rawValue)"] = 1
            let id = placed.orderID
            switch placed.status {
            case .onHold where placed.holdReason == .paymentPending:
                outcome.later.append(
                    random.chance(0.8) ? (Double(random.int(2...48)), .pay(orderID: id)) : (72, .cancel(orderID: id))
                )
            case .onHold:
                outcome.later.append(
                    random.chance(0.85)
                        ? (Double(random.int(1...10)), .release(orderID: id))
                        : (Double(random.int(2...24)), .cancel(orderID: id))
                )
            case .cancelled:
                outcome.forget = id
            default:
                if order.payment?.token == "tok_pending", random.chance(0.85) {
                    outcome.later.append((Double(random.int(2...48)), .pay(orderID: id)))
                }
                if random.chance(0.025) { outcome.later.append((0.5 + random.unit() * 5, .cancel(orderID: id))) }
            }
        case .cancel(let orderID):
            _ = try await s.orders.cancel(orderID, reason: "customer asked")
            outcome.tally["cancelled"] = 1
        case .release(let orderID):
            _ = try await s.orders.release(orderID, note: "reviewed")
            outcome.tally["released"] = 1
        case .pay(let orderID):
            _ = try await s.payments.record(
                orderID,
                verdict: PaymentVerdict(status: .authorized, provider: "bank_transfer", reference: "bt-\(orderID)"),
                amountMinor: nil
            )
            outcome.tally["paid_later"] = 1
        case .pick(let listID, let picked, let serials):
            _ = try await s.fulfillment.confirmPickList(listID, picked: picked, serials: serials)
            outcome.tally["pick_lists"] = 1
        case .handover(let shipmentID, let orderID, let memo, let roll):
            var random = SeedRandom(seed: roll)
            try await s.fulfillment.handover(shipmentID)
            outcome.tally["handed_over"] = 1
            let abroad = memo.map { SeedWorld.cities[$0.city].country != "DE" } ?? false
            var hours = Double(random.int(abroad ? 40...90 : 18...44))
            if random.chance(0.1) { hours += 24 }
            let roll = random.next()
            if random.chance(0.003) {
                outcome.later.append(
                    (hours, .carrier(shipmentID: shipmentID, orderID: orderID, .lost, memo: memo, roll: roll))
                )
            } else if random.chance(0.004) {
                outcome.later.append(
                    (hours, .carrier(shipmentID: shipmentID, orderID: orderID, .damaged, memo: memo, roll: roll))
                )
            } else {
                if random.chance(0.02) {
                    outcome.later.append(
                        (hours / 2, .carrier(shipmentID: shipmentID, orderID: orderID, .delayed, memo: nil, roll: roll))
                    )
                    hours += 48
                }
                outcome.later.append(
                    (hours, .carrier(shipmentID: shipmentID, orderID: orderID, .delivered, memo: memo, roll: roll))
                )
            }
        case .carrier(let shipmentID, let orderID, let carrierEvent, let memo, let roll):
            try await s.database.transaction { tx in
                try s.fulfillment.carrierEvent(tx, shipmentID: shipmentID, event: carrierEvent, note: nil)
            }
            outcome.tally["carrier:\(carrierEvent.rawValue)"] = 1
            guard carrierEvent == .delivered, let memo else { return }
            var random = SeedRandom(seed: roll)
            let channel = SeedWorld.channels[memo.channel]
            let rate = memo.lines.map { SeedWorld.categories[$0.category].returnRate }.max() ?? 0
            if random.chance(rate * channel.returnFactor) {
                outcome.later.append(
                    (Double(random.int(36...400)), .openReturn(orderID: orderID, memo: memo, roll: random.next()))
                )
            } else {
                outcome.forget = orderID
            }
        case .openReturn(let orderID, let memo, let roll):
            var random = SeedRandom(seed: roll)
            outcome.forget = orderID
            // The line most likely to come back (every order has one line at least).
            guard
                let line = memo.lines.max(by: {
                    SeedWorld.categories[$0.category].returnRate < SeedWorld.categories[$1.category].returnRate
                })
            else { return }
            let category = SeedWorld.categories[line.category]
            var cumulative = [Double]()
            var running = 0.0
            for (_, weight) in category.reasons {
                running += weight
                cumulative.append(running)
            }
            let reason = category.reasons[random.pick(cumulative: cumulative)].0
            let units: [String: Int64] = [
                line.code: category.serialTracked ? 1 : max(1, Int64(random.int(1...Int(line.units))))
            ]
            let cheap = SeedWorld.channels[memo.channel].kind == .web && !category.serialTracked && random.chance(0.15)
            let opened = try await s.returns.open(
                orderID: orderID,
                units: units,
                reason: reason,
                note: nil,
                keepItem: cheap
            )
            outcome.tally["returns"] = 1
            if opened.status == .inspected {
                outcome.later.append((1, .resolve(returnID: opened.id, resolution: .refund)))
            } else if let warehouse = memo.warehouseID {
                outcome.later.append(
                    (
                        Double(random.int(60...170)),
                        .receiveReturn(
                            returnID: opened.id,
                            warehouseID: warehouse,
                            memo: memo,
                            units: units,
                            roll: random.next()
                        )
                    )
                )
            }
        case .receiveReturn(let returnID, let warehouseID, let memo, let units, let roll):
            var random = SeedRandom(seed: roll)
            _ = try await s.returns.receive(returnID, warehouse: warehouseID)
            var found = [FoundUnit]()
            for (sku, count) in units {
                let serial = memo.serials[sku]?.first
                let condition: ReturnCondition =
                    random.chance(0.74)
                    ? .sellable : (random.chance(0.5) ? .damaged : (random.chance(0.85) ? .defective : .missing))
                if serial != nil || memo.serials[sku] != nil {
                    // 1 in 100 comes back with a serial that never left: fraud review.
                    let shown = random.chance(0.01) ? "SN-FORGED-\(returnID)" : serial
                    found.append(FoundUnit(sku: sku, units: 1, condition: condition, serial: shown))
                } else {
                    found.append(FoundUnit(sku: sku, units: count, condition: condition, serial: nil))
                }
            }
            outcome.later.append(
                (Double(random.int(2...30)), .inspect(returnID: returnID, found: found, roll: random.next()))
            )
        case .inspect(let returnID, let found, let roll):
            var random = SeedRandom(seed: roll)
            let status = try await s.returns.inspect(
                returnID,
                found: found.map { ($0.sku, $0.units, $0.condition, $0.serial) }
            )
            outcome.tally["inspected"] = 1
            guard status == ReturnStatus.inspected.rawValue else { return }
            let roll = random.unit()
            let resolution: Resolution =
                roll < 0.72
                ? .refund : roll < 0.9 ? .credit : .exchange(Dictionary(found.map { ($0.sku, $0.units) }) { $0 + $1 })
            outcome.later.append((Double(random.int(1...24)), .resolve(returnID: returnID, resolution: resolution)))
        case .resolve(let returnID, let resolution):
            switch resolution {
            case .refund:
                _ = try await s.returns.refund(returnID)
                outcome.tally["refunded"] = 1
            case .credit:
                _ = try await s.returns.credit(returnID)
                outcome.tally["credited"] = 1
            case .exchange(let replacement):
                _ = try await s.returns.exchange(returnID, replacement: replacement)
                outcome.tally["exchanged"] = 1
            }
        case .receiveStock(let warehouseID, let skuID, let units):
            try await s.inventory.receive(warehouse: warehouseID, sku: skuID, quantity: units, note: "purchase order")
            outcome.tally["receipts"] = 1
        case .count(let warehouseID, let skuID, let counted, let reason):
            try await s.inventory.count(warehouse: warehouseID, sku: skuID, counted: counted, reason: reason)
            outcome.tally["cycle_counts"] = 1
        case .expect(let warehouseID, let skuID, let units, let date, let days, let reference):
            _ = try await s.inventory.expect(
                warehouse: warehouseID,
                sku: skuID,
                quantity: units,
                date: date,
                reference: reference
            )
            outcome.later.append(
                (Double(days * 24 + 3), .receiveStock(warehouseID: warehouseID, skuID: skuID, units: units))
            )
            outcome.tally["purchase_orders"] = 1
        }
    }
}

extension Seeder.Event {
    var name: String {
        switch self {
        case .place: "place"
        case .cancel: "cancel"
        case .release: "release"
        case .pay: "pay"
        case .pick: "pick"
        case .handover: "handover"
        case .carrier: "carrier"
        case .openReturn: "return"
        case .receiveReturn: "return_receive"
        case .inspect: "return_inspect"
        case .resolve: "return_resolve"
        case .receiveStock: "receive"
        case .count: "count"
        case .expect: "expect"
        }
    }
}

/// Customer messages are written to the outbox and marked sent; nobody is mailed.
struct SilentNotifier: Notifier {
    func send(_ message: OutboxEntry) throws {}
}

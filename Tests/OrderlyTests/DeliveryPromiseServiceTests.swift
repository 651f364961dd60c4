import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Promises as the reservation stores them, and the sweep that finds them at risk. A database of
/// its own: the sweep looks at every order in it.
@Suite(.serialized)
struct DeliveryPromiseServiceTests {
    func withFixture(_ label: String, _ body: (OrderFixture) async throws -> Void) async throws {
        let database = try await TestDatabase.create(label: "promises_" + label, migrated: true)
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 4))
        do {
            let f = try await OrderFixture.make(pool)
            _ = try await CatalogService(database: f.database).addRate(
                CatalogService.NewRate(
                    carrier: "DHL",
                    service: "parcel",
                    country: "DE",
                    minGrams: 0,
                    maxGrams: 100_000,
                    priceMinor: 490,
                    currency: "EUR",
                    transitDays: 3
                )
            )
            try await body(f)
        } catch {
            await pool.close()
            try? database.drop()
            throw error
        }
        await pool.close()
        try database.drop()
    }

    func calendar(_ f: OrderFixture, warehouse: Int) async throws -> WarehouseCalendar {
        // Berlin, a cut-off at 14:00, half an hour to pick and pack, and the next three days off.
        let today = WarehouseCalendar(timeZone: "Europe/Berlin", cutoffMinutes: 0).localDate(of: Date())
        return try await CatalogService(database: f.database).setCalendar(
            .id(f.warehouses[warehouse]),
            CatalogService.CalendarChange(
                timeZone: "Europe/Berlin",
                cutoffMinutes: 14 * 60,
                leadTimeMinutes: 30,
                addHolidays: (1...3).map { today.adding(days: $0) }
            )
        )
    }

    @Test func eachParcelIsPromisedByItsWarehousesCalendarAndRateAndTheCustomerIsTold() async throws {
        try await withFixture("placed") { f in
            // Munich (index 2) is nearest to the order's address.
            let munich = try await calendar(f, warehouse: 2)
            #expect(munich.holidays.count == 3 && munich.cutoffText == "14:00" && munich.leadTimeMinutes == 30)
            let placed = try await f.orders.place(f.newOrder("p1"))
            #expect(placed.status == .reserved)
            let (_, _, promises, _) = try await f.database.read(AdminReads.order(placed.orderID))
            let stored = try #require(promises.first, "no promise stored")
            #expect(promises.count == 1 && stored.promise.warehouseID == f.warehouses[2] && stored.atRiskAt == nil)
            // Exactly what the calendar says for the moment the promise was made from.
            let (date, cutoff) = try #require(munich.shipBy(capturedAt: stored.promise.promisedAt))
            #expect(stored.promise.shipDate == date && stored.promise.shipBy == cutoff)
            #expect(!munich.holidays.contains(date) && munich.ships(on: date))
            #expect(stored.promise.deliverBy == munich.deliverBy(shipDate: date, transitDays: 3))
            #expect(stored.promise.carrier == "DHL" && stored.promise.service == "parcel")
            let body = try await f.pool.query(
                "SELECT body FROM notifications WHERE order_id = $1 AND kind = 'order_confirmed'",
                [placed.orderID]
            ).scalar(String.self)
            #expect(body.contains("arrive by \(try #require(stored.promise.deliverBy))"), "\(body)")

            // A calendar change is the next order's promise: no holidays, every day a working day.
            _ = try await CatalogService(database: f.database).setCalendar(
                .id(f.warehouses[2]),
                CatalogService.CalendarChange(
                    workingDays: Set(1...7),
                    removeHolidays: munich.holidays.sorted()
                )
            )
            let second = try await f.orders.place(f.newOrder("p2"))
            let next = try #require(try await f.database.read(AdminReads.order(second.orderID)).promises.first)
            var open = munich
            open.workingDays = Set(1...7)
            open.holidays = []
            #expect(next.promise.shipBy == open.shipBy(capturedAt: next.promise.promisedAt)?.cutoff)
        }
    }

    @Test func badCalendarsAreRefusedAndChangeNothing() async throws {
        try await withFixture("bad") { f in
            let before = try await calendar(f, warehouse: 0)
            let catalog = CatalogService(database: f.database)
            let changes: [CatalogService.CalendarChange] = [
                .init(timeZone: "Mars/Olympus"),
                .init(cutoffMinutes: 1440),
                .init(workingDays: []),
                .init(workingDays: [0, 1]),
                .init(leadTimeMinutes: -1),
                .init(addHolidays: [LocalDate(dayNumber: 20_000)], removeHolidays: [LocalDate(dayNumber: 20_000)]),
                .init(),
            ]
            for change in changes {
                await #expect(throws: OrderlyError.self, "\(change)") {
                    try await catalog.setCalendar(.id(f.warehouses[0]), change)
                }
            }
            await #expect(throws: OrderlyError.self) {
                try await catalog.setCalendar(.code("NOPE"), .init(cutoffMinutes: 60))
            }
            // Unchanged: adding nothing new shows the same calendar.
            let after = try await catalog.setCalendar(
                .id(f.warehouses[0]),
                .init(addHolidays: before.holidays.sorted())
            )
            #expect(after == before)
        }
    }

    @Test func aPromiseNotPickedByItsShipByIsAtRiskOnce() async throws {
        try await withFixture("risk") { f in
            _ = try await calendar(f, warehouse: 2)
            // Paid and reserved, not picked (no worker runs here); and one cancelled.
            let late = try await f.orders.place(f.newOrder("late"))
            let cancelled = try await f.orders.place(f.newOrder("gone"))
            _ = try await f.orders.cancel(cancelled.orderID, reason: "customer")
            let promise = try #require(try await f.database.read(AdminReads.order(late.orderID)).promises.first)

            // Before its ship-by nothing is at risk; after it, the order once, and never the cancelled one.
            #expect(try await f.orders.watchPromises(asOf: promise.promise.shipBy.addingTimeInterval(-1)) == 0)
            let after = promise.promise.shipBy.addingTimeInterval(86_400)
            #expect(try await f.orders.watchPromises(asOf: after) == 1)
            #expect(try await f.orders.watchPromises(asOf: after) == 0)
            #expect(try await f.orders.watchPromises(asOf: after.addingTimeInterval(86_400)) == 0)
            let jobs = try await f.pool.query(
                "SELECT args ->> 'order_id', args ->> 'warehouse_id' FROM jobs WHERE kind = 'promise_at_risk'"
            )
            #expect(jobs.count == 1)
            #expect(try jobs[0].decode((String, String).self) == ("\(late.orderID)", "\(f.warehouses[2])"))
            let shown = try await f.database.read(AdminReads.order(late.orderID)).promises
            #expect(shown.first?.atRiskAt != nil)

            // ORDER LIST at_risk=true finds it, at_risk=false the others.
            let atRisk = try await f.database.read(
                AdminReads.orders(status: nil, channel: nil, atRisk: true, before: nil, limit: 10)
            )
            #expect(atRisk.map { $0.first { $0.0 == "id" }?.1 } == [.int(late.orderID)])
            let fine = try await f.database.read(
                AdminReads.orders(status: nil, channel: nil, atRisk: false, before: nil, limit: 10)
            )
            #expect(fine.map { $0.first { $0.0 == "id" }?.1 } == [.int(cancelled.orderID)])

            // The alert job's message to operations, once however often the job runs.
            let notifications = NotificationService(database: f.database)
            for _ in 0..<2 {
                try await f.pool.transaction { tx in
                    _ = try notifications.alertPromiseAtRisk(
                        Transaction(tx),
                        orderID: late.orderID,
                        warehouseID: f.warehouses[2],
                        recipient: "operations",
                        channel: "log"
                    )
                }
            }
            let alerts = try await f.pool.query(
                "SELECT subject, body FROM notifications WHERE kind = 'promise_at_risk' AND order_id = $1",
                [late.orderID]
            )
            #expect(alerts.count == 1)
            #expect(try alerts[0].decode(String.self, at: 1).contains("Europe/Berlin"))
        }
    }

    /// The priorities of the order's pick jobs.
    func pickPriorities(_ f: OrderFixture, _ order: Int64) async throws -> [Int64] {
        try await f.pool.query(
            "SELECT priority::int8 FROM jobs WHERE kind = 'pick' AND (args ->> 'order_id')::int8 = $1 ORDER BY id",
            [order]
        ).map { try $0.decode(Int64.self, at: 0) }
    }

    @Test func anOrdersPriorityOrItsChannelsIsItsPickJobs() async throws {
        try await withFixture("priority") { f in
            let urgent = try await f.orders.place(f.newOrder("u") { $0.priority = .urgent })
            let plain = try await f.orders.place(f.newOrder("n"))
            // Marketplaces default to high (migration 0012); a channel's default is a CHANNEL SET away.
            let market = try await f.orders.place(f.newOrder("m", channel: .marketplace))
            let slow = try await f.channel("slow") { $0.priority = .low }
            let low = try await f.orders.place(f.newOrder("l", channel: slow))
            #expect(try await pickPriorities(f, urgent.orderID) == [10])
            #expect(try await pickPriorities(f, plain.orderID) == [100])
            #expect(try await pickPriorities(f, market.orderID) == [50])
            #expect(try await pickPriorities(f, low.orderID) == [150])
            #expect(try await f.orders.order(low.orderID).priority == .low)
            // Picks held back while unpaid get the order's priority when the payment comes.
            let unpaid = try await f.orders.place(f.newOrder("p", token: "tok_pending") { $0.priority = .high })
            let heldBack = try await pickPriorities(f, unpaid.orderID)
            #expect(unpaid.status == .reserved && heldBack == [])
            _ = try await PaymentService(database: f.database, actor: "test").record(
                unpaid.orderID,
                verdict: PaymentVerdict(status: .authorized, provider: "psp", reference: "pi_\(f.tag)"),
                amountMinor: nil
            )
            #expect(try await pickPriorities(f, unpaid.orderID) == [50])
        }
    }

    @Test func theChosenServiceDecidesTheWarehouseAndThePromise() async throws {
        try await withFixture("service") { f in
            // Only Hamburg (index 0, the farthest from Munich) has an express rate, a day in transit.
            _ = try await CatalogService(database: f.database).addRate(
                CatalogService.NewRate(
                    carrier: "UPS",
                    service: "express",
                    country: "DE",
                    origin: .id(f.warehouses[0]),
                    minGrams: 0,
                    maxGrams: 100_000,
                    priceMinor: 1_500,
                    currency: "EUR",
                    transitDays: 1
                )
            )
            let express = try await f.orders.place(f.newOrder("e") { $0.serviceLevel = "express" })
            #expect(express.plan?.shipments.map(\.warehouseID) == [f.warehouses[0]])
            let promise = try #require(try await f.database.read(AdminReads.order(express.orderID)).promises.first)
            #expect(promise.promise.carrier == "UPS" && promise.promise.service == "express")
            let calendar = WarehouseCalendar.standard
            #expect(promise.promise.deliverBy == calendar.deliverBy(shipDate: promise.promise.shipDate, transitDays: 1))
            #expect(try await f.orders.order(express.orderID).serviceLevel == "express")
            // Without one, the nearest warehouse and its cheapest rate.
            let standard = try await f.orders.place(f.newOrder("s"))
            #expect(standard.plan?.shipments.map(\.warehouseID) == [f.warehouses[2]])
            // A service no rate to the country has, or not a service name: refused, nothing stored.
            for level in ["teleport", "Express", ""] {
                await #expect(throws: OrderlyError.self, "\(level)") {
                    try await f.orders.place(f.newOrder("x") { $0.serviceLevel = level })
                }
            }
            #expect(try await f.count("SELECT count(*) FROM orders WHERE external_id = $1", ["x-\(f.tag)"]) == 0)
        }
    }
}

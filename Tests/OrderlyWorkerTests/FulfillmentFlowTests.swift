import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import OrderlyWorker
import Synchronization
import Testing

/// Keeps what it was asked to send.
final class RecordingNotifier: Notifier {
    let sent = Mutex<[OutboxEntry]>([])
    func send(_ message: OutboxEntry) throws { sent.withLock { $0.append(message) } }
}

/// Orders carried from capture to the customer's door by an in-process worker with the standard
/// handlers, in a database of this suite's own (jobs use the fixed queues).
@Suite(.migratedDatabase, .serialized)
struct FulfillmentFlowTests {
    struct Setup {
        let pool: PostgresPool
        let database: OrderlyDatabase
        let orders: OrderService
        let fulfillment: FulfillmentService
        let inventory: InventoryService
        let warehouses: [Int64]
        let skus: [Int64]
        let tag: String
        let notifier = RecordingNotifier()
        var payments: PaymentService {
            PaymentService(database: database, actor: "test", components: orders.components)
        }

        /// Two warehouses (Munich-ish first, Hamburg-ish), two SKUs in bins and zones, one carrier with
        /// two services to Germany.
        static func make(
            stock: [[Int64]] = [[10, 10], [10, 10]],
            gateway: any PaymentGateway = RecordingGateway(),
            gatewayTimeoutSeconds: Double = 600
        ) async throws -> Setup {
            let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 12))
            let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
            let (warehouses, skus) = try await pool.transaction { connection in
                let warehouses = try [48.14, 53.55].enumerated().map { index, latitude in
                    try CatalogBuilders.warehouse(connection, code: "F\(index)-\(tag)", latitude: latitude)
                }
                let skus = try (0..<2).map { try CatalogBuilders.sku(connection, code: "FS\($0)-\(tag)") }
                let carrier = try connection.query(
                    "INSERT INTO carriers (code, name, tracking_prefix) VALUES ($1, 'Test Post', 'RR') RETURNING id",
                    ["C-\(tag)"]
                ).scalar(Int64.self)
                for (service, price, days) in [("standard", Int64(490), Int64(3)), ("express", 1290, 1)] {
                    try connection.execute(
                        """
                        INSERT INTO shipping_rates (carrier_id, service, destination_country, min_weight_grams,
                                                    max_weight_grams, price_minor, currency, transit_days)
                        VALUES ($1, $2, 'DE', 0, 1000000, $3, 'EUR', $4)
                        """,
                        [carrier, service, price, days]
                    )
                }
                return (warehouses, skus)
            }
            let database = OrderlyDatabase(pool: pool)
            let inventory = InventoryService(database: database, actor: "test")
            for (w, row) in stock.enumerated() {
                for (s, units) in row.enumerated() where units > 0 {
                    try await inventory.receive(warehouse: warehouses[w], sku: skus[s], quantity: units)
                }
            }
            // Bins and zones: SKU 0 in zone A, SKU 1 in zone B.
            try await pool.query(
                """
                UPDATE inventory SET bin_location = CASE WHEN sku_id = $2 THEN 'A-01-1' ELSE 'B-07-2' END,
                    zone = CASE WHEN sku_id = $2 THEN 'A' ELSE 'B' END
                WHERE warehouse_id = ANY($1::int8[])
                """,
                [warehouses, skus[0]]
            )
            var components = OrderlyComponents.standard
            components.gateway = gateway
            components.gatewayTimeoutSeconds = gatewayTimeoutSeconds
            return Setup(
                pool: pool,
                database: database,
                orders: OrderService(database: database, actor: "test", components: components),
                fulfillment: FulfillmentService(database: database, actor: "test", components: components),
                inventory: inventory,
                warehouses: warehouses,
                skus: skus,
                tag: tag
            )
        }

        func order(_ id: String, lines: [(sku: Int, quantity: Int64)], token: String = "tok_authorized") -> NewOrder {
            NewOrder(
                channel: .web,
                externalID: "\(id)-\(tag)",
                currency: "EUR",
                lines: lines.map {
                    NewOrderLine(skuCode: "FS\($0.sku)-\(tag)", quantity: $0.quantity, unitPriceMinor: 1_000)
                },
                shipTo: PostalAddress(
                    name: "Ada Lovelace",
                    line1: "Leopoldstr. 1",
                    city: "München",
                    postalCode: "80802",
                    country: "DE",
                    location: GeoPoint(latitude: 48.2, longitude: 11.6)
                ),
                email: "ada@example.com",
                payment: PaymentDetails(method: "card", token: token)
            )
        }

        func worker() -> Worker {
            var logger = Logger(label: "test.fulfillment")
            logger.logLevel = .warning
            let handlers = StandardJobs.handlers(
                orders: orders,
                fulfillment: fulfillment,
                notifier: notifier,
                logger: logger
            )
            return Worker(
                database: database,
                listens: true,
                handlers: handlers.transactional,
                idempotentHandlers: handlers.idempotent,
                configuration: WorkerConfiguration(
                    id: "flow-\(tag)",
                    concurrency: 4,
                    leaseSeconds: 10,
                    pollInterval: .milliseconds(100),
                    backoffBase: 0.05,
                    backoffCap: 0.2
                ),
                onDiscard: StandardJobs.onDiscard(orders: orders),
                logger: logger
            )
        }

        func status(_ orderID: Int64) async throws -> String {
            try await pool.query("SELECT status FROM orders WHERE id = $1", [orderID]).scalar(String.self)
        }

        /// Waits for the order to reach `wanted` (the bound is a hang guard, not a verdict).
        func waitFor(_ orderID: Int64, _ wanted: String, seconds: Int = 600) async throws -> String {
            var current = ""
            for _ in 0..<(seconds * 20) {
                current = try await status(orderID)
                if current == wanted { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            return current
        }

        /// Failed jobs with their errors, for a failing test's message.
        func jobErrors() async throws -> [String] {
            try await pool.query("SELECT kind || ': ' || last_error FROM jobs WHERE last_error IS NOT NULL ORDER BY id")
                .map { try $0.decode(String.self, at: 0) }
        }

        func check() async throws -> [String] {
            try await InvariantChecker(database: database).run().violations.map(\.detail)
        }
    }

    @Test func aJobThatFailsForGoodHoldsItsOrderAndReleaseResumesIt() async throws {
        let setup = try await Setup.make()
        defer { Task { await setup.pool.close() } }
        // A SKU of 1,000 t a unit: three of them weigh more than 32 bits of grams (the pack job used to
        // fail for good on it), and no rate exists for such a parcel.
        let heavy = "TON-\(setup.tag)"
        let heavyID = try await setup.pool.withConnection { connection in
            try CatalogStore.createSKU(
                connection,
                NewSKU(code: heavy, name: "ton", weightGrams: 1_000_000_000, dimensionsMillimetres: (1, 1, 1))
            )
        }
        try await setup.inventory.receive(warehouse: setup.warehouses[0], sku: heavyID, quantity: 3)
        var tons = setup.order("tons", lines: [])
        tons.lines = [NewOrderLine(skuCode: heavy, quantity: 3, unitPriceMinor: 100)]
        let heavyOrder = try await setup.orders.place(tons)
        #expect(heavyOrder.unitsReserved == 3)
        // And an ordinary parcel to a country without a rate yet.
        var austria = setup.order("to-austria", lines: [(0, 1)])
        austria.shipTo.country = "AT"
        austria.shipTo.city = "Wien"
        austria.shipTo.postalCode = "1010"
        austria.shipTo.location = GeoPoint(latitude: 48.2, longitude: 16.37)
        let placed = try await setup.orders.place(austria)
        #expect(placed.status == .reserved)

        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let heavyStatus = try await setup.waitFor(heavyOrder.orderID, "on_hold")
        let austriaStatus = try await setup.waitFor(placed.orderID, "on_hold")
        let errors = try await setup.jobErrors()
        #expect(heavyStatus == "on_hold" && austriaStatus == "on_hold", "\(errors)")
        let held = try await setup.orders.order(placed.orderID)
        #expect(held.holdReason == .fulfillmentFailed)
        let weight = try await setup.pool.query(
            "SELECT weight_grams FROM shipments WHERE order_id = $1",
            [heavyOrder.orderID]
        ).scalar(Int64.self)
        #expect(weight == 3_000_000_000, "packed, in 64 bits")
        let holdEvent = try await setup.pool.query(
            "SELECT from_status, reason FROM order_events WHERE order_id = $1 AND event = 'hold_fulfillment'",
            [placed.orderID]
        )
        #expect(try holdEvent[0].decode(String.self, at: 0) == "packed")
        #expect(try holdEvent[0].decode(String.self, at: 1).contains("label job"))
        // The operator adds the missing rate and releases: the order resumes where it stopped.
        try await setup.pool.query(
            """
            INSERT INTO shipping_rates (carrier_id, service, destination_country, min_weight_grams, max_weight_grams,
                                        price_minor, currency, transit_days)
            SELECT id, 'standard', 'AT', 0, 1000000, 990, 'EUR', 4 FROM carriers WHERE code = $1
            """,
            ["C-\(setup.tag)"]
        )
        let resumed = try await setup.orders.release(placed.orderID, note: "rate to AT added")
        #expect(resumed.status == .packed)
        let shipped = try await setup.waitFor(placed.orderID, "shipped")
        let errorsAfter = try await setup.jobErrors()
        #expect(shipped == "shipped", "\(errorsAfter)")
        #expect(try await setup.status(heavyOrder.orderID) == "on_hold")
        #expect(try await setup.check() == [])
        try await expectJobsMatchTheirKinds(setup.pool)
        worker.shutdown()
        try await running.value
    }

    @Test func anOrderGoesFromCaptureToDelivered() async throws {
        let setup = try await Setup.make()
        defer { Task { await setup.pool.close() } }
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        defer { worker.shutdown() }

        let placed = try await setup.orders.place(setup.order("e2e", lines: [(0, 2), (1, 1)]))
        #expect(placed.status == .reserved)
        #expect(try await setup.waitFor(placed.orderID, "shipped") == "shipped")
        let shipment = try await setup.pool.query(
            """
            SELECT id, status, tracking_number, label_document, weight_grams, service, warehouse_id
            FROM shipments WHERE order_id = $1
            """,
            [placed.orderID]
        )
        try #require(shipment.count == 1)
        let shipmentID = try shipment[0].decode(Int64.self, at: 0)
        let tracking = try shipment[0].decode(String.self, at: 2)
        #expect(try shipment[0].decode(String.self, at: 1) == "shipped")
        #expect(TrackingNumber.isValid(tracking))
        #expect(tracking.hasPrefix("RR") && tracking.hasSuffix("DE"))
        #expect(try shipment[0].decode(String.self, at: 3).hasPrefix("^XA"))
        #expect(try shipment[0].decode(Int32.self, at: 4) == 750)  // 3 units of 250 g
        #expect(try shipment[0].decode(String.self, at: 5) == "standard")  // web ships cheapest
        // Munich is nearest: its stock went down, nothing stays reserved.
        let stock = try await setup.pool.query(
            "SELECT sku_id, on_hand, reserved FROM inventory WHERE warehouse_id = $1 ORDER BY sku_id",
            [setup.warehouses[0]]
        )
        #expect(try stock.map { try $0.decode(Int64.self, at: 1) } == [8, 9])
        #expect(try stock.map { try $0.decode(Int64.self, at: 2) } == [0, 0])

        try await setup.fulfillment.report(.delivered, shipmentID: shipmentID, note: "left with neighbour")
        #expect(try await setup.status(placed.orderID) == "delivered")
        // Delivering again changes nothing.
        try await setup.fulfillment.report(.delivered, shipmentID: shipmentID, note: nil)

        let events = try await setup.orders.events(placed.orderID).map(\.event)
        // The authorization at capture, and the parcel's share captured before it shipped.
        #expect(
            events == [
                "capture", "payment_authorized", "reserve", "start_picking", "pack", "payment_captured", "ship",
                "deliver",
            ]
        )
        // The customer's three messages, and the recording gateway's instruction to the payment system.
        let sentKinds = try await waitForMessages(setup, orderID: placed.orderID, count: 4)
        #expect(sentKinds == ["order_confirmed", "order_delivered", "order_shipped", "payment_instruction"])
        #expect(setup.notifier.sent.withLock { $0.contains { $0.body.contains(tracking) } })
        #expect(try await setup.check() == [])
        try await expectJobsMatchTheirKinds(setup.pool)
        worker.shutdown()
        try await running.value
    }

    func waitForMessages(_ setup: Setup, orderID: Int64, count: Int) async throws -> [String] {
        for _ in 0..<12_000 {
            let kinds = setup.notifier.sent.withLock { $0.filter { $0.orderID == orderID }.map(\.kind.rawValue) }
                .sorted()
            if kinds.count >= count { return kinds }
            try await Task.sleep(for: .milliseconds(50))
        }
        return setup.notifier.sent.withLock { $0.filter { $0.orderID == orderID }.map(\.kind.rawValue) }.sorted()
    }

    @Test func batchAndZonePickingPlanTheirLists() async throws {
        // Munich has exactly three of SKU 1, so a unit found missing there must come from Hamburg.
        let setup = try await Setup.make(stock: [[10, 3], [10, 10]])
        defer { Task { await setup.pool.close() } }
        // Munich gathers up to 3 shipments per walk; nothing is confirmed until its picker says so.
        try await setup.pool.query(
            """
            UPDATE warehouses SET pick_method = 'batch', batch_size = 3, batch_window_seconds = 3600,
                pick_confirmation = 'scanner' WHERE id = $1
            """,
            [setup.warehouses[0]]
        )
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        var placed: [Int64] = []
        for n in 0..<3 {
            placed.append(try await setup.orders.place(setup.order("batch\(n)", lines: [(0, 1), (1, 1)])).orderID)
        }
        let list = try await waitForValue {
            try await setup.pool.query(
                "SELECT id FROM pick_lists WHERE warehouse_id = $1 AND status = 'in_progress'",
                [setup.warehouses[0]]
            ).first?.decode(Int64.self, at: 0)
        }
        let errors = try await setup.jobErrors()
        let listID = try #require(list, "\(errors)")
        // One walk: both bins once, three shipments' units at each, in walk order.
        let lines = try await setup.pool.query(
            "SELECT bin_location, walk_sequence FROM pick_list_lines WHERE pick_list_id = $1 ORDER BY walk_sequence",
            [listID]
        )
        #expect(
            try lines.map { try $0.decode(String.self, at: 0) } == [
                "A-01-1", "A-01-1", "A-01-1", "B-07-2", "B-07-2", "B-07-2",
            ]
        )
        #expect(try lines.map { Int(try $0.decode(Int32.self, at: 1)) } == [1, 2, 3, 4, 5, 6])
        // Unknown SKUs and impossible counts are refused and change nothing.
        await #expect(throws: OrderlyError.self) {
            _ = try await setup.fulfillment.confirmPickList(listID, picked: ["NOPE": 1])
        }
        await #expect(throws: OrderlyError.self) {
            _ = try await setup.fulfillment.confirmPickList(listID, picked: ["FS0-\(setup.tag)": 4])
        }
        // The picker found all of SKU 0 and 2 of the 3 SKU 1: the last shipment on the walk is short.
        let ready = try await setup.fulfillment.confirmPickList(listID, picked: ["FS1-\(setup.tag)": 2])
        #expect(ready.count == 3)
        await #expect(throws: OrderlyError.self) {
            _ = try await setup.fulfillment.confirmPickList(listID, picked: [:])
        }
        for id in placed { #expect(try await setup.waitFor(id, "shipped") == "shipped") }
        // The short unit was written off in Munich (ledger 'lost') and routed to Hamburg.
        let lost = try await setup.pool.query(
            "SELECT count(*) FROM inventory_ledger WHERE reason = 'lost' AND note = 'short pick' AND warehouse_id = $1",
            [setup.warehouses[0]]
        ).scalar(Int64.self)
        #expect(lost == 1)
        let hamburg = try await setup.pool.query(
            "SELECT count(*) FROM shipments WHERE order_id = ANY($1::int8[]) AND warehouse_id = $2 AND status = 'shipped'",
            [placed, setup.warehouses[1]]
        ).scalar(Int64.self)
        #expect(hamburg == 1)

        // Zone picking in Hamburg: one list per zone, the shipment consolidated after both.
        try await setup.pool.query(
            "UPDATE warehouses SET pick_method = 'zone', active = true WHERE id = $1",
            [setup.warehouses[1]]
        )
        try await setup.pool.query("UPDATE warehouses SET active = false WHERE id = $1", [setup.warehouses[0]])
        let zoned = try await setup.orders.place(setup.order("zone", lines: [(0, 1), (1, 1)]))
        #expect(try await setup.waitFor(zoned.orderID, "shipped") == "shipped")
        let zones = try await setup.pool.query(
            """
            SELECT DISTINCT p.zone, p.method FROM pick_lists p
            JOIN pick_list_lines pl ON pl.pick_list_id = p.id
            JOIN shipment_lines sl ON sl.id = pl.shipment_line_id
            JOIN shipments sh ON sh.id = sl.shipment_id WHERE sh.order_id = $1 ORDER BY 1
            """,
            [zoned.orderID]
        )
        #expect(try zones.map { try $0.decode(String.self, at: 0) } == ["A", "B"])
        #expect(try await setup.check() == [])
        try await expectJobsMatchTheirKinds(setup.pool)
        worker.shutdown()
        try await running.value
    }

    @Test func arrivingStockFillsABackorderWhichThenShips() async throws {
        let setup = try await Setup.make(stock: [[1, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let placed = try await setup.orders.place(setup.order("late", lines: [(1, 2)]))
        #expect(placed.status == .backordered)
        try await setup.inventory.receive(warehouse: setup.warehouses[1], sku: setup.skus[1], quantity: 5)
        #expect(try await setup.waitFor(placed.orderID, "shipped") == "shipped")
        // Its customer messages (backordered, then the reservation's and the shipment's) and the capture's
        // instruction to the payment system.
        let kinds = try await waitForMessages(setup, orderID: placed.orderID, count: 4)
        #expect(kinds.contains("order_backordered") && kinds.contains("order_shipped"))
        #expect(try await setup.check() == [])
        try await expectJobsMatchTheirKinds(setup.pool)
        worker.shutdown()
        try await running.value
    }

    @Test func aCarrierExceptionNotifiesAndACancelledOrderIsNotPicked() async throws {
        let setup = try await Setup.make()
        defer { Task { await setup.pool.close() } }
        // Nothing runs yet: the order is cancelled before its pick job is claimed.
        let cancelled = try await setup.orders.place(setup.order("gone", lines: [(0, 1)]))
        try await setup.orders.cancel(cancelled.orderID, reason: "customer changed mind")
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let placed = try await setup.orders.place(setup.order("late-parcel", lines: [(0, 1)]))
        #expect(try await setup.waitFor(placed.orderID, "shipped") == "shipped")
        let shipmentID = try await setup.pool.query("SELECT id FROM shipments WHERE order_id = $1", [placed.orderID])
            .scalar(Int64.self)
        // Unknown shipments are NOT_FOUND.
        await #expect(throws: OrderlyError.self) {
            try await setup.fulfillment.report(.delivered, shipmentID: -1, note: nil)
        }
        try await setup.fulfillment.report(.delayed, shipmentID: shipmentID, note: "storm")
        #expect(try await setup.status(placed.orderID) == "exception")
        try await setup.fulfillment.report(.delayed, shipmentID: shipmentID, note: nil)  // again: changes nothing
        try await setup.fulfillment.report(.delivered, shipmentID: shipmentID, note: nil)
        #expect(try await setup.status(placed.orderID) == "delivered")
        // Confirmed, shipped, delayed, delivered, and the capture's instruction.
        let kinds = try await waitForMessages(setup, orderID: placed.orderID, count: 5)
        #expect(kinds.contains("order_delayed"))
        #expect(
            try await setup.pool.query("SELECT count(*) FROM shipments WHERE order_id = $1", [cancelled.orderID])
                .scalar(Int64.self) == 0
        )
        #expect(try await setup.check() == [])
        try await expectJobsMatchTheirKinds(setup.pool)
        worker.shutdown()
        try await running.value
    }

}

/// The first value `read` gives (polled until there is one; the bound, ten minutes, is a hang guard,
/// not a verdict).
func waitForValue<T: Sendable>(_ read: () async throws -> T?) async throws -> T? {
    for _ in 0..<12_000 {
        if let value = try await read() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    return nil
}

/// Every job in the database is what its kind's definition says: a known kind, args that decode as the
/// kind's arguments, and the kind's queue, priority, attempts and unique key (sweeps: on `maintenance`,
/// unique as `sweep:<kind>`). Jobs written by SQL (the reservation's picks, packing's labels, the
/// notification trigger) are checked against the Swift definitions this way.
func expectJobsMatchTheirKinds(_ pool: PostgresPool) async throws {
    let rows = try await pool.query(
        "SELECT id, queue, kind, args::text, priority::int8, max_attempts::int8, unique_key FROM jobs ORDER BY id"
    )
    #expect(!rows.isEmpty)
    for row in rows {
        let id = try row.decode(Int64.self, at: 0)
        let kind = try row.decode(String.self, at: 2)
        guard let definition = Jobs.all.first(where: { $0.name == kind }) else {
            Issue.record("job \(id): kind \(kind) has no definition")
            continue
        }
        let stored = StoredJob(
            queue: try row.decode(String.self, at: 1),
            args: try row.decode(String.self, at: 3),
            priority: Int(try row.decode(Int64.self, at: 4)),
            maxAttempts: Int(try row.decode(Int64.self, at: 5)),
            uniqueKey: try row.decode(String?.self, at: 6)
        )
        if let mismatch = stored.mismatch(definition) { Issue.record("job \(id) (\(kind)): \(mismatch)") }
    }
}

struct StoredJob {
    var queue: String
    var args: String
    var priority: Int
    var maxAttempts: Int
    var uniqueKey: String?

    func mismatch<Kind: JobKind>(_ kind: Kind.Type) -> String? {
        let arguments: Kind.Arguments
        do { arguments = try Kind.decode(args) } catch { return "\(error)" }
        if uniqueKey == "sweep:\(Kind.name)" {
            return queue == "maintenance" && priority == 200 && maxAttempts == 3 ? nil : "not scheduled as a sweep"
        }
        let expected = (Kind.queue, Kind.priority, Kind.uniqueKey(arguments))
        let actual = (queue, priority, uniqueKey)
        if expected != actual { return "stored \(actual), its kind says \(expected)" }
        // A discarded job made available again (release, JOB RETRY) gets attempts beyond its kind's.
        return maxAttempts >= Kind.maxAttempts ? nil : "\(maxAttempts) attempts, its kind says \(Kind.maxAttempts)"
    }
}

import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

@Suite
struct InvariantCheckerTests {
    /// A fresh migrated database with one warehouse, one SKU holding 10 units, and one order captured
    /// and reserved with the events the state machine allows.
    func seeded(_ label: String) async throws -> (TestDatabase, OrderlyDatabase, (w: Int64, s: Int64, order: Int64)) {
        let database = try await TestDatabase.create(label: label, migrated: true)
        let pool = database.makePool()
        let orderly = OrderlyDatabase(pool: pool)
        let ids = try await pool.transaction { connection in
            let w = try CatalogBuilders.warehouse(connection, code: "W1")
            let s = try CatalogBuilders.sku(connection, code: "S1")
            let order = try connection.query(
                """
                INSERT INTO orders (channel, external_id, currency, ship_name, ship_line1, ship_city, ship_country)
                VALUES ('web', 'o-1', 'EUR', 'Ada', 'Street 1', 'Berlin', 'DE') RETURNING id
                """
            ).scalar(Int64.self)
            try connection.execute(
                "INSERT INTO order_events (order_id, event, from_status, to_status, actor) VALUES ($1, 'capture', NULL, 'received', 'test')",
                [order]
            )
            return (w, s, order)
        }
        try await InventoryService(database: orderly, actor: "test").receive(warehouse: ids.0, sku: ids.1, quantity: 10)
        return (database, orderly, (ids.0, ids.1, ids.2))
    }

    @Test func aConsistentDatabaseIsClean() async throws {
        let (database, orderly, _) = try await seeded("check_clean")
        defer { try? database.drop() }
        let report = try await InvariantChecker(database: orderly).run()
        #expect(report.isClean, "\(report.violations)")
        #expect(report.ordersChecked == 1)
        await orderly.pool.close()
    }

    @Test func eachBrokenInvariantIsReported() async throws {
        let (database, orderly, ids) = try await seeded("check_broken")
        defer { try? database.drop() }
        try await orderly.pool.withConnection { connection in
            // 2: stock changed behind the ledger's back.
            try connection.execute("UPDATE inventory SET on_hand = on_hand + 1 WHERE warehouse_id = $1", [ids.w])
            // 3: reserved (with its ledger row) but no reservation row.
            try connection.execute("UPDATE inventory SET reserved = 2 WHERE warehouse_id = $1", [ids.w])
            try connection.execute(
                "INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, actor) VALUES ($1, $2, 2, 'reserve', 'x')",
                [ids.w, ids.s]
            )
            // 4: a move the machine does not allow, and a status its events do not lead to.
            try connection.execute(
                "INSERT INTO order_events (order_id, event, from_status, to_status, actor) VALUES ($1, 'ship', 'received', 'shipped', 'x')",
                [ids.order]
            )
            let orphan = try connection.query(
                """
                INSERT INTO orders (channel, external_id, currency, ship_name, ship_line1, ship_city, ship_country, status)
                VALUES ('pos', 'o-2', 'EUR', 'Bo', 'Street 2', 'Berlin', 'DE', 'reserved') RETURNING id
                """
            ).scalar(Int64.self)
            _ = orphan
            // 1: only possible with the CHECK gone, which is exactly when this check matters.
            try connection.execute("ALTER TABLE inventory DROP CONSTRAINT inventory_reserved_within_on_hand")
            try connection.execute("UPDATE inventory SET reserved = -1 WHERE warehouse_id = $1", [ids.w])
        }
        let report = try await InvariantChecker(database: orderly).run()
        let broken = Set(report.violations.map(\.invariant))
        #expect(broken == [1, 2, 3, 4], "\(report.violations)")
        let fourth = report.violations.filter { $0.invariant == 4 }.map(\.detail)
        #expect(fourth.contains { $0.contains("order \(ids.order): events do not replay") })
        #expect(fourth.contains { $0.hasSuffix("has no events") })
        await orderly.pool.close()
    }

    @Test func historyRules() {
        typealias History = InvariantQueries.OrderHistory
        let good = History(
            orderID: 1,
            status: "reserved",
            events: [("capture", nil, "received"), ("reserve", "received", "reserved")]
        )
        #expect(InvariantChecker.historyProblem(good) == nil)
        var drifted = good
        drifted.status = "picking"
        #expect(InvariantChecker.historyProblem(drifted)?.contains("lead to reserved") == true)
        let noCapture = History(orderID: 2, status: "reserved", events: [("reserve", "received", "reserved")])
        #expect(InvariantChecker.historyProblem(noCapture)?.contains("not capture") == true)
        let unknown = History(
            orderID: 3,
            status: "received",
            events: [("capture", nil, "received"), ("teleport", "received", "delivered")]
        )
        #expect(InvariantChecker.historyProblem(unknown)?.contains("not a known move") == true)
    }
}

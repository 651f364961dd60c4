import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

@Suite(.migratedDatabase)
struct InventoryServiceTests {
    /// A service over the suite's database, plus two warehouses and a SKU of this test's own.
    struct Fixture {
        let service: InventoryService
        let pool: PostgresPool
        let warehouses: [Int64]
        let sku: Int64
    }

    func fixture(warehouses count: Int = 2) async throws -> Fixture {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 8))
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
        let (warehouses, sku) = try await pool.transaction { connection in
            let warehouses = try (0..<count).map { index in
                try CatalogBuilders.warehouse(connection, code: "W\(index)-\(tag)", latitude: 50 + Double(index))
            }
            let sku = try CatalogBuilders.sku(connection, code: "SKU-\(tag)")
            return (warehouses, sku)
        }
        let service = InventoryService(database: OrderlyDatabase(pool: pool), actor: "test")
        return Fixture(service: service, pool: pool, warehouses: warehouses, sku: sku)
    }

    func ledger(_ fixture: Fixture, warehouse: Int64) async throws -> [(reason: String, delta: Int64)] {
        try await fixture.pool.query(
            "SELECT reason, on_hand_delta FROM inventory_ledger WHERE warehouse_id = $1 AND sku_id = $2 ORDER BY id",
            [warehouse, fixture.sku]
        ).map { (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1)) }
    }

    @Test func receiveAdjustAndCountWriteLedgerRows() async throws {
        let f = try await fixture()
        let w = f.warehouses[0]
        #expect(try await f.service.receive(warehouse: w, sku: f.sku, quantity: 10).onHand == 10)
        #expect(try await f.service.adjust(warehouse: w, sku: f.sku, delta: -2, reason: .damaged).onHand == 8)
        let counted = try await f.service.count(warehouse: w, sku: f.sku, counted: 7, reason: .lost)
        #expect(counted.onHand == 7)
        // A count that matches books nothing.
        _ = try await f.service.count(warehouse: w, sku: f.sku, counted: 7)
        let entries = try await ledger(f, warehouse: w)
        #expect(entries.map(\.reason) == ["receive", "damaged", "lost"])
        #expect(entries.map(\.delta) == [10, -2, -1])
        let counts = try await f.pool.query("SELECT count(*) FROM cycle_counts WHERE sku_id = $1", [f.sku])
        #expect(try counts.scalar(Int.self) == 2)
        let availability = try await f.service.availability(sku: f.sku)
        #expect(availability.total == 7)
        await f.pool.close()
    }

    @Test func reservedUnitsCannotBeAdjustedCountedOrTransferredAway() async throws {
        let f = try await fixture()
        let (w0, w1) = (f.warehouses[0], f.warehouses[1])
        try await f.service.receive(warehouse: w0, sku: f.sku, quantity: 5)
        // Until the reservation service lands, reserve through SQL with its matching ledger row.
        try await f.pool.transaction { connection in
            try connection.execute(
                "UPDATE inventory SET reserved = 4 WHERE warehouse_id = $1 AND sku_id = $2",
                [w0, f.sku]
            )
            try connection.execute(
                "INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, actor) VALUES ($1, $2, 4, 'reserve', 'test')",
                [w0, f.sku]
            )
        }
        let before = try await ledger(f, warehouse: w0).count
        let adjust = await #expect(throws: OrderlyError.self) {
            try await f.service.adjust(warehouse: w0, sku: f.sku, delta: -2, reason: .lost)
        }
        #expect(adjust?.code == .insufficientStock)
        let count = await #expect(throws: OrderlyError.self) {
            try await f.service.count(warehouse: w0, sku: f.sku, counted: 3, reason: .lost)
        }
        #expect(count?.code == .conflict)
        let transfer = await #expect(throws: OrderlyError.self) {
            try await f.service.transfer(sku: f.sku, from: w0, to: w1, quantity: 2)
        }
        #expect(transfer?.code == .insufficientStock)
        // Nothing changed: same ledger, same stock on both sides.
        #expect(try await ledger(f, warehouse: w0).count == before)
        #expect(try await ledger(f, warehouse: w1).isEmpty)
        #expect(try await f.service.availability(sku: f.sku).total == 1)
        await f.pool.close()
    }

    @Test func transferMovesUnitsWithTwoLinkedLedgerRows() async throws {
        let f = try await fixture()
        let (w0, w1) = (f.warehouses[0], f.warehouses[1])
        try await f.service.receive(warehouse: w1, sku: f.sku, quantity: 6)
        // From the higher id to the lower: the rows are still locked in warehouse order.
        let moved = try await f.service.transfer(sku: f.sku, from: w1, to: w0, quantity: 4)
        #expect(moved.from.onHand == 2)
        #expect(moved.to.onHand == 4)
        let linked = try await f.pool.query(
            "SELECT count(DISTINCT transfer_id), count(*) FROM inventory_ledger WHERE sku_id = $1 AND transfer_id IS NOT NULL",
            [f.sku]
        )[0]
        #expect(try linked.decode(Int.self, at: 0) == 1)
        #expect(try linked.decode(Int.self, at: 1) == 2)
        await f.pool.close()
    }

    @Test func fallingToTheReorderPointEnqueuesOneLowStockJob() async throws {
        let f = try await fixture()
        let w = f.warehouses[0]
        try await f.service.receive(warehouse: w, sku: f.sku, quantity: 10)
        try await f.service.setThresholds(warehouse: w, sku: f.sku, reorderPoint: 5, safetyStock: 1)
        try await f.service.adjust(warehouse: w, sku: f.sku, delta: -4, reason: .adjust)  // 6: above
        try await f.service.adjust(warehouse: w, sku: f.sku, delta: -1, reason: .adjust)  // 5: at the point
        try await f.service.adjust(warehouse: w, sku: f.sku, delta: -1, reason: .adjust)  // 4: still under
        let jobs = try await f.pool.query(
            "SELECT count(*) FROM jobs WHERE kind = 'low_stock' AND unique_key = $1",
            ["low_stock:\(w):\(f.sku)"]
        )
        #expect(try jobs.scalar(Int.self) == 1)
        // Safety stock is kept back from what can be promised.
        #expect(try await f.service.availability(sku: f.sku).total == 3)
        await f.pool.close()
    }

    @Test func badInputIsRefusedWithASpecificError() async throws {
        let f = try await fixture()
        let w = f.warehouses[0]
        let cases: [(String, OrderlyError.Code, @Sendable () async throws -> Void)] = [
            ("zero", .badArgument, { try await f.service.receive(warehouse: w, sku: f.sku, quantity: 0) }),
            ("negative", .badArgument, { try await f.service.receive(warehouse: w, sku: f.sku, quantity: -1) }),
            ("absurd", .badArgument, { try await f.service.receive(warehouse: w, sku: f.sku, quantity: Int64.max) }),
            (
                "min delta", .badArgument,
                { try await f.service.adjust(warehouse: w, sku: f.sku, delta: .min, reason: .lost) }
            ),
            (
                "wrong reason", .badArgument,
                { try await f.service.adjust(warehouse: w, sku: f.sku, delta: 1, reason: .receive) }
            ),
            ("no warehouse", .notFound, { try await f.service.receive(warehouse: -7, sku: f.sku, quantity: 1) }),
            ("no sku", .notFound, { try await f.service.receive(warehouse: w, sku: -7, quantity: 1) }),
            ("same place", .badArgument, { _ = try await f.service.transfer(sku: f.sku, from: w, to: w, quantity: 1) }),
            ("negative count", .badArgument, { try await f.service.count(warehouse: w, sku: f.sku, counted: -1) }),
        ]
        for (label, code, attempt) in cases {
            let error = await #expect(throws: OrderlyError.self, "\(label)") { try await attempt() }
            #expect(error?.code == code, "\(label): \(String(describing: error))")
        }
        #expect(try await ledger(f, warehouse: w).isEmpty)
        await f.pool.close()
    }

    @Test func concurrentMovesKeepEveryRowEqualToItsLedger() async throws {
        let f = try await fixture(warehouses: 3)
        for w in f.warehouses { try await f.service.receive(warehouse: w, sku: f.sku, quantity: 50) }
        // 48 concurrent transfers and adjustments in both directions; some fail for lack of stock.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<48 {
                group.addTask {
                    let from = f.warehouses[index % 3]
                    let to = f.warehouses[(index + 1 + index / 3 % 2) % 3]
                    do {
                        if index.isMultiple(of: 4) {
                            try await f.service.adjust(warehouse: from, sku: f.sku, delta: -3, reason: .lost)
                        } else {
                            _ = try await f.service.transfer(sku: f.sku, from: from, to: to, quantity: 7)
                        }
                    } catch let error as OrderlyError where error.code == .insufficientStock {
                        // Refused cleanly; nothing written.
                    }
                }
            }
            try await group.waitForAll()
        }
        let mismatches = try await f.pool.query(
            """
            SELECT count(*) FROM inventory i
            LEFT JOIN (SELECT warehouse_id, sku_id, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                       FROM inventory_ledger GROUP BY 1, 2) l USING (warehouse_id, sku_id)
            WHERE i.sku_id = $1 AND (i.on_hand <> coalesce(l.on_hand, 0) OR i.reserved <> coalesce(l.reserved, 0))
            """,
            [f.sku]
        )
        #expect(try mismatches.scalar(Int.self) == 0)
        let total = try await f.pool.query("SELECT sum(on_hand)::int8 FROM inventory WHERE sku_id = $1", [f.sku])
        let lost = try await f.pool.query(
            "SELECT coalesce(sum(on_hand_delta), 0)::int8 FROM inventory_ledger WHERE sku_id = $1 AND reason = 'lost'",
            [f.sku]
        )
        // Transfers conserve units; only the adjustments removed any.
        #expect(try total.scalar(Int64.self) == 150 + lost.scalar(Int64.self))
        await f.pool.close()
    }
}

import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Stock on its way (STOCK EXPECT): dated backorders, in queue order; receipts filling expectations;
/// a rejecting channel that promises inbound stock taking what is expected as a backorder.
@Suite(.migratedDatabase)
struct ExpectedStockTests {
    @Test func expectedStockDatesBackordersInQueueOrderAndReceiptsFillIt() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 4))
        defer { Task { await pool.close() } }
        // SKU 0: one unit in Hamburg; SKU 1: none anywhere.
        let f = try await OrderFixture.make(pool, stock: [[1, 0], [0, 0], [0, 0]])
        let days = try await pool.query(
            "SELECT (current_date + 10)::text, (current_date + 20)::text, (current_date - 1)::text"
        )
        let (soon, later, yesterday) = (
            try LocalDate(days[0].decode(String.self, at: 0))!, try LocalDate(days[0].decode(String.self, at: 1))!,
            try LocalDate(days[0].decode(String.self, at: 2))!
        )
        let po1 = try await f.inventory.expect(
            warehouse: f.warehouses[0],
            sku: f.skus[0],
            quantity: 2,
            date: soon,
            reference: "PO-1"
        )
        #expect(po1.expected == 2 && po1.received == 0 && po1.date == soon)
        _ = try await f.inventory.expect(
            warehouse: f.warehouses[1],
            sku: f.skus[0],
            quantity: 5,
            date: later,
            reference: "PO-2"
        )
        // Refused, nothing changed: a past date, closing what was never expected, a negative count.
        await #expect(throws: OrderlyError.self) {
            try await f.inventory.expect(warehouse: f.warehouses[0], sku: f.skus[0], quantity: 1, date: yesterday)
        }
        await #expect {
            try await f.inventory.expect(
                warehouse: f.warehouses[0],
                sku: f.skus[0],
                quantity: 0,
                date: soon,
                reference: "PO-9"
            )
        } throws: { ($0 as? OrderlyError)?.code == .notFound }
        await #expect(throws: OrderlyError.self) {
            try await f.inventory.expect(warehouse: f.warehouses[0], sku: f.skus[0], quantity: -1, date: soon)
        }
        #expect(try await f.count("SELECT count(*) FROM stock_expectations WHERE sku_id = $1", [f.skus[0]]) == 2)

        // A takes the unit at hand and waits for one: PO-1 brings it. B waits for two behind A's: the
        // third expected unit is PO-2's.
        let a = try await f.orders.place(f.newOrder("a", lines: [(0, 2)]))
        #expect(a.status == .partiallyReserved)
        let b = try await f.orders.place(f.newOrder("b", lines: [(0, 2)]))
        #expect(b.status == .backordered)
        for (order, date) in [(a.orderID, soon), (b.orderID, later)] {
            let facts = try #require(
                try await f.pool.withConnection { try $0.run(OrderStore(actor: "t").waitFacts(orderID: order)) }
            )
            #expect(facts.backordered.map(\.expected) == [date], "order \(order)")
            let body = try await f.pool.query(
                "SELECT body FROM notifications WHERE order_id = $1 AND kind = 'order_backordered'",
                [order]
            ).scalar(String.self)
            #expect(body.contains("we expect them by \(date)"), "\(body)")
        }

        // A marketplace channel rejects a short order, unless it promises what is expected.
        let promising = try await f.channel("promising", kind: .marketplace) { $0.promiseInbound = true }
        let strict = try await f.channel("strict", kind: .marketplace)
        let promised = try await f.orders.place(f.newOrder("c", channel: promising, lines: [(0, 3)]))
        #expect(promised.status == .backordered)
        let rejected = try await f.orders.place(f.newOrder("d", channel: strict, lines: [(0, 1)]))
        #expect(rejected.status == .cancelled)
        // Nothing expected of SKU 1: rejected even where inbound stock is promised.
        let nothing = try await f.orders.place(f.newOrder("e", channel: promising, lines: [(1, 1)]))
        #expect(nothing.status == .cancelled)
        // 7 expected, 5 waited for already (A 1, B 2, C 3 = 6): one more of 2 would need 8.
        let beyond = try await f.orders.place(f.newOrder("f", channel: promising, lines: [(0, 2)]))
        #expect(beyond.status == .cancelled)

        // A receipt of 3 at Hamburg fills PO-1 (2) and is not PO-2's (another warehouse).
        try await f.inventory.receive(warehouse: f.warehouses[0], sku: f.skus[0], quantity: 3)
        let open = try await pool.query(
            "SELECT reference, quantity - received FROM stock_expectations WHERE sku_id = $1 ORDER BY reference",
            [f.skus[0]]
        ).map { "\(try $0.decode(String.self, at: 0)):\(try $0.decode(Int32.self, at: 1))" }
        #expect(open == ["PO-1:0", "PO-2:5"])
        // Closing PO-2 (qty 0) leaves nothing expected.
        let closed = try await f.inventory.expect(
            warehouse: f.warehouses[1],
            sku: f.skus[0],
            quantity: 0,
            date: later,
            reference: "PO-2"
        )
        #expect(closed.expected == 0)
        #expect(try await f.count("SELECT count(*) FROM inbound_stock WHERE sku_id = $1", [f.skus[0]]) == 0)
    }
}

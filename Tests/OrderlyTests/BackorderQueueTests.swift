import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Backorders first come first served: stock that arrives goes to the orders waiting for it, in
/// their order, before any newer order can reserve it, with new orders racing the receipts.
@Suite(.serialized)
struct BackorderQueueTests {
    /// Reserved units of `sku` on each order's line, by order.
    func reserved(_ f: OrderFixture, _ orders: [Int64], sku: Int) async throws -> [Int64: Int64] {
        let rows = try await f.pool.query(
            "SELECT order_id, quantity_reserved::int8 FROM order_lines WHERE order_id = ANY($1::int8[]) AND sku_id = $2",
            [orders, f.skus[sku]]
        )
        var units: [Int64: Int64] = [:]
        for row in rows { units[try row.decode(Int64.self, at: 0)] = try row.decode(Int64.self, at: 1) }
        return units
    }

    @Test func stockThatArrivesGoesToWaitingBackordersBeforeAnyNewerOrder() async throws {
        let database = try await TestDatabase.create(label: "backorder_queue", migrated: true)
        defer { try? database.drop() }
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 12))
        defer { Task { await pool.close() } }
        // SKU 0 in no warehouse at all.
        let f = try await OrderFixture.make(pool, stock: [[0, 10], [0, 10], [0, 10]])

        // Thirty orders wait, one or two units each: 45 units.
        var waiting: [(id: Int64, units: Int64)] = []
        for index in 0..<30 {
            let units = Int64(index % 2 + 1)
            let placed = try await f.orders.place(f.newOrder("old\(index)", lines: [(0, units)]))
            #expect(placed.status == .backordered)
            waiting.append((placed.orderID, units))
        }
        let queue = waiting.reduce(Int64(0)) { $0 + $1.units }
        let queued = waiting

        // 40 units arrive in twenty receipts of two, spread over the warehouses, while 32 tasks place
        // new orders of the SKU and one fills backorders in queue order (as the worker's job does).
        let newOrders = try await withThrowingTaskGroup(of: [Int64].self) { group in
            group.addTask {
                for receipt in 0..<20 {
                    _ = try await f.inventory.receive(warehouse: f.warehouses[receipt % 3], sku: f.skus[0], quantity: 2)
                    await Task.yield()
                }
                return []
            }
            group.addTask {
                for _ in 0..<6 {
                    for order in queued {
                        _ = try? await f.orders.reserve(orderID: order.id)
                    }
                }
                return []
            }
            for task in 0..<32 {
                group.addTask {
                    var placed: [Int64] = []
                    for index in 0..<5 {
                        placed.append(
                            try await f.orders.place(f.newOrder("new\(task)-\(index)", lines: [(0, 1)])).orderID
                        )
                    }
                    return placed
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        // Every order waiting has had its chance at what arrived.
        for order in waiting { _ = try? await f.orders.reserve(orderID: order.id) }

        // Fewer units arrived than the queue waits for: no newer order got any.
        #expect(newOrders.count == 160)
        let taken = try await reserved(f, newOrders, sku: 0)
        #expect(taken.values.reduce(0, +) == 0, "newer orders took \(taken.values.reduce(0, +)) units")
        // All 40 went to the queue, in its order: whole orders first, then at most one in part.
        let filled = try await reserved(f, waiting.map(\.id), sku: 0)
        #expect(filled.values.reduce(0, +) == 40 && queue > 40)
        var seenShort = false
        for order in waiting {
            let units = filled[order.id] ?? 0
            if seenShort {
                #expect(units == 0, "order \(order.id) was served before an older one")
            } else if units < order.units {
                seenShort = true
            }
        }
        #expect(try await InvariantChecker(database: f.database).run().violations.map(\.detail) == [])

        // Enough for the queue and more: every older order is whole, and only then newer ones get the rest.
        _ = try await f.inventory.receive(warehouse: f.warehouses[0], sku: f.skus[0], quantity: 20)
        for order in waiting { _ = try? await f.orders.reserve(orderID: order.id) }
        let whole = try await reserved(f, waiting.map(\.id), sku: 0)
        #expect(waiting.allSatisfy { whole[$0.id] == $0.units })
        let late = try await f.orders.place(f.newOrder("late", lines: [(0, 1)]))
        // 60 arrived, 45 went to the first queue; the 160 newer orders wait ahead of this one.
        #expect(late.status == .backordered)
        #expect(try await InvariantChecker(database: f.database).run().violations.map(\.detail) == [])
    }
}

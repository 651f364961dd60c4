import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Synchronization
import Testing

/// Many tasks placing, cancelling and editing orders on a few hot SKUs at once, against real PostgreSQL.
@Suite
struct ReservationRaceTests {
    /// A small deterministic generator, so a failing run can be replayed from its printed seed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// State the tasks share.
    final class Shared<Value: Sendable>: Sendable {
        let mutex: Mutex<Value>
        init(_ value: Value) { mutex = Mutex(value) }
        func withLock<T: Sendable>(_ body: (inout sending Value) throws -> sending T) rethrows -> T {
            try mutex.withLock(body)
        }
    }

    struct Placed: Sendable {
        var outcome: OrderOutcome
        var cancelled: Bool
    }

    @Test func thirtyTwoTasksOnHotSKUsNeverOversellAndCheckClean() async throws {
        let database = try await TestDatabase.create(label: "reservation_race", migrated: true)
        defer { try? database.drop() }
        let pool = database.makePool(PostgresPoolOptions(maxConnections: 12))
        defer { Task { await pool.close() } }
        // Three hot SKUs, 9-16 units each across three warehouses; demand is about ten times that.
        let f = try await OrderFixture.make(pool, stock: [[7, 5, 3], [6, 4, 2], [0, 3, 4]])
        let seed = UInt64.random(in: 0...UInt64.max)
        print("reservation race seed: \(seed)")
        let channels: [SalesChannel] = [.web, .marketplace, .b2b, .phone]
        let destinations = [
            GeoPoint(latitude: 53.5, longitude: 10), GeoPoint(latitude: 48.1, longitude: 11.5),
            GeoPoint(latitude: 50.9, longitude: 6.9),
        ]

        // Every task also cancels orders, its own and other tasks' (whole or one unit of a line), while
        // they are placed and cancelled elsewhere: what each successful cut took is recorded.
        let known = Shared<[(id: Int64, skus: [String])]>([])
        let cut = Shared<(units: [Int64: Int64], whole: Set<Int64>, refused: Int, edits: Int)>(([:], [], 0, 0))
        let skuCodes = f.skuCodes
        let placed = try await withThrowingTaskGroup(of: [Placed].self) { group in
            for task in 0..<32 {
                group.addTask {
                    var random = SplitMix64(state: seed &+ UInt64(task))
                    var results: [Placed] = []
                    for index in 0..<10 {
                        let skus = Array((0..<3).shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)))
                        let order = f.newOrder(
                            "t\(task)-\(index)",
                            channel: channels.randomElement(using: &random)!,
                            lines: skus.map { ($0, Int64.random(in: 1...3, using: &random)) },
                            location: destinations.randomElement(using: &random)!
                        )
                        let outcome = try await f.orders.place(order)
                        results.append(Placed(outcome: outcome, cancelled: outcome.status == .cancelled))
                        if outcome.status != .cancelled {
                            known.withLock { $0.append((outcome.orderID, skus.map { skuCodes[$0] })) }
                        }
                        let pick = Int.random(in: 0..<100, using: &random)
                        guard pick < 65 else { continue }
                        let which = Int.random(in: 0..<1_000_000, using: &random)
                        let target = known.withLock { $0.isEmpty ? nil : $0[which % $0.count] }
                        guard let target else { continue }
                        do {
                            if pick >= 50 {
                                // An edit: one line to 1-3 units (routed again for what it adds).
                                let sku = target.skus[pick % target.skus.count]
                                let units = Int64(1 + pick % 3)
                                _ = try await f.orders.edit(
                                    target.id,
                                    OrderEdit(lines: [.init(sku: sku, quantity: units)]),
                                    reason: "race edit"
                                )
                                cut.withLock { $0.edits += 1 }
                            } else if pick < 20 {
                                _ = try await f.orders.cancel(target.id, reason: "race test")
                                cut.withLock { _ = $0.whole.insert(target.id) }
                            } else {
                                let sku = target.skus[pick % target.skus.count]
                                let after = try await f.orders.cancel(target.id, units: [sku: 1], reason: "one fewer")
                                cut.withLock {
                                    $0.units[target.id, default: 0] += 1
                                    if after.status == .cancelled { $0.whole.insert(target.id) }
                                }
                            }
                        } catch is IllegalTransition {
                            // Cancelled whole by another task first.
                            cut.withLock { $0.refused += 1 }
                        } catch let error as OrderlyError
                            where error.code == .conflict || error.code == .insufficientStock
                            || error.message.hasPrefix("an edit cannot remove every unit")
                        {
                            // That line (or the order) had nothing left to cancel, a rejecting channel
                            // could not fill the edit, or it would leave no unit (others cut the rest).
                            cut.withLock { $0.refused += 1 }
                        }
                    }
                    return results
                }
            }
            var all: [Placed] = []
            for try await results in group { all += results }
            return all
        }

        #expect(placed.count == 320)
        #expect(Set(placed.map(\.outcome.orderID)).count == 320)
        let check = try await InvariantChecker(database: f.database).run()
        #expect(check.isClean, "seed \(seed): \(check.violations)")

        // Nothing oversold, nothing shipped: on_hand is what was received, and reserved is within it.
        let rows = try await pool.query("SELECT on_hand, reserved FROM inventory ORDER BY warehouse_id, sku_id")
        let onHand = try rows.map { try $0.decode(Int64.self, at: 0) }
        let reserved = try rows.map { try $0.decode(Int64.self, at: 1) }
        #expect(onHand == [7, 5, 3, 6, 4, 2, 3, 4])
        #expect(zip(onHand, reserved).allSatisfy { $0.1 <= $0.0 && $0.1 >= 0 })

        // Units reserved equal the active reservations and the lines' reserved units.
        let reservedTotal = reserved.reduce(0, +)
        let activeReservations = try await pool.query(
            "SELECT coalesce(sum(quantity), 0)::int8 FROM reservations WHERE status = 'active'"
        ).scalar(Int64.self)
        #expect(activeReservations == reservedTotal, "seed \(seed)")
        let lineReserved = try await pool.query(
            "SELECT coalesce(sum(quantity_reserved), 0)::int8 FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status <> 'cancelled'"
        ).scalar(Int64.self)
        #expect(lineReserved == reservedTotal, "seed \(seed)")
        // Each order's cancelled units are what the cuts that succeeded took; a whole cancel, all of it.
        let (units, whole, refused, edits) = cut.withLock { ($0.units, $0.whole, $0.refused, $0.edits) }
        let lines = try await pool.query(
            """
            SELECT o.id, o.status, sum(l.quantity_cancelled)::int8, sum(l.quantity)::int8, sum(l.quantity_reserved)::int8
            FROM orders o JOIN order_lines l ON l.order_id = o.id
            WHERE o.id = ANY($1::int8[]) GROUP BY o.id
            """,
            [known.withLock { $0.map(\.id) }]
        )
        for row in lines {
            let (id, status, cancelled, quantity, lineUnits) = try row.decode((Int64, String, Int64, Int64, Int64).self)
            if whole.contains(id) {
                #expect(status == "cancelled" && cancelled == quantity && lineUnits == 0, "seed \(seed): order \(id)")
            } else {
                #expect(cancelled == units[id] ?? 0, "seed \(seed): order \(id)")
                #expect(status != "cancelled" || cancelled == quantity, "seed \(seed): order \(id)")
            }
        }
        let accepted = placed.filter { !$0.cancelled }
        let promised = reservedTotal
        // Demand far exceeds supply: the backordering channels soaked up nearly all of it.
        #expect(promised > 0)
        print(
            "reservation race: \(accepted.count) accepted, \(promised) units reserved of 34 at the end, "
                + "\(placed.count - accepted.count) rejected, \(whole.count) cancelled whole, "
                + "\(units.values.reduce(0, +)) units cut one by one, \(edits) edits, \(refused) refused"
        )
    }
}

import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Many tasks placing and cancelling orders on a few hot SKUs at once, against real PostgreSQL.
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
                        var cancelled = outcome.status == .cancelled
                        if !cancelled, Int.random(in: 0..<4, using: &random) == 0 {
                            cancelled =
                                try await f.orders.cancel(outcome.orderID, reason: "race test").status == .cancelled
                        }
                        results.append(Placed(outcome: outcome, cancelled: cancelled))
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

        // Units reserved equal what the accepted (not cancelled) orders were told they got.
        let accepted = placed.filter { !$0.cancelled }
        let promised = accepted.reduce(Int64(0)) { $0 + $1.outcome.unitsReserved }
        #expect(reserved.reduce(0, +) == promised, "seed \(seed)")
        let activeReservations = try await pool.query(
            "SELECT coalesce(sum(quantity), 0)::int8 FROM reservations WHERE status = 'active'"
        ).scalar(Int64.self)
        #expect(activeReservations == promised)
        let lineReserved = try await pool.query(
            "SELECT coalesce(sum(quantity_reserved), 0)::int8 FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status <> 'cancelled'"
        ).scalar(Int64.self)
        #expect(lineReserved == promised)
        // Demand far exceeds supply: the backordering channels soaked up nearly all of it.
        #expect(promised > 0)
        print(
            "reservation race: \(accepted.count) accepted, \(promised) units reserved of 34, \(placed.count - accepted.count) cancelled or rejected"
        )
    }
}

import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// ORDER EDIT before picking: lines added and routed, quantities lowered, the address changed into a
/// hold, an edit a rejecting channel cannot fill refused with nothing changed, money refunded.
@Suite(.migratedDatabase)
struct OrderEditTests {
    func fixture(_ stock: [[Int64]]) async throws -> OrderFixture {
        try await OrderFixture.make(
            TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 4)),
            stock: stock
        )
    }

    /// (warehouse id, units) of the order's active reservations of `sku`.
    func reservations(_ f: OrderFixture, _ order: Int64, _ sku: Int) async throws -> [[Int64]] {
        try await f.pool.query(
            "SELECT warehouse_id, quantity::int8 FROM reservations WHERE order_id = $1 AND sku_id = $2 AND status = 'active' ORDER BY id",
            [order, f.skus[sku]]
        ).map { [try $0.decode(Int64.self, at: 0), try $0.decode(Int64.self, at: 1)] }
    }

    func check(_ f: OrderFixture) async throws -> [String] {
        try await InvariantChecker(database: f.database).run().violations.map(\.detail).filter { $0.contains(f.tag) }
    }

    @Test func anAddedLineIsRoutedToASecondWarehouseAndTheFirstKeepsItsUnits() async throws {
        // SKU 0 only in Munich, SKU 1 only in Kassel; the order goes to Munich, unpaid (its stock is kept).
        let f = try await fixture([[0, 0], [0, 10], [10, 0]])
        defer { Task { await f.pool.close() } }
        let placed = try await f.orders.place(f.newOrder("add", lines: [(0, 2)], token: nil))
        #expect(placed.status == .reserved)
        let before = try await reservations(f, placed.orderID, 0)
        let edited = try await f.orders.edit(
            placed.orderID,
            OrderEdit(lines: [.init(sku: f.skuCodes[1], quantity: 1, unitPriceMinor: 1_999)]),
            reason: "customer added a cable"
        )
        #expect(edited.status == .reserved && edited.unitsReserved == 3)
        #expect(try await reservations(f, placed.orderID, 0) == before)  // kept, not routed again
        #expect(try await reservations(f, placed.orderID, 1) == [[f.warehouses[1], 1]])
        let order = try await f.orders.order(placed.orderID)
        #expect(order.lines.count == 2 && order.subtotalMinor == 3 * 1_999 && order.totalMinor == 3 * 1_999 + 490)
        #expect(try await f.eventNames(placed.orderID).suffix(2) == ["edit", "reserve"])
        let event = try #require(try await f.moves(placed.orderID).first { $0.event == "edit" })
        #expect(event.from == "reserved" && event.to == "received" && event.reason == "customer added a cable")
        #expect(event.data.contains("\"before\"") && event.data.contains("\"after\""))
        #expect(try await check(f) == [])

        // Lowered to one unit and the cable removed: the units go back, the line keeps its row with 0.
        let lowered = try await f.orders.edit(
            placed.orderID,
            OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 1), .init(sku: f.skuCodes[1], quantity: 0)]),
            reason: "changed mind"
        )
        #expect(lowered.status == .reserved && lowered.unitsReserved == 1)
        #expect(try await f.stock(2, 0).reserved == 1)
        #expect(try await f.stock(1, 1).reserved == 0)
        #expect(try await f.orders.order(placed.orderID).lines.map(\.quantity) == [1, 0])
        #expect(try await check(f) == [])
    }

    @Test func aNewAddressIsRoutedAgainOrHeldAndBadEditsChangeNothing() async throws {
        // SKU 0 in Hamburg and Munich.
        let f = try await fixture([[10, 0], [0, 0], [10, 0]])
        defer { Task { await f.pool.close() } }
        let placed = try await f.orders.place(f.newOrder("move", lines: [(0, 2)], token: nil))
        #expect(try await reservations(f, placed.orderID, 0) == [[f.warehouses[2], 2]])
        // Moved to Hamburg: routed again from scratch, to the Hamburg warehouse.
        var hamburg = OrderEdit()
        hamburg.address.city = "Hamburg"
        hamburg.address.postalCode = "20095"
        hamburg.address.location = GeoPoint(latitude: 53.55, longitude: 10.0)
        let moved = try await f.orders.edit(placed.orderID, hamburg, reason: "moving house")
        #expect(moved.status == .reserved)
        #expect(try await reservations(f, placed.orderID, 0) == [[f.warehouses[0], 2]])
        #expect(try await f.stock(2, 0).reserved == 0)
        #expect(
            try await f.count(
                "SELECT count(*) FROM delivery_promises WHERE order_id = $1 AND warehouse_id = $2",
                [placed.orderID, f.warehouses[2]]
            )
                == 0
        )

        // Refused, nothing changed: a SKU twice, a new line without a price, an unknown SKU, removing
        // every unit, a price change, nothing at all.
        let events = try await f.orders.events(placed.orderID).count
        let bad: [OrderEdit] = [
            OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 1), .init(sku: f.skuCodes[0], quantity: 2)]),
            OrderEdit(lines: [.init(sku: f.skuCodes[1], quantity: 1)]),
            OrderEdit(lines: [.init(sku: "NOPE-\(f.tag)", quantity: 1, unitPriceMinor: 100)]),
            OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 0)]),
            OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 2, unitPriceMinor: 1)]),
            OrderEdit(),
        ]
        for change in bad {
            await #expect(throws: OrderlyError.self, "\(change)") {
                try await f.orders.edit(placed.orderID, change, reason: "bad")
            }
        }
        #expect(try await f.orders.events(placed.orderID).count == events)

        // No postal code where Germany has them: held for the address, its stock kept.
        var noPostal = OrderEdit()
        noPostal.address.postalCode = ""
        let held = try await f.orders.edit(placed.orderID, noPostal, reason: "typo")
        #expect(held.status == .onHold && held.holdReason == .addressIncomplete)
        #expect(try await reservations(f, placed.orderID, 0) == [[f.warehouses[0], 2]])
        #expect(try await check(f) == [])
    }

    @Test func aRejectingChannelRefusesWhatItCannotFillAndABackorderingOneBackordersIt() async throws {
        let f = try await fixture([[0, 0], [0, 0], [3, 0]])
        defer { Task { await f.pool.close() } }
        let strict = try await f.channel("strict", kind: .marketplace)
        let placed = try await f.orders.place(f.newOrder("strict", channel: strict, lines: [(0, 2)]))
        #expect(placed.status == .reserved)
        await #expect {
            try await f.orders.edit(
                placed.orderID,
                OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 5)]),
                reason: "more"
            )
        } throws: { ($0 as? OrderlyError)?.code == .insufficientStock }
        #expect(try await f.orders.order(placed.orderID).lines.map(\.quantity) == [2])
        #expect(try await f.stock(2, 0).reserved == 2)
        // The web backorders what is short, as a new order would.
        let web = try await f.orders.place(f.newOrder("web", lines: [(0, 1)], token: nil))
        let more = try await f.orders.edit(
            web.orderID,
            OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 4)]),
            reason: "more"
        )
        #expect(more.status == .partiallyReserved && more.unitsReserved == 1)
        #expect(try await f.orders.order(web.orderID).lines.map(\.backordered) == [3])
        #expect(try await check(f) == [])
    }

    @Test func aLowerTotalOnACapturedPaymentIsRefundedAndAHigherOneHeldForPayment() async throws {
        let f = try await fixture([[0, 0], [0, 0], [10, 0]])
        defer { Task { await f.pool.close() } }
        let placed = try await f.orders.place(f.newOrder("paid", lines: [(0, 3)], token: "tok_captured"))
        #expect(placed.status == .reserved)
        _ = try await f.orders.edit(
            placed.orderID,
            OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 2)]),
            reason: "fewer"
        )
        let refund = try await f.pool.query(
            "SELECT (args->>'amount_minor')::int8 FROM jobs WHERE kind = 'refund_payment' AND (args->>'order_id')::int8 = $1",
            [placed.orderID]
        ).scalar(Int64.self)
        #expect(refund == 1_999)
        let more = try await f.orders.edit(
            placed.orderID,
            OrderEdit(lines: [.init(sku: f.skuCodes[0], quantity: 5)]),
            reason: "more"
        )
        #expect(more.status == .onHold && more.holdReason == .paymentPending)
        #expect(try await f.stock(2, 0).reserved == 2)  // kept through the hold; the rest waits for it
        #expect(try await check(f) == [])
    }
}

import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Parcels that go wrong: a lost parcel sent again from another warehouse, a damaged one refunded,
/// a channel that resolves claims by itself, and parcels that ship only when the carrier takes them.
/// The steps are driven one by one, as in `OrderChangeTests`.
@Suite(.migratedDatabase)
struct ClaimTests {
    typealias Setup = FulfillmentFlowTests.Setup

    func step<T: Sendable>(_ setup: Setup, _ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await setup.database.transaction(body)
    }

    /// Picks, packs, labels and ships the order's units at a warehouse; returns the parcel.
    func sendParcel(_ setup: Setup, _ orderID: Int64, from warehouse: Int) async throws -> Int64 {
        let parcel = try #require(
            try await step(setup) {
                try setup.fulfillment.pick($0, orderID: orderID, warehouseID: setup.warehouses[warehouse])
            }
        )
        try await step(setup) { _ = try setup.fulfillment.pack($0, orderID: orderID, shipmentID: parcel) }
        try await step(setup) { try setup.fulfillment.label($0, orderID: orderID, shipmentID: parcel) }
        try await step(setup) { try setup.fulfillment.ship($0, orderID: orderID, shipmentID: parcel) }
        return parcel
    }

    func claim(_ setup: Setup, _ shipment: Int64) async throws -> (id: Int64, status: String, kind: String) {
        let row = try await setup.pool.query("SELECT id, status, kind FROM claims WHERE shipment_id = $1", [shipment])[
            0
        ]
        return (
            try row.decode(Int64.self, at: 0), try row.decode(String.self, at: 1), try row.decode(String.self, at: 2)
        )
    }

    func refunds(_ setup: Setup, _ orderID: Int64) async throws -> [Int64] {
        try await setup.pool.query(
            "SELECT (args->>'amount_minor')::int8 FROM jobs WHERE kind = 'refund_payment' AND (args->>'order_id')::int8 = $1 ORDER BY id",
            [orderID]
        ).map { try $0.decode(Int64.self, at: 0) }
    }

    @Test func aLostParcelIsReshippedFromAnotherWarehouse() async throws {
        // One unit in Munich (where the order goes), five in Hamburg.
        let setup = try await Setup.make(stock: [[1, 0], [5, 0]])
        defer { Task { await setup.pool.close() } }
        let placed = try await setup.orders.place(setup.order("lost", lines: [(0, 1)], token: "tok_captured"))
        let id = placed.orderID
        let first = try await sendParcel(setup, id, from: 0)
        #expect(try await setup.status(id) == "shipped")
        _ = try await setup.fulfillment.report(.lost, shipmentID: first, note: "scan gap")
        #expect(try await setup.status(id) == "exception")
        let opened = try await claim(setup, first)
        #expect(opened.status == "open" && opened.kind == "lost")

        _ = try await setup.fulfillment.resolveClaim(opened.id, .reship, note: "send another")
        #expect(try await claim(setup, first).status == "resolved")
        #expect(try await setup.status(id) == "partially_shipped")
        // The reroute job's work: the open unit reserved where it is, Hamburg now.
        #expect(
            try await setup.pool.query(
                "SELECT count(*) FROM jobs WHERE kind = 'reroute' AND (args->>'order_id')::int8 = $1",
                [id]
            ).scalar(Int64.self) == 1
        )
        let rerouted = try await setup.orders.reserve(orderID: id)
        #expect(rerouted.unitsReserved == 1 && rerouted.plan?.shipments.map(\.warehouseID) == [setup.warehouses[1]])
        let second = try await sendParcel(setup, id, from: 1)
        #expect(try await setup.status(id) == "shipped")
        _ = try await setup.fulfillment.report(.delivered, shipmentID: second, note: nil)
        #expect(try await setup.status(id) == "delivered")
        // Resolving again: a conflict, nothing changes.
        await #expect(throws: OrderlyError.self) {
            try await setup.fulfillment.resolveClaim(opened.id, .refund, note: nil)
        }
        #expect(try await refunds(setup, id).isEmpty)
        let moves = try await setup.orders.events(id).map(\.event).filter { OrderFact(rawValue: $0) == nil }
        #expect(moves.suffix(4) == ["report_exception", "resolve_open", "ship", "deliver"], "\(moves)")
        #expect(try await setup.check() == [])
    }

    @Test func aDamagedParcelIsRefundedAndTheOrderShipsWithTheOther() async throws {
        // SKU 0 in Munich, SKU 1 in Hamburg: two parcels.
        let setup = try await Setup.make(stock: [[5, 0], [0, 5]])
        defer { Task { await setup.pool.close() } }
        let placed = try await setup.orders.place(
            setup.order("broken", lines: [(0, 1), (1, 1)], token: "tok_captured")
        )
        let id = placed.orderID
        let munich = try await sendParcel(setup, id, from: 0)
        let hamburg = try await sendParcel(setup, id, from: 1)
        _ = try await setup.fulfillment.report(.damaged, shipmentID: munich, note: "crushed")
        #expect(try await setup.status(id) == "exception")
        let opened = try await claim(setup, munich)
        _ = try await setup.fulfillment.resolveClaim(opened.id, .refund, note: "refund it")
        // Its half of the total goes back; the other parcel is still on its way.
        #expect(try await refunds(setup, id) == [1_000])
        #expect(try await setup.status(id) == "shipped")
        let order = try await setup.orders.order(id)
        #expect(order.lines.map(\.shipped) == [0, 1] && order.lines.map(\.cancelled) == [1, 0])
        #expect(order.cancelledMinor == 1_000)
        _ = try await setup.fulfillment.report(.delivered, shipmentID: hamburg, note: nil)
        #expect(try await setup.status(id) == "delivered")
        #expect(try await setup.check() == [])
    }

    @Test func aChannelThatRefundsClaimsByItselfAndADelayedParcelThatArrives() async throws {
        let setup = try await Setup.make(stock: [[5, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let channel = try #require(SalesChannel(rawValue: "claims_\(setup.tag.lowercased())"))
        var settings = ChannelSettings()
        settings.kind = .web
        settings.claimAction = .refund
        _ = try await ChannelService(database: setup.database, actor: "test", components: setup.orders.components)
            .set(channel, settings)
        var order = setup.order("auto", lines: [(0, 2)], token: "tok_captured")
        order.channel = channel
        let id = try await setup.orders.place(order).orderID
        let parcel = try await sendParcel(setup, id, from: 0)
        // Delayed: a claim opens and waits; the parcel arrives and closes it.
        _ = try await setup.fulfillment.report(.delayed, shipmentID: parcel, note: nil)
        #expect(try await claim(setup, parcel).status == "open")
        #expect(try await setup.status(id) == "exception")
        _ = try await setup.fulfillment.report(.delivered, shipmentID: parcel, note: nil)
        #expect(try await claim(setup, parcel).status == "resolved")
        #expect(try await setup.status(id) == "delivered")

        // Lost on this channel: refunded at once, the order (nothing else sent) cancelled.
        var again = setup.order("auto2", lines: [(0, 1)], token: "tok_captured")
        again.channel = channel
        let second = try await setup.orders.place(again).orderID
        let lost = try await sendParcel(setup, second, from: 0)
        _ = try await setup.fulfillment.report(.lost, shipmentID: lost, note: nil)
        #expect(try await claim(setup, lost).status == "resolved")
        #expect(try await setup.status(second) == "cancelled")
        #expect(try await refunds(setup, second) == [1_000])
        #expect(try await setup.check() == [])
    }

    @Test func aScanWarehouseShipsAParcelWhenTheCarrierTakesIt() async throws {
        let setup = try await Setup.make(stock: [[5, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        try await setup.pool.query("UPDATE warehouses SET handover = 'scan' WHERE id = $1", [setup.warehouses[0]])
        let id = try await setup.orders.place(setup.order("dock", lines: [(0, 2)], token: "tok_captured")).orderID
        let parcel = try #require(
            try await step(setup) { try setup.fulfillment.pick($0, orderID: id, warehouseID: setup.warehouses[0]) }
        )
        await #expect(throws: OrderlyError.self) { try await setup.fulfillment.handover(parcel) }
        try await step(setup) { _ = try setup.fulfillment.pack($0, orderID: id, shipmentID: parcel) }
        try await step(setup) { try setup.fulfillment.label($0, orderID: id, shipmentID: parcel) }
        // The ship step: labelled and paid, it waits at the dock; nothing has left.
        try await step(setup) { try setup.fulfillment.ship($0, orderID: id, shipmentID: parcel) }
        #expect(
            try await setup.pool.query("SELECT status FROM shipments WHERE id = $1", [parcel]).scalar(String.self)
                == "labelled"
        )
        #expect(try await setup.status(id) == "packed")
        let onHand = try await setup.pool.query(
            "SELECT on_hand FROM inventory WHERE warehouse_id = $1 AND sku_id = $2",
            [setup.warehouses[0], setup.skus[0]]
        ).scalar(Int64.self)
        #expect(onHand == 5)
        #expect(try await setup.fulfillment.handover(parcel) == "shipped")
        #expect(try await setup.status(id) == "shipped")
        // Handed over twice: nothing more happens.
        #expect(try await setup.fulfillment.handover(parcel) == "shipped")
        #expect(try await setup.check() == [])
    }
}

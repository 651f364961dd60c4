import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Cancelling units: from reservations, backorders, pick lists being walked or gathered, picked and
/// packed parcels, with the ledger, the lists, the put-backs, the money and the messages checked. The
/// fulfillment steps are driven one by one (no worker), so every state is the test's to choose.
@Suite(.migratedDatabase)
struct OrderChangeTests {
    typealias Setup = FulfillmentFlowTests.Setup

    func step<T: Sendable>(_ setup: Setup, _ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await setup.database.transaction(body)
    }

    func reserved(_ setup: Setup, _ warehouse: Int, _ sku: Int) async throws -> Int64 {
        try await setup.pool.query(
            "SELECT reserved FROM inventory WHERE warehouse_id = $1 AND sku_id = $2",
            [setup.warehouses[warehouse], setup.skus[sku]]
        ).scalar(Int64.self)
    }

    /// (quantity, reserved, backordered, shipped, cancelled) of the order's line of `sku`.
    func line(_ setup: Setup, _ orderID: Int64, _ sku: Int) async throws -> [Int64] {
        let row = try await setup.pool.query(
            """
            SELECT quantity, quantity_reserved, quantity_backordered, quantity_shipped, quantity_cancelled
            FROM order_lines WHERE order_id = $1 AND sku_id = $2
            """,
            [orderID, setup.skus[sku]]
        )[0]
        return try (0..<5).map { Int64(try row.decode(Int32.self, at: $0)) }
    }

    func refundJobs(_ setup: Setup, _ orderID: Int64) async throws -> [Jobs.RefundPayment.Arguments] {
        try await setup.pool.query(
            "SELECT args::text FROM jobs WHERE kind = 'refund_payment' AND (args->>'order_id')::int8 = $1 ORDER BY id",
            [orderID]
        ).map { try Jobs.RefundPayment.decode(try $0.decode(String.self, at: 0)) }
    }

    func messages(_ setup: Setup, _ orderID: Int64) async throws -> [String] {
        try await setup.pool.query(
            "SELECT kind || ': ' || body FROM notifications WHERE order_id = $1 ORDER BY id",
            [orderID]
        ).map { try $0.decode(String.self, at: 0) }
    }

    func putBacks(_ setup: Setup, _ orderID: Int64) async throws -> [String] {
        try await setup.pool.query(
            "SELECT source || ':' || quantity FROM put_backs WHERE order_id = $1 ORDER BY id",
            [orderID]
        ).map { try $0.decode(String.self, at: 0) }
    }

    func shipmentStatus(_ setup: Setup, _ id: Int64) async throws -> String {
        try await setup.pool.query("SELECT status FROM shipments WHERE id = $1", [id]).scalar(String.self)
    }

    /// One unit of a line, then (after a parcel shipped) the rest of the order: a backordered unit and
    /// a picked one. Paid at checkout, so each cancellation refunds its share.
    @Test func oneUnitThenTheRestOfAPartiallyShippedOrder() async throws {
        // SKU 0 only in Munich (10), SKU 1 only in Hamburg (1): 3 × SKU 0 and 2 × SKU 1 is two parcels
        // and one unit backordered.
        let setup = try await Setup.make(stock: [[10, 0], [0, 1]])
        defer { Task { await setup.pool.close() } }
        let placed = try await setup.orders.place(
            setup.order("rest", lines: [(0, 3), (1, 2)], token: "tok_captured")
        )
        #expect(placed.status == .partiallyReserved)
        let id = placed.orderID

        // 1. One of the three units of SKU 0: reserved, not picked.
        let one = try await setup.orders.cancel(id, units: ["FS0-\(setup.tag)": 1], reason: "customer asked")
        #expect(one.status == .partiallyReserved && one.unitsReserved == 3)
        #expect(try await line(setup, id, 0) == [3, 2, 0, 0, 1])
        #expect(try await reserved(setup, 0, 0) == 2)
        let ledger = try await setup.pool.query(
            "SELECT reserved_delta, note FROM inventory_ledger WHERE order_id = $1 AND reason = 'release'",
            [id]
        )
        #expect(ledger.count == 1)
        #expect(try ledger[0].decode(Int64.self, at: 0) == -1)
        #expect(try ledger[0].decode(String.self, at: 1) == "cancelled: customer asked")
        #expect(
            try await setup.pool.query(
                "SELECT quantity FROM reservations WHERE order_id = $1 AND sku_id = $2 AND status = 'active'",
                [id, setup.skus[0]]
            ).scalar(Int32.self) == 2
        )
        // A fifth of the goods: a fifth of the total (5,000) is released and refunded.
        #expect(try await setup.orders.order(id).cancelledMinor == 1_000)
        #expect(try await refundJobs(setup, id).map(\.amountMinor) == [1_000])

        // 2. The Munich parcel (2 × SKU 0) is picked, packed, labelled and shipped.
        let munich = try #require(
            try await step(setup) { try setup.fulfillment.pick($0, orderID: id, warehouseID: setup.warehouses[0]) }
        )
        try await step(setup) { _ = try setup.fulfillment.pack($0, orderID: id, shipmentID: munich) }
        try await step(setup) { try setup.fulfillment.label($0, orderID: id, shipmentID: munich) }
        try await step(setup) { try setup.fulfillment.ship($0, orderID: id, shipmentID: munich) }
        #expect(try await setup.status(id) == "partially_shipped")

        // Shipped units cannot be cancelled: a precise refusal, nothing changed.
        await #expect {
            try await setup.orders.cancel(id, units: ["FS0-\(setup.tag)": 1], reason: "too late")
        } throws: { error in
            (error as? OrderlyError)?.message
                == "lines: FS0-\(setup.tag): 1 asked, 0 can be cancelled (3 ordered, 2 shipped, 1 cancelled already)"
        }
        #expect(try await line(setup, id, 0) == [3, 0, 0, 2, 1])

        // 3. The Hamburg unit is picked (the list completed: in a tote); then the rest is cancelled.
        let hamburg = try #require(
            try await step(setup) { try setup.fulfillment.pick($0, orderID: id, warehouseID: setup.warehouses[1]) }
        )
        #expect(try await shipmentStatus(setup, hamburg) == "picked")
        let rest = try await setup.orders.cancel(id, reason: "the rest is not wanted")
        #expect(rest.status == .shipped && rest.unitsReserved == 0)
        #expect(try await line(setup, id, 1) == [2, 0, 0, 0, 2])
        #expect(try await reserved(setup, 1, 1) == 0)
        #expect(try await shipmentStatus(setup, hamburg) == "cancelled")
        #expect(try await putBacks(setup, id) == ["picked:1"])
        // Nothing is open: the shipped goods (2,000 of 5,000) owe 2,000; the rest is refunded in two parts.
        let order = try await setup.orders.order(id)
        #expect(order.cancelledMinor == 3_000 && order.dueMinor == 2_000)
        let refunds = try await refundJobs(setup, id)
        #expect(refunds.map(\.amountMinor) == [1_000, 2_000])
        #expect(Set(refunds.map(\.key)).count == 2)
        // The worker's handler: each refund through the primitive.
        for refund in refunds {
            try await setup.payments.refund(
                refund.orderID,
                amountMinor: refund.amountMinor,
                key: refund.key,
                reason: refund.reason
            )
        }
        let balance = try await setup.payments.balance(id)
        #expect(balance.captured == 5_000 && balance.refunded == 3_000 && balance.due == 2_000)
        #expect(balance.outstanding == 0)
        // The events: cancel_units, then (after the parcel) cancel_unshipped, each with what it cut.
        let moves = try await setup.orders.events(id).filter { $0.event.hasPrefix("cancel") }
        #expect(moves.map(\.event) == ["cancel_units", "cancel_unshipped"])
        #expect(moves[1].data.contains("\"put_backs\"") && moves[1].data.contains("\"refund_minor\": 2000"))
        // Told once per cancellation (and once per refund).
        let told = try await messages(setup, id).filter { $0.hasPrefix("order_updated") }
        #expect(told.count == 2)
        #expect(told[0].contains("1 × FS0-\(setup.tag)") && told[0].contains("refunding 10.00 EUR"))
        #expect(try await setup.check() == [])
    }

    /// A scanner warehouse: a list being walked shrinks and gets a put-back; a packed parcel is cut
    /// only whole; cutting all of it cancels the order and voids the authorization's rest.
    @Test func aListBeingWalkedShrinksAndAPackedParcelIsCutOnlyWhole() async throws {
        let setup = try await Setup.make(stock: [[10, 10], [0, 0]])
        defer { Task { await setup.pool.close() } }
        try await setup.pool.query(
            "UPDATE warehouses SET pick_confirmation = 'scanner' WHERE id = $1",
            [setup.warehouses[0]]
        )
        let placed = try await setup.orders.place(setup.order("walk", lines: [(0, 3), (1, 1)]))
        let id = placed.orderID
        let parcel = try #require(
            try await step(setup) { try setup.fulfillment.pick($0, orderID: id, warehouseID: setup.warehouses[0]) }
        )
        let list = try await setup.pool.query(
            "SELECT DISTINCT pl.pick_list_id FROM pick_list_lines pl JOIN shipment_lines sl ON sl.id = pl.shipment_line_id WHERE sl.shipment_id = $1",
            [parcel]
        ).scalar(Int64.self)

        // Being walked: the list line shrinks; the picker may hold the unit, so a put-back says so.
        let cut = try await setup.orders.cancel(id, units: ["FS0-\(setup.tag)": 1], reason: "one fewer")
        #expect(cut.status == .picking)
        #expect(
            try await setup.pool.query(
                "SELECT quantity FROM pick_list_lines WHERE pick_list_id = $1 AND sku_id = $2",
                [list, setup.skus[0]]
            ).scalar(Int32.self) == 2
        )
        #expect(try await putBacks(setup, id) == ["walking:1"])
        // The picker's count is held to the shrunk line.
        await #expect(throws: OrderlyError.self) {
            try await setup.fulfillment.confirmPickList(list, picked: ["FS0-\(setup.tag)": 3])
        }
        _ = try await setup.fulfillment.confirmPickList(list, picked: [:])
        try await step(setup) { _ = try setup.fulfillment.pack($0, orderID: id, shipmentID: parcel) }
        #expect(try await setup.status(id) == "packed")

        // Packed: one unit out of the box is refused, naming the parcel, and nothing changes.
        await #expect {
            try await setup.orders.cancel(id, units: ["FS0-\(setup.tag)": 1], reason: "one more fewer")
        } throws: { error in
            (error as? OrderlyError)?.code == .conflict
                && ((error as? OrderlyError)?.message.hasPrefix("parcel \(parcel) is packed") ?? false)
        }
        #expect(try await line(setup, id, 0) == [3, 2, 0, 0, 1])
        #expect(try await reserved(setup, 0, 0) == 2)

        // The whole parcel: every unit of it, so the order is cancelled and the authorization voided.
        let all = try await setup.orders.cancel(
            id,
            units: ["FS0-\(setup.tag)": 2, "FS1-\(setup.tag)": 1],
            reason: "all of it"
        )
        #expect(all.status == .cancelled)
        #expect(try await shipmentStatus(setup, parcel) == "cancelled")
        #expect(try await putBacks(setup, id) == ["walking:1", "packed:2", "packed:1"])
        #expect(try await reserved(setup, 0, 0) == 0)
        #expect(try await reserved(setup, 0, 1) == 0)
        #expect(
            try await setup.pool.query(
                "SELECT count(*) FROM jobs WHERE kind = 'void_payment' AND (args->>'order_id')::int8 = $1",
                [id]
            ).scalar(Int64.self) == 1
        )
        #expect(try await refundJobs(setup, id).isEmpty)
        #expect(try await messages(setup, id).last?.hasPrefix("order_cancelled") == true)
        #expect(try await setup.orders.order(id).cancelledMinor == 4_000)
        // A put-back is done once.
        let task = try await setup.pool.query("SELECT min(id) FROM put_backs WHERE order_id = $1", [id])
            .scalar(Int64.self)
        _ = try await setup.fulfillment.putBackDone(task)
        await #expect(throws: OrderlyError.self) { try await setup.fulfillment.putBackDone(task) }
        #expect(try await setup.check() == [])
    }

    /// A batch still gathering: its line shrinks without a put-back, and the list empties out; a
    /// partially reserved order left with only reserved units is reserved.
    @Test func aGatheringBatchShrinksAndABackorderCancelledLeavesTheOrderReserved() async throws {
        let setup = try await Setup.make(stock: [[2, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        try await setup.pool.query(
            "UPDATE warehouses SET pick_method = 'batch', batch_size = 50 WHERE id = $1",
            [setup.warehouses[0]]
        )
        let placed = try await setup.orders.place(setup.order("batch", lines: [(0, 3)]))
        #expect(placed.status == .partiallyReserved)
        let id = placed.orderID
        // The backordered unit: what is left is all reserved.
        let first = try await setup.orders.cancel(id, units: ["FS0-\(setup.tag)": 1], reason: "no backorder")
        #expect(first.status == .reserved)
        #expect(try await line(setup, id, 0) == [3, 2, 0, 0, 1])
        #expect(try await setup.orders.events(id).last?.event == "cancel_backorder")

        let parcel = try #require(
            try await step(setup) { try setup.fulfillment.pick($0, orderID: id, warehouseID: setup.warehouses[0]) }
        )
        let list = try await setup.pool.query(
            "SELECT pl.pick_list_id FROM pick_list_lines pl JOIN shipment_lines sl ON sl.id = pl.shipment_line_id WHERE sl.shipment_id = $1",
            [parcel]
        ).scalar(Int64.self)
        #expect(
            try await setup.pool.query("SELECT status FROM pick_lists WHERE id = $1", [list]).scalar(String.self)
                == "open"
        )
        _ = try await setup.orders.cancel(id, units: ["FS0-\(setup.tag)": 1], reason: "one fewer")
        #expect(try await putBacks(setup, id).isEmpty)
        #expect(
            try await setup.pool.query("SELECT quantity FROM pick_list_lines WHERE pick_list_id = $1", [list])
                .scalar(Int32.self) == 1
        )
        let last = try await setup.orders.cancel(id, reason: "none at all")
        #expect(last.status == .cancelled)
        #expect(
            try await setup.pool.query("SELECT status FROM pick_lists WHERE id = $1", [list]).scalar(String.self)
                == "cancelled"
        )
        #expect(try await shipmentStatus(setup, parcel) == "cancelled")
        #expect(try await setup.check() == [])
    }

    /// Once a parcel is being picked, an edit is refused naming it, and nothing changes.
    @Test func anEditAfterPickingStartedIsRefusedWithNothingChanged() async throws {
        let setup = try await Setup.make(stock: [[10, 10], [0, 0]])
        defer { Task { await setup.pool.close() } }
        try await setup.pool.query(
            "UPDATE warehouses SET pick_confirmation = 'scanner' WHERE id = $1",
            [setup.warehouses[0]]
        )
        let placed = try await setup.orders.place(setup.order("late", lines: [(0, 2)]))
        let parcel = try #require(
            try await step(setup) {
                try setup.fulfillment.pick($0, orderID: placed.orderID, warehouseID: setup.warehouses[0])
            }
        )
        let events = try await setup.orders.events(placed.orderID).count
        await #expect {
            try await setup.orders.edit(
                placed.orderID,
                OrderEdit(lines: [.init(sku: "FS1-\(setup.tag)", quantity: 1, unitPriceMinor: 1_000)]),
                reason: "one more"
            )
        } throws: { error in
            (error as? IllegalTransition)?.description
                == "an order that is picking cannot edit: parcel \(parcel) is picking; an order is edited only "
                + "before any parcel is picked (ORDER CANCEL lines= cancels units)"
        }
        #expect(try await setup.orders.events(placed.orderID).count == events)
        #expect(try await line(setup, placed.orderID, 0) == [2, 2, 0, 0, 0])
        #expect(try await setup.orders.order(placed.orderID).lines.count == 1)
        #expect(try await setup.check() == [])
    }
}

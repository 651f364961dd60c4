import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Returns end to end on real PostgreSQL: opened with a label, received, inspected (restocked,
/// scrapped, missing), refunded to the minor unit; refusals; two returns of the same unit at once.
@Suite(.migratedDatabase)
struct ReturnTests {
    typealias Setup = FulfillmentFlowTests.Setup

    func returns(_ setup: Setup) -> ReturnService {
        ReturnService(database: setup.database, actor: "test", components: setup.orders.components)
    }

    /// A shipped order of `units` × SKU 0 (10.00 each) from Munich, paid at checkout.
    func shipped(
        _ setup: Setup,
        _ id: String,
        units: Int64,
        channel: SalesChannel = .web,
        shipping: Int64 = 0
    )
        async throws -> Int64
    {
        var order = setup.order(id, lines: [(0, units)], token: "tok_captured")
        order.channel = channel
        order.shippingMinor = shipping
        let orderID = try await setup.orders.place(order).orderID
        let parcel = try #require(
            try await setup.database.transaction {
                try setup.fulfillment.pick($0, orderID: orderID, warehouseID: setup.warehouses[0])
            }
        )
        try await setup.database.transaction {
            _ = try setup.fulfillment.pack($0, orderID: orderID, shipmentID: parcel)
        }
        try await setup.database.transaction { try setup.fulfillment.label($0, orderID: orderID, shipmentID: parcel) }
        try await setup.database.transaction { try setup.fulfillment.ship($0, orderID: orderID, shipmentID: parcel) }
        return orderID
    }

    func channel(_ setup: Setup, _ name: String, _ edit: (inout ChannelSettings) -> Void) async throws -> SalesChannel {
        let channel = try #require(SalesChannel(rawValue: "\(name)_\(setup.tag.lowercased())"))
        var settings = ChannelSettings()
        settings.kind = .web
        edit(&settings)
        _ = try await ChannelService(database: setup.database, actor: "test", components: setup.orders.components)
            .set(channel, settings)
        return channel
    }

    func onHand(_ setup: Setup) async throws -> Int64 {
        try await setup.pool.query(
            "SELECT on_hand FROM inventory WHERE warehouse_id = $1 AND sku_id = $2",
            [setup.warehouses[0], setup.skus[0]]
        ).scalar(Int64.self)
    }

    @Test func oneOfTwoUnitsIsReturnedRestockedAndRefundedToTheMinorUnit() async throws {
        let setup = try await Setup.make(stock: [[10, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let order = try await shipped(setup, "back", units: 2)
        let opened = try await service.open(
            orderID: order,
            units: ["FS0-\(setup.tag)": 1],
            reason: .noLongerNeeded,
            note: "gift"
        )
        #expect(opened.rma.hasPrefix("RMA-") && opened.trackingNumber != nil)
        #expect(try await service.receive(opened.id, warehouse: setup.warehouses[0]) == "received")
        let before = try await onHand(setup)
        #expect(try await service.inspect(opened.id, found: [("FS0-\(setup.tag)", 1, .sellable, nil)]) == "inspected")
        #expect(try await onHand(setup) == before + 1)
        #expect(try await setup.status(order) == "partially_returned")
        // Half the goods of a 20.00 order: 10.00 exactly.
        #expect(try await service.refund(opened.id) == 1_000)
        let job = try await setup.pool.query(
            "SELECT args::text FROM jobs WHERE kind = 'refund_payment' AND (args->>'order_id')::int8 = $1",
            [order]
        ).scalar(String.self)
        let refund = try Jobs.RefundPayment.decode(job)
        _ = try await setup.payments.refund(
            order,
            amountMinor: refund.amountMinor,
            key: refund.key,
            reason: refund.reason
        )
        #expect(try await setup.payments.balance(order).refunded == 1_000)
        // The unit's path in the ledger: received, reserved, shipped, returned.
        let path = try await setup.pool.query(
            """
            SELECT reason FROM inventory_ledger WHERE warehouse_id = $1 AND sku_id = $2
              AND (order_id = $3 OR reason = 'receive') ORDER BY id
            """,
            [setup.warehouses[0], setup.skus[0], order]
        ).map { try $0.decode(String.self, at: 0) }
        #expect(path == ["receive", "reserve", "ship", "return"], "\(path)")
        // Refused with exact errors, nothing changed: more than is left, an order never shipped.
        await #expect {
            try await service.open(orderID: order, units: ["FS0-\(setup.tag)": 2], reason: .other, note: nil)
        } throws: { error in
            (error as? OrderlyError)?.message
                == "lines: FS0-\(setup.tag): 2 asked, 1 can be returned (2 shipped, 1 on returns already)"
        }
        let unshipped = try await setup.orders.place(setup.order("never", lines: [(0, 1)], token: "tok_captured"))
        await #expect {
            try await service.open(
                orderID: unshipped.orderID,
                units: ["FS0-\(setup.tag)": 1],
                reason: .other,
                note: nil
            )
        } throws: { error in
            (error as? OrderlyError)?.message
                == "order \(unshipped.orderID) has nothing shipped to return (it is reserved)"
        }
        #expect(try await setup.check() == [])
    }

    @Test func scrappedAndMissingUnitsAFeeAndShippingByPolicy() async throws {
        let setup = try await Setup.make(stock: [[10, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let fee = try await channel(setup, "fee") {
            $0.restockingFeePercent = 10
            $0.refundShipping = true
        }
        let order = try await shipped(setup, "scrap", units: 3, channel: fee, shipping: 490)
        let opened = try await service.open(
            orderID: order,
            units: ["FS0-\(setup.tag)": 3],
            reason: .defective,
            note: nil
        )
        _ = try await service.receive(opened.id, warehouse: setup.warehouses[0])
        let before = try await onHand(setup)
        // Inspection must account for every unit.
        await #expect(throws: OrderlyError.self) {
            try await service.inspect(opened.id, found: [("FS0-\(setup.tag)", 2, .damaged, nil)])
        }
        _ = try await service.inspect(
            opened.id,
            found: [
                ("FS0-\(setup.tag)", 1, .damaged, nil), ("FS0-\(setup.tag)", 1, .defective, nil),
                ("FS0-\(setup.tag)", 1, .missing, nil),
            ]
        )
        // Two arrived and were scrapped: on_hand as it was, a return and a scrap row each; the missing one
        // is no longer on a return.
        #expect(try await onHand(setup) == before)
        let rows = try await setup.pool.query(
            "SELECT reason, on_hand_delta FROM inventory_ledger WHERE order_id = $1 AND reason IN ('return', 'scrap') ORDER BY id",
            [order]
        ).map { "\(try $0.decode(String.self, at: 0)):\(try $0.decode(Int64.self, at: 1))" }
        #expect(rows == ["return:2", "scrap:-2"])
        #expect(try await setup.orders.order(order).lines[0].shipped == 3)
        // Two of three goods (20.00 of 30.00) of a 34.90 total with its shipping: floor(23.26) less 10% of 20.00.
        #expect(try await service.refund(opened.id) == 2_326 - 200)
        #expect(try await setup.status(order) == "partially_returned")
        #expect(try await setup.check() == [])
    }

    @Test func aClosedWindowAndTwoReturnsOfOneUnitAtOnce() async throws {
        let setup = try await Setup.make(stock: [[10, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let closed = try await channel(setup, "closed") { $0.returnWindowDays = 0 }
        let late = try await shipped(setup, "late", units: 1, channel: closed)
        await #expect {
            try await service.open(orderID: late, units: ["FS0-\(setup.tag)": 1], reason: .sizeFit, note: nil)
        } throws: { error in
            ((error as? OrderlyError)?.message.contains("the return window closed on") ?? false)
                && ((error as? OrderlyError)?.message.hasSuffix("(0 days after delivery)") ?? false)
        }
        // Two returns of the same unit race: one wins, the other is refused.
        let order = try await shipped(setup, "race", units: 1)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    do {
                        _ = try await service.open(
                            orderID: order,
                            units: ["FS0-\(setup.tag)": 1],
                            reason: .other,
                            note: nil
                        )
                        return true
                    } catch let error as OrderlyError where error.code == .conflict {
                        return false
                    }
                }
            }
            var all: [Bool] = []
            for try await won in group { all.append(won) }
            return all
        }
        #expect(outcomes.filter { $0 }.count == 1 && outcomes.count == 2)
        #expect(
            try await setup.pool.query("SELECT count(*) FROM returns WHERE order_id = $1", [order]).scalar(Int64.self)
                == 1
        )
        #expect(try await setup.check() == [])
    }

    @Test func anExchangeIsANewOrderThatShipsThroughTheWorker() async throws {
        // SKU 0 and SKU 1 in Munich.
        let setup = try await Setup.make(stock: [[10, 10], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let order = try await shipped(setup, "swap", units: 1)
        let opened = try await service.open(orderID: order, units: ["FS0-\(setup.tag)": 1], reason: .sizeFit, note: nil)
        _ = try await service.receive(opened.id, warehouse: setup.warehouses[0])
        _ = try await service.inspect(opened.id, found: [("FS0-\(setup.tag)", 1, .sellable, nil)])
        let replacement = try await service.exchange(opened.id, replacement: ["FS1-\(setup.tag)": 1])
        #expect(replacement.status == .reserved && replacement.unitsReserved == 1)
        // A price for a SKU that is not a replacement line: refused.
        await #expect(throws: OrderlyError.self) {
            try await service.exchange(opened.id, replacement: ["FS1-\(setup.tag)": 1], difference: ["NOPE": 1])
        }
        // Asked again: the same order.
        #expect(
            try await service.exchange(opened.id, replacement: ["FS1-\(setup.tag)": 1]).orderID == replacement.orderID
        )
        // Exchanged, it is not refunded as well.
        await #expect(throws: OrderlyError.self) { try await service.refund(opened.id) }
        let new = try await setup.orders.order(replacement.orderID)
        #expect(
            new.totalMinor == 0 && new.paymentStatus == .captured && new.lines.map(\.skuCode) == ["FS1-\(setup.tag)"]
        )
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let status = try await setup.waitFor(replacement.orderID, "shipped")
        let errors = try await setup.jobErrors()
        #expect(status == "shipped", "\(errors)")
        worker.shutdown()
        try await running.value
        #expect(
            try await setup.pool.query("SELECT status, exchange_order_id FROM returns WHERE id = $1", [opened.id])[0]
                .decode(String.self, at: 0) == "exchanged"
        )
        #expect(try await setup.check() == [])
    }

    @Test func serialsThatDidNotLeaveFlagFraudAndAWrongItemIsRecorded() async throws {
        let setup = try await Setup.make(stock: [[10, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let code = "SER-\(setup.tag)"
        let serialSKU = try await setup.pool.withConnection { connection in
            try CatalogStore.createSKU(
                connection,
                NewSKU(
                    code: code,
                    name: "phone",
                    weightGrams: 200,
                    dimensionsMillimetres: (150, 80, 10),
                    serialTracked: true
                )
            )
        }
        try await setup.inventory.receive(warehouse: setup.warehouses[0], sku: serialSKU, quantity: 2)
        try await setup.pool.query(
            "UPDATE warehouses SET pick_confirmation = 'scanner' WHERE id = $1",
            [setup.warehouses[0]]
        )
        var phones = setup.order("phones", lines: [])
        phones.lines = [NewOrderLine(skuCode: code, quantity: 2, unitPriceMinor: 50_000)]
        phones.payment = PaymentDetails(method: "card", token: "tok_captured")
        let order = try await setup.orders.place(phones).orderID
        let parcel = try #require(
            try await setup.database.transaction {
                try setup.fulfillment.pick($0, orderID: order, warehouseID: setup.warehouses[0])
            }
        )
        let list = try await setup.pool.query(
            "SELECT DISTINCT pl.pick_list_id FROM pick_list_lines pl JOIN shipment_lines sl ON sl.id = pl.shipment_line_id WHERE sl.shipment_id = $1",
            [parcel]
        ).scalar(Int64.self)
        // A serial-tracked SKU needs a serial for every unit that leaves.
        await #expect(throws: OrderlyError.self) { try await setup.fulfillment.confirmPickList(list, picked: [:]) }
        await #expect(throws: OrderlyError.self) {
            try await setup.fulfillment.confirmPickList(list, picked: [:], serials: [code: ["IMEI-1", "IMEI-1"]])
        }
        _ = try await setup.fulfillment.confirmPickList(list, picked: [:], serials: [code: ["IMEI-1", "IMEI-2"]])
        try await setup.database.transaction { _ = try setup.fulfillment.pack($0, orderID: order, shipmentID: parcel) }
        try await setup.database.transaction { try setup.fulfillment.label($0, orderID: order, shipmentID: parcel) }
        try await setup.database.transaction { try setup.fulfillment.ship($0, orderID: order, shipmentID: parcel) }

        let opened = try await service.open(orderID: order, units: [code: 2], reason: .defective, note: nil)
        _ = try await service.receive(opened.id, warehouse: setup.warehouses[0])
        let before = try await setup.pool.query(
            "SELECT on_hand FROM inventory WHERE warehouse_id = $1 AND sku_id = $2",
            [setup.warehouses[0], serialSKU]
        ).scalar(Int64.self)
        // One serial that left, one that did not: fraud review, nothing restocked or refunded, an alert.
        let status = try await service.inspect(
            opened.id,
            found: [(code, 1, .sellable, "IMEI-1"), (code, 1, .sellable, "IMEI-9")]
        )
        #expect(status == "fraud_review")
        let after = try await setup.pool.query(
            "SELECT on_hand FROM inventory WHERE warehouse_id = $1 AND sku_id = $2",
            [setup.warehouses[0], serialSKU]
        ).scalar(Int64.self)
        #expect(after == before)
        #expect(
            try await setup.pool.query(
                "SELECT count(*) FROM jobs WHERE kind = 'return_fraud' AND (args->>'return_id')::int8 = $1",
                [opened.id]
            ).scalar(Int64.self) == 1
        )
        await #expect(throws: OrderlyError.self) { try await service.refund(opened.id) }
        #expect(try await setup.status(order) == "shipped")

        // A wrong item back: recorded, not restocked as the SKU, not refunded, the unit still the customer's.
        try await setup.pool.query(
            "UPDATE warehouses SET pick_confirmation = 'auto' WHERE id = $1",
            [setup.warehouses[0]]
        )
        let plain = try await shipped(setup, "wrong", units: 1)
        let wrong = try await service.open(orderID: plain, units: ["FS0-\(setup.tag)": 1], reason: .other, note: nil)
        _ = try await service.receive(wrong.id, warehouse: setup.warehouses[0])
        let shelf = try await onHand(setup)
        _ = try await service.inspect(wrong.id, found: [("FS0-\(setup.tag)", 1, .wrongItem, nil)])
        #expect(try await onHand(setup) == shelf)
        #expect(try await service.refund(wrong.id) == 0)
        #expect(
            try await setup.pool.query("SELECT quantity_returned FROM order_lines WHERE order_id = $1", [plain])
                .scalar(Int32.self) == 0
        )
        #expect(
            try await setup.pool.query("SELECT condition FROM return_inspections WHERE return_id = $1", [wrong.id])
                .scalar(String.self) == "wrong_item"
        )
        #expect(try await setup.check() == [])
    }
}

extension ReturnTests {
    @Test func storeCreditIsIssuedForAReturnAndSpentOnANewOrder() async throws {
        let setup = try await Setup.make(stock: [[10, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let email = "credit-\(setup.tag.lowercased())@example.com"
        var first = setup.order("credit", lines: [(0, 2)], token: "tok_captured")
        first.email = email
        let order = try await setup.orders.place(first).orderID
        let parcel = try #require(
            try await setup.database.transaction {
                try setup.fulfillment.pick($0, orderID: order, warehouseID: setup.warehouses[0])
            }
        )
        try await setup.database.transaction { _ = try setup.fulfillment.pack($0, orderID: order, shipmentID: parcel) }
        try await setup.database.transaction { try setup.fulfillment.label($0, orderID: order, shipmentID: parcel) }
        try await setup.database.transaction { try setup.fulfillment.ship($0, orderID: order, shipmentID: parcel) }
        let opened = try await service.open(
            orderID: order,
            units: ["FS0-\(setup.tag)": 2],
            reason: .noLongerNeeded,
            note: nil
        )
        _ = try await service.receive(opened.id, warehouse: setup.warehouses[0])
        _ = try await service.inspect(opened.id, found: [("FS0-\(setup.tag)", 2, .sellable, nil)])
        #expect(try await service.credit(opened.id) == 2_000)
        // Credited, it is not refunded as well.
        await #expect(throws: OrderlyError.self) { try await service.refund(opened.id) }
        func balance() async throws -> Int64 {
            try await setup.pool.withConnection { try $0.run(StoreCreditStore.balance(email: email, currency: "EUR")) }
        }
        #expect(try await balance() == 2_000)

        // Spent on a new order of 15.00; a second of 15.00 is more than what is left.
        func paidWithCredit(_ id: String) -> NewOrder {
            var new = setup.order(id, lines: [(0, 1)], token: "tok_captured")
            new.email = email
            new.lines[0].unitPriceMinor = 1_500
            new.payment = nil
            new.statedPayment = StatedPayment(
                status: .captured,
                amountMinor: 1_500,
                currency: "EUR",
                provider: StoreCredit.provider,
                reference: "credit:\(id)"
            )
            return new
        }
        let spent = try await setup.orders.place(paidWithCredit("spend"))
        #expect(spent.status == .reserved)
        #expect(try await balance() == 500)
        await #expect {
            try await setup.orders.place(paidWithCredit("again"))
        } throws: { error in
            (error as? OrderlyError)?.message
                == "payment: the store credit of \(email) is 5.00 EUR, less than the total 15.00 EUR"
        }
        #expect(try await balance() == 500)
        // Cancelled: the refund goes back to the credit, not to a gateway.
        _ = try await setup.orders.cancel(spent.orderID, reason: "changed mind")
        let job = try await setup.pool.query(
            "SELECT args::text FROM jobs WHERE kind = 'refund_payment' AND (args->>'order_id')::int8 = $1",
            [spent.orderID]
        ).scalar(String.self)
        let refund = try Jobs.RefundPayment.decode(job)
        _ = try await setup.payments.refund(
            refund.orderID,
            amountMinor: refund.amountMinor,
            key: refund.key,
            reason: refund.reason
        )
        #expect(try await balance() == 2_000)
        let entries = try await setup.pool.query(
            "SELECT reason || ':' || amount_minor FROM store_credit_entries WHERE email = $1 ORDER BY id",
            [email]
        ).map { try $0.decode(String.self, at: 0) }
        #expect(entries == ["return:2000", "order:-1500", "refund:1500"])
        #expect(try await setup.check() == [])
    }
}

extension ReturnTests {
    @Test func aLowValueLineIsRefundedWithoutItsReturnByPolicy() async throws {
        let setup = try await Setup.make(stock: [[10, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let keep = try await channel(setup, "keep") { $0.keepItemLimitMinor = 1_000 }
        let order = try await shipped(setup, "keep", units: 2, channel: keep)
        // Two units are 20.00, over the limit of 10.00: refused, nothing changed.
        await #expect {
            try await service.open(
                orderID: order,
                units: ["FS0-\(setup.tag)": 2],
                reason: .damaged,
                note: nil,
                keepItem: true
            )
        } throws: { error in
            (error as? OrderlyError)?.message
                == "keep_item: FS0-\(setup.tag): 20.00 EUR is over the channel's limit of 10.00 EUR"
        }
        let shelf = try await onHand(setup)
        let kept = try await service.open(
            orderID: order,
            units: ["FS0-\(setup.tag)": 1],
            reason: .damaged,
            note: "arrived broken",
            keepItem: true
        )
        #expect(kept.status == .inspected && kept.trackingNumber == nil)
        #expect(try await onHand(setup) == shelf)
        #expect(try await service.refund(kept.id) == 1_000)
        #expect(try await setup.status(order) == "partially_returned")
        #expect(try await setup.check() == [])
    }
}

extension ReturnTests {
    @Test func anExchangeAtTheDifferenceWaitsForItsPayment() async throws {
        let setup = try await Setup.make(stock: [[10, 10], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let order = try await shipped(setup, "upgrade", units: 1)
        let opened = try await service.open(orderID: order, units: ["FS0-\(setup.tag)": 1], reason: .sizeFit, note: nil)
        _ = try await service.receive(opened.id, warehouse: setup.warehouses[0])
        _ = try await service.inspect(opened.id, found: [("FS0-\(setup.tag)", 1, .sellable, nil)])
        let upgrade = try await service.exchange(
            opened.id,
            replacement: ["FS1-\(setup.tag)": 2],
            difference: ["FS1-\(setup.tag)": 250]
        )
        let new = try await setup.orders.order(upgrade.orderID)
        #expect(new.totalMinor == 500 && new.paymentStatus == .pending)
        #expect(upgrade.status == .reserved)
        let told = try await setup.pool.query(
            "SELECT body FROM notifications WHERE order_id = $1 AND kind = 'order_updated'",
            [order]
        ).scalar(String.self)
        #expect(told.contains("2 × FS1-\(setup.tag)"))
        #expect(try await setup.check() == [])
    }
}

extension ReturnTests {
    @Test func aUnitHeldForReviewIsRestockedOrScrappedWhenAPersonDecides() async throws {
        let setup = try await Setup.make(stock: [[10, 0], [0, 0]])
        defer { Task { await setup.pool.close() } }
        let service = returns(setup)
        let order = try await shipped(setup, "review", units: 3)
        let opened = try await service.open(orderID: order, units: ["FS0-\(setup.tag)": 3], reason: .other, note: nil)
        _ = try await service.receive(opened.id, warehouse: setup.warehouses[0])
        let shelf = try await onHand(setup)
        _ = try await service.inspect(opened.id, found: [("FS0-\(setup.tag)", 3, .review, nil)])
        // Held: arrived, not in stock; they count for the refund and the order.
        #expect(try await onHand(setup) == shelf)
        #expect(try await setup.status(order) == "returned")
        await #expect {
            try await service.decide(opened.id, decisions: [("FS0-\(setup.tag)", 4, .restock)])
        } throws: { error in
            (error as? OrderlyError)?.message == "lines: FS0-\(setup.tag): 4 decided, 3 held for review"
        }
        _ = try await service.decide(
            opened.id,
            decisions: [("FS0-\(setup.tag)", 2, .restock), ("FS0-\(setup.tag)", 1, .scrap)]
        )
        #expect(try await onHand(setup) == shelf + 2)
        let rows = try await setup.pool.query(
            "SELECT reason, on_hand_delta FROM inventory_ledger WHERE order_id = $1 AND reason IN ('return', 'scrap') ORDER BY id",
            [order]
        ).map { "\(try $0.decode(String.self, at: 0)):\(try $0.decode(Int64.self, at: 1))" }
        #expect(rows == ["return:3", "scrap:-1"])
        // Nothing left to decide; the refund counts all three.
        await #expect(throws: OrderlyError.self) {
            try await service.decide(opened.id, decisions: [("FS0-\(setup.tag)", 1, .restock)])
        }
        #expect(try await service.refund(opened.id) == 3_000)
        #expect(try await setup.check() == [])
    }
}

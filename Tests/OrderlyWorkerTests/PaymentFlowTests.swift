import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import OrderlyWorker
import Synchronization
import Testing

/// Grants every request but the captures of one amount: those wait until the test opens the gate,
/// then are declined. The test learns by `waiting` that one has arrived.
final class GatedGateway: PaymentGateway {
    let name = "gated"
    let gatedAmount: Int64
    private let state = Mutex<(waiting: Int, open: Bool)>((0, false))

    init(gatedAmount: Int64) { self.gatedAmount = gatedAmount }

    var waiting: Int { state.withLock { $0.waiting } }
    func open() { state.withLock { $0.open = true } }

    func perform(_ request: GatewayRequest) async throws -> GatewayReceipt {
        guard request.operation == .capture, request.amount.minorUnits == gatedAmount else {
            return GatewayReceipt(reference: "gated:\(request.idempotencyKey)")
        }
        state.withLock { $0.waiting += 1 }
        while !state.withLock({ $0.open }) { try await Task.sleep(for: .milliseconds(20)) }
        throw GatewayFailure.declined("gated")
    }
}

/// Capture at shipment, declines and timeouts, captures that fail for good and cancels that void the
/// rest, through an in-process worker with the standard handlers and the scripted test gateway.
@Suite(.migratedDatabase, .serialized)
struct PaymentFlowTests {
    /// SKU 0 only in Munich, SKU 1 only in Hamburg: an order of both ships in two parcels.
    static func setup(timeout: Double = 600) async throws -> (FulfillmentFlowTests.Setup, ScriptedGateway) {
        let gateway = ScriptedGateway()
        let setup = try await FulfillmentFlowTests.Setup.make(
            stock: [[10, 0], [0, 10]],
            gateway: gateway,
            gatewayTimeoutSeconds: timeout
        )
        return (setup, gateway)
    }

    /// An order of one SKU 0 (1,000) and two SKU 1 (2,000) with 490 shipping, 3,490 in all, whose
    /// storefront authorized it with `reference` (the test gateway's script).
    func order(_ setup: FulfillmentFlowTests.Setup, _ id: String, reference: String) -> NewOrder {
        var order = setup.order(id, lines: [(0, 1), (1, 2)])
        order.shippingMinor = 490
        order.payment = nil
        order.statedPayment = StatedPayment(
            status: .authorized,
            amountMinor: 3_490,
            currency: "EUR",
            provider: "psp",
            reference: reference
        )
        return order
    }

    /// One parcel: one SKU 0 (1,000) and 490 shipping, 1,490 in all, authorized with `reference`.
    func oneParcel(_ setup: FulfillmentFlowTests.Setup, _ id: String, reference: String) -> NewOrder {
        var single = order(setup, id, reference: reference)
        single.lines = [NewOrderLine(skuCode: "FS0-\(setup.tag)", quantity: 1, unitPriceMinor: 1_000)]
        single.statedPayment?.amountMinor = 1_490
        return single
    }

    func captures(
        _ setup: FulfillmentFlowTests.Setup,
        _ orderID: Int64
    ) async throws -> [(shipment: Int64, amount: Int64)] {
        try await setup.pool.query(
            """
            SELECT shipment_id, amount_minor FROM payments
            WHERE order_id = $1 AND kind = 'capture' AND status = 'succeeded' ORDER BY shipment_id
            """,
            [orderID]
        ).map { (try $0.decode(Int64.self, at: 0), try $0.decode(Int64.self, at: 1)) }
    }

    @Test func twoParcelsCaptureTheirSharesAndTheSharesAreTheTotal() async throws {
        let (setup, gateway) = try await Self.setup()
        defer { Task { await setup.pool.close() } }
        let placed = try await setup.orders.place(order(setup, "two", reference: "pi_two"))
        #expect(placed.plan?.shipments.count == 2)
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let status = try await setup.waitFor(placed.orderID, "shipped")
        let errors = try await setup.jobErrors()
        #expect(status == "shipped", "\(errors)")
        let captured = try await captures(setup, placed.orderID)
        #expect(captured.count == 2)
        #expect(captured.map(\.amount).reduce(0, +) == 3_490)
        // Each parcel's share is its goods' part of the total, the remainder on the one that shipped last.
        #expect(Set(captured.map(\.amount)).isSubset(of: [1_163, 2_327, 1_164, 2_326]), "\(captured)")
        #expect(gateway.granted.count == 2)
        let balance = try await PaymentService(database: setup.database, actor: "test").balance(placed.orderID)
        #expect(balance.captured == 3_490 && balance.outstanding == 0 && balance.capturable == 0)
        #expect(try await setup.orders.order(placed.orderID).paymentStatus == .captured)
        // Each capture is an order event; each ship came after its own capture.
        let events = try await setup.orders.events(placed.orderID).map(\.event)
        #expect(events.filter { $0 == "payment_captured" }.count == 2)
        #expect(try await setup.check() == [])
        worker.shutdown()
        try await running.value
    }

    @Test func aCaptureDeclinedTwiceThenGrantedIsOneCaptureAndOneShipment() async throws {
        let (setup, gateway) = try await Self.setup()
        defer { Task { await setup.pool.close() } }
        let placed = try await setup.orders.place(oneParcel(setup, "flaky", reference: "pi_flaky capture_declines:2"))
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let status = try await setup.waitFor(placed.orderID, "shipped")
        let errors = try await setup.jobErrors()
        #expect(status == "shipped", "\(errors)")
        #expect(try await captures(setup, placed.orderID).map(\.amount) == [1_490])
        #expect(gateway.granted.count == 1)
        let attempts = try await setup.pool.query(
            "SELECT attempt FROM jobs WHERE kind = 'capture' AND (args->>'order_id')::int8 = $1",
            [placed.orderID]
        ).scalar(Int32.self)
        #expect(attempts == 3)
        #expect(
            try await setup.pool.query(
                "SELECT count(*) FROM inventory_ledger WHERE order_id = $1 AND reason = 'ship'",
                [placed.orderID]
            ).scalar(Int64.self) == 1
        )
        worker.shutdown()
        try await running.value
    }

    @Test func aCaptureWhoseAnswerIsLostIsTakenOnce() async throws {
        // The first attempt never answers (the provider took the money): the deadline ends it, and the
        // retry, with the same key, is answered from the provider's record.
        let (setup, gateway) = try await Self.setup(timeout: 0.5)
        defer { Task { await setup.pool.close() } }
        let placed = try await setup.orders.place(oneParcel(setup, "lost", reference: "pi_lost capture_hangs:1"))
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let status = try await setup.waitFor(placed.orderID, "shipped")
        let errors = try await setup.jobErrors()
        #expect(status == "shipped", "\(errors)")
        #expect(errors.contains { $0.contains("no answer from the payment provider") }, "\(errors)")
        #expect(try await captures(setup, placed.orderID).map(\.amount) == [1_490])
        #expect(gateway.granted.count == 1)
        worker.shutdown()
        try await running.value
    }

    @Test func aCaptureThatFailsForGoodHoldsTheOrderShipsNothingAndANewAuthorizationResumesIt() async throws {
        let (setup, _) = try await Self.setup()
        defer { Task { await setup.pool.close() } }
        let placed = try await setup.orders.place(
            oneParcel(setup, "dead", reference: "pi_dead capture_declines:always")
        )
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let status = try await setup.waitFor(placed.orderID, "on_hold")
        let errors = try await setup.jobErrors()
        #expect(status == "on_hold", "\(errors)")
        let held = try await setup.orders.order(placed.orderID)
        #expect(held.holdReason == .paymentFailed)
        #expect(try await captures(setup, placed.orderID).isEmpty)
        let shipment = try await setup.pool.query(
            "SELECT status FROM shipments WHERE order_id = $1",
            [placed.orderID]
        ).scalar(String.self)
        #expect(shipment == "labelled")
        #expect(
            try await setup.pool.query(
                "SELECT status FROM payment_intents WHERE order_id = $1 AND operation = 'capture'",
                [placed.orderID]
            ).scalar(String.self) == "failed"
        )
        #expect(
            try await setup.pool.query(
                "SELECT count(*) FROM notifications WHERE order_id = $1 AND kind = 'payment_failed' AND recipient = 'operations'",
                [placed.orderID]
            ).scalar(Int64.self) == 1
        )
        // The customer authorizes again: the order resumes where it stopped and the parcel ships.
        let payments = PaymentService(database: setup.database, actor: "test", components: setup.orders.components)
        let resumed = try await payments.record(
            placed.orderID,
            verdict: PaymentVerdict(status: .authorized, provider: "psp", reference: "pi_dead_again"),
            amountMinor: nil
        )
        #expect(resumed.status == .packed)
        let shipped = try await setup.waitFor(placed.orderID, "shipped")
        let errorsAfter = try await setup.jobErrors()
        #expect(shipped == "shipped", "\(errorsAfter)")
        #expect(try await captures(setup, placed.orderID).map(\.amount) == [1_490])
        #expect(try await setup.check() == [])
        worker.shutdown()
        try await running.value
    }

    @Test func cancellingAfterAPartialShipmentVoidsWhatWillNotShip() async throws {
        let (setup, _) = try await Self.setup()
        defer { Task { await setup.pool.close() } }
        // Hamburg's picker must confirm: its parcel waits while Munich's ships.
        try await setup.pool.query(
            "UPDATE warehouses SET pick_confirmation = 'scanner' WHERE id = $1",
            [setup.warehouses[1]]
        )
        let placed = try await setup.orders.place(order(setup, "part", reference: "pi_part"))
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let partial = try await setup.waitFor(placed.orderID, "partially_shipped")
        let errors = try await setup.jobErrors()
        #expect(partial == "partially_shipped", "\(errors)")
        let cancelled = try await setup.orders.cancel(placed.orderID, reason: "customer changed their mind")
        #expect(cancelled.status == .shipped)
        let voided: Int64? = try await waitForValue {
            try await setup.pool.query(
                "SELECT amount_minor FROM payments WHERE order_id = $1 AND kind = 'void' AND status = 'succeeded'",
                [placed.orderID]
            ).first?.decode(Int64.self, at: 0)
        }
        let captured = try await captures(setup, placed.orderID).map(\.amount).reduce(0, +)
        #expect(captured == 1_163)  // Munich's 1,000 of 3,000 goods: a third of 3,490
        #expect(voided == Int64(3_490 - 1_163))
        let balance = try await PaymentService(database: setup.database, actor: "test").balance(placed.orderID)
        #expect(balance.capturable == 0 && balance.captured == 1_163 && balance.voided == 2_327)
        #expect(try await setup.orders.order(placed.orderID).paymentStatus == .captured)
        #expect(try await setup.check() == [])
        worker.shutdown()
        try await running.value
    }

    @Test func aWebhooksVerdictPaysTheOrderAndItsRedeliveryChangesNothing() async throws {
        let (setup, _) = try await Self.setup()
        defer { Task { await setup.pool.close() } }
        var unpaid = order(setup, "hook", reference: "pi_hook")
        unpaid.lines = [NewOrderLine(skuCode: "FS0-\(setup.tag)", quantity: 1, unitPriceMinor: 1_000)]
        unpaid.statedPayment = StatedPayment(
            status: .pending,
            amountMinor: nil,
            currency: nil,
            provider: "psp",
            reference: "pi_hook"
        )
        let placed = try await setup.orders.place(unpaid)
        #expect(placed.status == .reserved)
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let verdict = Jobs.PaymentVerdictArrived.Arguments(
            orderID: placed.orderID,
            status: "authorized",
            provider: "psp",
            reference: "pi_hook"
        )
        func deliver() async throws -> Int64? {
            try await setup.pool.withConnection { try JobQueue.enqueue($0, Jobs.PaymentVerdictArrived.self, verdict) }
        }
        let first = try #require(try await deliver())
        let status = try await setup.waitFor(placed.orderID, "shipped")
        let errors = try await setup.jobErrors()
        #expect(status == "shipped", "\(errors)")
        #expect(try await captures(setup, placed.orderID).map(\.amount) == [1_490])
        // The provider delivers the webhook again, after the first was done: recorded once.
        let again = try #require(try await deliver())
        #expect(again != first)
        let done: Bool? = try await waitForValue {
            try await setup.pool.query("SELECT state = 'completed' FROM jobs WHERE id = $1", [again]).scalar(Bool.self)
                ? true : nil
        }
        #expect(done == true)
        let authorizations = try await setup.pool.query(
            "SELECT count(*) FROM payments WHERE order_id = $1 AND kind = 'authorization' AND status = 'succeeded'",
            [placed.orderID]
        ).scalar(Int64.self)
        #expect(authorizations == 1)
        #expect(try await setup.check() == [])
        worker.shutdown()
        try await running.value
    }

    @Test func aCaptureInFlightWhenTheOrderIsCancelledIsGivenUpAndItsShareVoided() async throws {
        // Hamburg's parcel (2,000 of the 3,000 goods: 2,327 of 3,490 once Munich's 1,163 is taken) is
        // being captured when the order is cancelled: the cancel's void leaves its share to it; when it
        // gives up, that share is voided.
        let gateway = GatedGateway(gatedAmount: 2_327)
        let setup = try await FulfillmentFlowTests.Setup.make(stock: [[10, 0], [0, 10]], gateway: gateway)
        defer { Task { await setup.pool.close() } }
        // Hamburg's picker confirms by hand: its parcel waits until Munich's has shipped.
        try await setup.pool.query(
            "UPDATE warehouses SET pick_confirmation = 'scanner' WHERE id = $1",
            [setup.warehouses[1]]
        )
        let placed = try await setup.orders.place(order(setup, "inflight", reference: "pi_inflight"))
        let worker = setup.worker()
        let running = Task { try await worker.run() }
        let partial = try await setup.waitFor(placed.orderID, "partially_shipped")
        let list: Int64? = try await waitForValue {
            try await setup.pool.query(
                "SELECT id FROM pick_lists WHERE warehouse_id = $1 AND status = 'in_progress'",
                [setup.warehouses[1]]
            ).first?.decode(Int64.self, at: 0)
        }
        let errors = try await setup.jobErrors()
        let listID = try #require(list, "\(partial) \(errors)")
        _ = try await setup.fulfillment.confirmPickList(listID, picked: [:])
        let arrived: Bool? = try await waitForValue { gateway.waiting > 0 ? true : nil }
        #expect(arrived == true)
        let cancelled = try await setup.orders.cancel(placed.orderID, reason: "changed their mind")
        #expect(cancelled.status == .shipped)
        gateway.open()
        let voided: Int64? = try await waitForValue {
            let sum = try await setup.pool.query(
                "SELECT coalesce(sum(amount_minor), 0)::int8 FROM payments WHERE order_id = $1 AND kind = 'void'",
                [placed.orderID]
            ).scalar(Int64.self)
            return sum == 2_327 ? sum : nil
        }
        let errorsAfter = try await setup.jobErrors()
        #expect(voided == 2_327, "\(errorsAfter)")
        let balance = try await PaymentService(database: setup.database, actor: "test").balance(placed.orderID)
        #expect(balance.captured == 1_163 && balance.voided == 2_327 && balance.capturable == 0)
        #expect(try await setup.orders.order(placed.orderID).paymentStatus == .captured)
        #expect(try await setup.check() == [])
        worker.shutdown()
        try await running.value
    }
}

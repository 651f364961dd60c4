import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

@Suite(.migratedDatabase)
struct OrderServiceTests {
    func fixture(
        policy: OrderPolicy = .standard,
        stock: [[Int64]] = [[10, 10], [10, 10], [10, 10]]
    ) async throws -> OrderFixture {
        try await OrderFixture.make(
            TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 4)),
            policy: policy,
            stock: stock
        )
    }

    @Test func placingReservesFromTheNearestWarehouseAndWritesItAll() async throws {
        let f = try await fixture()
        let outcome = try await f.orders.place(f.newOrder("a", lines: [(0, 2), (1, 1)]))
        #expect(outcome.status == .reserved)
        #expect(!outcome.replayed)
        #expect(outcome.unitsReserved == 3)
        // Munich is the closest complete warehouse.
        #expect(outcome.plan?.shipments.map(\.warehouseID) == [f.warehouses[2]])
        #expect(try await f.stock(2, 0) == (10, 2))
        #expect(try await f.stock(2, 1) == (10, 1))
        #expect(try await f.stock(0, 0) == (10, 0))

        let id = outcome.orderID
        #expect(try await f.eventNames(id) == ["capture", "reserve"])
        let order = try await f.orders.order(id)
        #expect(order.lines.map(\.reserved) == [2, 1])
        #expect(order.totalMinor == 2 * 1_999 + 1_999 + 490)
        #expect(order.paymentStatus == .authorized)
        #expect(
            try await f.count("SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'active'", [id]) == 2
        )
        #expect(
            try await f.count("SELECT count(*) FROM inventory_ledger WHERE order_id = $1 AND reason = 'reserve'", [id])
                == 2
        )
        #expect(try await f.count("SELECT count(*) FROM routing_decisions WHERE order_id = $1", [id]) == 1)
        // Shipments are the worker's to build at pick time; the reservation enqueues a pick per warehouse.
        #expect(try await f.count("SELECT count(*) FROM shipments WHERE order_id = $1", [id]) == 0)
        #expect(
            try await f.count("SELECT count(*) FROM jobs WHERE kind = 'pick' AND (args->>'order_id')::int8 = $1", [id])
                == 1
        )
        #expect(
            try await f.count(
                "SELECT count(*) FROM notifications WHERE order_id = $1 AND kind = 'order_confirmed'",
                [id]
            ) == 1
        )
        #expect(
            try await f.count("SELECT count(*) FROM payments WHERE order_id = $1 AND status = 'succeeded'", [id]) == 1
        )
        let decision = try await f.pool.query(
            "SELECT strategy, rule, jsonb_array_length(candidates) FROM routing_decisions WHERE order_id = $1",
            [id]
        )
        #expect(try decision[0].decode(String.self, at: 0) == "nearest>split")
        #expect(try decision[0].decode(String.self, at: 1).contains("nearest"))
        #expect(try decision[0].decode(Int32.self, at: 2) == 3)
    }

    @Test func placingTakesThreeRoundTrips() async throws {
        let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 1))
        let f = try await OrderFixture.make(pool)
        let before = try await pool.withConnection { $0.roundTrips }
        _ = try await f.orders.place(f.newOrder("rt", lines: [(0, 1), (1, 1)]))
        let after = try await pool.withConnection { $0.roundTrips }
        // The two `withConnection` reads of the counter send nothing.
        #expect(after - before == 3)
    }

    @Test func capturingTwiceReturnsTheFirstOrder() async throws {
        let f = try await fixture()
        let first = try await f.orders.place(f.newOrder("dup", lines: [(0, 1)]))
        var again = f.newOrder("dup", lines: [(0, 5)])
        again.email = "someone-else@example.com"
        let second = try await f.orders.place(again)
        #expect(second.replayed)
        #expect(second.orderID == first.orderID)
        #expect(second.status == .reserved)
        #expect(try await f.stock(2, 0).reserved == 1)
        #expect(try await f.count("SELECT count(*) FROM orders WHERE external_id = $1", ["dup-\(f.tag)"]) == 1)
        // The same id on another channel is another order.
        let other = try await f.orders.place(f.newOrder("dup", channel: .phone, lines: [(0, 1)]))
        #expect(other.orderID != first.orderID)
    }

    @Test(arguments: [
        ("no lines", "BAD_ARG", "no lines"),
        ("zero quantity", "BAD_ARG", "quantity 0"),
        ("absurd quantity", "BAD_ARG", "over the limit"),
        ("duplicate line", "BAD_ARG", "repeats SKU"),
        ("unknown sku", "NOT_FOUND", "unknown SKU"),
        ("missing city", "BAD_ARG", "ship_city is missing"),
        ("bad country", "BAD_ARG", "ship_country"),
        ("unsupported currency", "BAD_ARG", "currency XTS is not supported"),
        ("not a currency", "BAD_ARG", "not an ISO 4217"),
        ("price overflow", "BAD_ARG", "price overflow"),
        ("subtotal overflow", "BAD_ARG", "price overflow"),
        ("negative price", "BAD_ARG", "unit price"),
        ("discount too big", "BAD_ARG", "discount"),
        ("empty external id", "BAD_ARG", "external_id is missing"),
        ("bad email", "BAD_ARG", "email"),
        ("risk out of range", "BAD_ARG", "risk_score"),
    ])
    func badOrdersAreRefusedPreciselyAndStoreNothing(label: String, code: String, message: String) async throws {
        let f = try await fixture()
        let order = f.newOrder("bad") { order in
            switch label {
            case "no lines": order.lines = []
            case "zero quantity": order.lines[0].quantity = 0
            case "absurd quantity": order.lines[0].quantity = 5_000_000
            case "duplicate line": order.lines.append(order.lines[0])
            case "unknown sku": order.lines[0].skuCode = "NOPE-\(f.tag)"
            case "missing city": order.shipTo.city = "  "
            case "bad country": order.shipTo.country = "Germany"
            case "unsupported currency": order.currency = "XTS"
            case "not a currency": order.currency = "euro"
            case "price overflow":
                order.lines[0].unitPriceMinor = 9_500_000_000_000
                order.lines[0].quantity = 1_000_000
            case "subtotal overflow":
                order.lines = [
                    NewOrderLine(skuCode: f.skuCodes[0], quantity: 1_000_000, unitPriceMinor: 5_000_000_000_000),
                    NewOrderLine(skuCode: f.skuCodes[1], quantity: 1_000_000, unitPriceMinor: 5_000_000_000_000),
                ]
            case "negative price": order.lines[0].unitPriceMinor = -1
            case "discount too big": order.discountMinor = 1_000_000
            case "empty external id": order.externalID = ""
            case "bad email": order.email = "not an email"
            case "risk out of range": order.riskScore = 101
            default: Issue.record("no case for \(label)")
            }
        }
        let error = try await #require(throws: OrderlyError.self) { try await f.orders.place(order) }
        #expect(error.code.description == code, "\(error)")
        #expect(error.message.contains(message), "\(error)")
        #expect(try await f.count("SELECT count(*) FROM orders WHERE external_id = $1", [order.externalID]) == 0)
        #expect(try await f.stock(2, 0).reserved == 0)
    }

    @Test func holdRulesHoldWithTypedReasonsAndHeldOrdersAreNeverRouted() async throws {
        let f = try await fixture()
        let cases: [(String, HoldReason, (inout NewOrder) -> Void)] = [
            ("review", .manual, { $0.reviewRequested = true }),
            ("declined", .paymentFailed, { $0.payment = PaymentDetails(method: "card", token: "tok_declined") }),
            ("nopostal", .addressIncomplete, { $0.shipTo.postalCode = nil }),
            ("mismatch", .addressMismatch, { $0.billingCountry = "FR" }),
            ("risky", .highRisk, { $0.riskScore = 95 }),
            (
                "big", .highValue,
                {
                    $0.lines[0].unitPriceMinor = 600_000
                    $0.lines[0].quantity = 2
                }
            ),
            (
                "unpaid-marketplace", .paymentPending,
                {
                    $0.channel = .marketplace
                    $0.payment = nil
                }
            ),
        ]
        for (name, reason, edit) in cases {
            let outcome = try await f.orders.place(f.newOrder(name, edit: edit))
            #expect(outcome.status == .onHold, "\(name)")
            #expect(outcome.holdReason == reason, "\(name)")
            #expect(!outcome.holdFindings.isEmpty)
            #expect(try await f.eventNames(outcome.orderID) == ["capture", "hold"], "\(name)")
            #expect(
                try await f.count("SELECT count(*) FROM reservations WHERE order_id = $1", [outcome.orderID]) == 0,
                "\(name)"
            )
            let stored = try await f.orders.order(outcome.orderID)
            #expect(stored.holdReason == reason)
        }
        // Reserving a held order is refused and changes nothing.
        let held = try await f.orders.order(channel: .web, externalID: "review-\(f.tag)")
        await #expect(throws: IllegalTransition(from: .onHold, event: .reserve)) {
            try await f.orders.reserve(orderID: held.id)
        }
    }

    @Test func releaseAndReevaluationAreExplicitAndAudited() async throws {
        let f = try await fixture()
        // A manual review stays held on re-evaluation; release lifts it and reserves.
        let review = try await f.orders.place(f.newOrder("rv") { $0.reviewRequested = true })
        let again = try await f.orders.reevaluate(review.orderID)
        #expect(again.status == .onHold && again.holdReason == .manual)
        let released = try await f.orders.release(review.orderID, note: "called the customer")
        #expect(released.status == .reserved)
        let events = try await f.moves(review.orderID)
        #expect(events.map(\.event) == ["capture", "hold", "hold", "release", "reserve"])
        #expect(events[3].reason == "released: called the customer")
        #expect(events.allSatisfy { $0.actor == "test" })

        // A declined payment, then an authorization: re-evaluation releases and reserves.
        let declined = try await f.orders.place(f.newOrder("pf", token: "tok_declined"))
        #expect(declined.holdReason == .paymentFailed)
        let paid = try await f.payments.record(
            declined.orderID,
            verdict: PaymentVerdict(status: .authorized, provider: "builtin", reference: "ref-1"),
            amountMinor: nil
        )
        #expect(paid.status == .reserved)
        #expect(
            try await f.orders.events(declined.orderID).map(\.event) == [
                "capture", "payment_failed", "hold", "payment_authorized", "release", "reserve",
            ]
        )
        #expect(try await f.orders.order(declined.orderID).paymentStatus == .authorized)

        // Bad input changes nothing.
        await #expect(throws: OrderlyError.self) { try await f.orders.hold(paid.orderID, note: "  ") }
        await #expect(throws: OrderlyError.self) { try await f.orders.reevaluate(999_999_999) }
        await #expect(throws: IllegalTransition.self) { try await f.orders.reevaluate(paid.orderID) }
    }

    @Test func splitWhenNoWarehouseHoldsEverything() async throws {
        let f = try await fixture(stock: [[0, 3], [2, 0], [0, 0]])
        let outcome = try await f.orders.place(f.newOrder("split", lines: [(0, 2), (1, 3)]))
        #expect(outcome.status == .reserved)
        #expect(Set(outcome.plan?.shipments.map(\.warehouseID) ?? []) == [f.warehouses[0], f.warehouses[1]])
        #expect(outcome.plan?.rule.contains("fallback") == true)
        #expect(
            try await f.count(
                "SELECT count(*) FROM jobs WHERE kind = 'pick' AND (args->>'order_id')::int8 = $1",
                [outcome.orderID]
            ) == 2
        )
    }

    @Test func shortStockIsBackorderedOrRejectedPerChannel() async throws {
        let f = try await fixture(stock: [[1, 0], [1, 0], [0, 0]])
        // Web backorders what is missing.
        let web = try await f.orders.place(f.newOrder("bo", lines: [(0, 3), (1, 1)]))
        #expect(web.status == .partiallyReserved)
        #expect(web.unitsReserved == 2)
        #expect(web.shortage == [f.skus[0]: 1, f.skus[1]: 1])
        let order = try await f.orders.order(web.orderID)
        #expect(order.lines.map(\.reserved) == [2, 0])
        #expect(order.lines.map(\.backordered) == [1, 1])
        // Nothing left: a web order is backordered whole.
        let nothing = try await f.orders.place(f.newOrder("bo2", lines: [(0, 1)]))
        #expect(nothing.status == .backordered)
        #expect(try await f.eventNames(nothing.orderID) == ["capture", "backorder"])
        // A marketplace rejects: captured, cancelled at once with the shortage as reason, nothing kept.
        let market = try await f.orders.place(f.newOrder("mp", channel: .marketplace, lines: [(1, 1)]))
        #expect(market.status == .cancelled)
        let events = try await f.moves(market.orderID)
        #expect(events.map(\.event) == ["capture", "cancel"])
        #expect(events[1].reason?.contains("insufficient stock") == true)
        #expect(try await f.orders.order(market.orderID).lines.map(\.cancelled) == [1])

        // Stock arrives: the backorder is reserved by a second reservation.
        try await f.inventory.receive(warehouse: f.warehouses[2], sku: f.skus[0], quantity: 5)
        try await f.inventory.receive(warehouse: f.warehouses[2], sku: f.skus[1], quantity: 5)
        let filled = try await f.orders.reserve(orderID: web.orderID)
        #expect(filled.status == .reserved)
        #expect(try await f.orders.order(web.orderID).lines.map(\.backordered) == [0, 0])
        let report = try await InvariantChecker(database: f.database).run()
        #expect(report.isClean, "\(report.violations)")
    }

    @Test func cancelReleasesEverythingOnce() async throws {
        let f = try await fixture()
        let placed = try await f.orders.place(f.newOrder("c", lines: [(0, 4), (1, 2)]))
        #expect(try await f.stock(2, 0).reserved == 4)
        let cancelled = try await f.orders.cancel(placed.orderID, reason: "customer changed their mind")
        #expect(cancelled.status == .cancelled)
        #expect(try await f.stock(2, 0) == (10, 0))
        #expect(try await f.stock(2, 1) == (10, 0))
        #expect(
            try await f.count(
                "SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'released'",
                [placed.orderID]
            ) == 2
        )
        #expect(
            try await f.count(
                "SELECT count(*) FROM jobs WHERE kind = 'pick' AND state = 'cancelled' AND (args->>'order_id')::int8 = $1",
                [placed.orderID]
            ) == 1
        )
        #expect(try await f.orders.order(placed.orderID).lines.map(\.cancelled) == [4, 2])
        // A second cancel is an illegal transition and changes nothing.
        await #expect(throws: IllegalTransition(from: .cancelled, event: .cancel)) {
            try await f.orders.cancel(placed.orderID, reason: "again")
        }
        #expect(try await f.eventNames(placed.orderID) == ["capture", "reserve", "cancel"])
        await #expect(throws: OrderlyError.self) { try await f.orders.cancel(987_654_321, reason: "x") }
    }

    @Test func unpaidReservationsExpireAndComeBackWithPayment() async throws {
        let f = try await fixture()
        let placed = try await f.orders.place(f.newOrder("unpaid", token: "tok_pending"))
        #expect(placed.status == .reserved)
        #expect(
            try await f.count(
                "SELECT count(*) FROM reservations WHERE order_id = $1 AND expires_at > now()",
                [placed.orderID]
            ) == 1
        )
        // No pick job while unpaid.
        #expect(
            try await f.count(
                "SELECT count(*) FROM jobs WHERE kind = 'pick' AND (args->>'order_id')::int8 = $1",
                [placed.orderID]
            ) == 0
        )
        // Time passes.
        try await f.pool.query(
            "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE order_id = $1",
            [placed.orderID]
        )
        var expired = 0
        while try await f.orders.expireUnpaidReservations() > 0 { expired += 1 }
        #expect(expired >= 1)
        let held = try await f.orders.order(placed.orderID)
        #expect(held.status == .onHold && held.holdReason == .paymentPending)
        #expect(held.unitsReserved == 0)
        #expect(try await f.stock(2, 0).reserved == 0)
        #expect(
            try await f.count(
                "SELECT count(*) FROM inventory_ledger WHERE order_id = $1 AND reason = 'expire'",
                [placed.orderID]
            ) == 1
        )
        // The payment arrives: re-evaluated, reserved again, picks released.
        let paid = try await f.payments.record(
            placed.orderID,
            verdict: PaymentVerdict(status: .captured, provider: "builtin", reference: "ref-2"),
            amountMinor: nil
        )
        #expect(paid.status == .reserved)
        #expect(
            try await f.count(
                "SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'active' AND expires_at IS NULL",
                [placed.orderID]
            ) == 1
        )
        #expect(
            try await f.count(
                "SELECT count(*) FROM jobs WHERE kind = 'pick' AND (args->>'order_id')::int8 = $1",
                [placed.orderID]
            ) == 1
        )
        #expect(try await f.eventNames(placed.orderID) == ["capture", "reserve", "hold", "release", "reserve"])
    }

    @Test func previewShowsEveryStrategyAndReservesNothing() async throws {
        let f = try await fixture(stock: [[5, 5], [5, 0], [0, 5]])
        let held = try await f.orders.place(f.newOrder("pv", lines: [(0, 2), (1, 2)]) { $0.reviewRequested = true })
        let plans = try await f.orders.preview(held.orderID)
        let byName = Dictionary(uniqueKeysWithValues: plans.map { ($0.name, $0.plan) })
        #expect(byName["nearest"]??.shipments.map(\.warehouseID) == [f.warehouses[0]])
        #expect(byName["priority"]??.shipments.count == 1)
        #expect(byName["split"]??.shipments.count == 1)
        #expect(byName["nearest>split"] != nil)
        #expect(try await f.count("SELECT count(*) FROM reservations WHERE order_id = $1", [held.orderID]) == 0)
        await #expect(throws: (any Error).self) { try await f.orders.preview(held.orderID, strategies: ["fastest"]) }
    }
}

import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Payments recorded from outside, stated at capture, refunded, and the money invariant held by the
/// database whoever writes.
@Suite(.migratedDatabase)
struct PaymentServiceTests {
    func fixture(gateway: any PaymentGateway = RecordingGateway()) async throws -> OrderFixture {
        try await OrderFixture.make(
            TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 6)),
            gateway: gateway
        )
    }

    func stated(_ f: OrderFixture, _ id: String, _ status: PaymentStatus, reference: String? = nil) -> NewOrder {
        f.newOrder(id, token: nil) {
            $0.statedPayment = StatedPayment(
                status: status,
                amountMinor: nil,
                currency: nil,
                provider: "shopify",
                reference: reference ?? "pi_\(id)_\(f.tag)"
            )
        }
    }

    @Test func aPaymentStatedAtCaptureIsTheVerdictAndItsEvent() async throws {
        let f = try await fixture()
        let authorized = try await f.orders.place(stated(f, "st1", .authorized))
        #expect(authorized.status == .reserved)
        let events = try await f.orders.events(authorized.orderID).map(\.event)
        #expect(events == ["capture", "payment_authorized", "reserve"])
        let balance = try await f.payments.balance(authorized.orderID)
        #expect(balance.authorized == 1_999 + 490 && balance.captured == 0 && balance.capturable == 2_489)
        // Pending on a web order reserves for a while; the provider's reference is kept for later.
        let pending = try await f.orders.place(stated(f, "st2", .pending))
        #expect(pending.status == .reserved)
        #expect(try await f.orders.order(pending.orderID).paymentStatus == .pending)
        // Captured at checkout: authorized and captured both, nothing outstanding.
        let captured = try await f.payments.balance(try await f.orders.place(stated(f, "st3", .captured)).orderID)
        #expect(captured.captured == 2_489 && captured.outstanding == 0 && captured.capturable == 0)
    }

    @Test func aStatedPaymentThatDoesNotMatchTheOrderIsRefusedAndNothingStored() async throws {
        let f = try await fixture()
        var wrongAmount = stated(f, "bad1", .authorized)
        wrongAmount.statedPayment?.amountMinor = 100
        await #expect { try await f.orders.place(wrongAmount) } throws: {
            ($0 as? OrderlyError)?.code == .badArgument && "\($0)".contains("is not the order's total 2489")
        }
        var wrongCurrency = stated(f, "bad2", .captured)
        wrongCurrency.statedPayment?.currency = "USD"
        await #expect { try await f.orders.place(wrongCurrency) } throws: {
            ($0 as? OrderlyError)?.code == .badArgument && "\($0)".contains("USD")
        }
        var noReference = stated(f, "bad3", .authorized)
        noReference.statedPayment?.reference = nil
        await #expect { try await f.orders.place(noReference) } throws: { ($0 as? OrderlyError)?.code == .badArgument }
        #expect(
            try await f.count("SELECT count(*) FROM orders WHERE external_id LIKE 'bad_-' || $1", [f.tag]) == 0
        )
    }

    @Test func aRecordedVerdictIsIdempotentOnProviderReferenceAndStatus() async throws {
        let f = try await fixture()
        let placed = try await f.orders.place(f.newOrder("rec", token: "tok_pending"))
        #expect(placed.status == .reserved)  // web reserves unpaid for a while
        let verdict = PaymentVerdict(status: .authorized, provider: "adyen", reference: "psp-\(f.tag)")
        let first = try await f.payments.record(placed.orderID, verdict: verdict, amountMinor: nil)
        #expect(!first.replayed && first.status == .reserved)
        let before = try await f.orders.events(placed.orderID).count
        let again = try await f.payments.record(placed.orderID, verdict: verdict, amountMinor: nil)
        #expect(again.replayed)
        #expect(try await f.orders.events(placed.orderID).count == before)
        #expect(
            try await f.count(
                "SELECT count(*) FROM payments WHERE order_id = $1 AND provider = 'adyen'",
                [placed.orderID]
            ) == 1
        )
        #expect(try await f.orders.order(placed.orderID).paymentStatus == .authorized)
        // An amount beyond the total is refused and records nothing.
        await #expect {
            try await f.payments.record(
                placed.orderID,
                verdict: PaymentVerdict(status: .captured, provider: "adyen", reference: "big-\(f.tag)"),
                amountMinor: 999_999
            )
        } throws: { ($0 as? OrderlyError)?.code == .badArgument }
        #expect(try await f.orders.events(placed.orderID).count == before)
    }

    @Test func aCaptureTheProviderReportsDrawsOnTheAuthorization() async throws {
        let f = try await fixture()
        let id = try await f.orders.place(stated(f, "cap", .authorized)).orderID
        // Captured in the provider's dashboard, reported by its webhook: not money on top.
        let outcome = try await f.payments.record(
            id,
            verdict: PaymentVerdict(status: .captured, provider: "shopify", reference: "ch_\(f.tag)"),
            amountMinor: nil
        )
        #expect(!outcome.replayed)
        let balance = try await f.payments.balance(id)
        #expect(balance.authorized == 2_489 && balance.captured == 2_489 && balance.capturable == 0)
        #expect(try await f.orders.order(id).paymentStatus == .captured)
        // Nothing is left for a void to release.
        #expect(try await f.payments.voidRemainder(orderID: id, attempt: 1) == 0)
    }

    @Test func refundsNeverPassWhatWasCapturedEvenConcurrently() async throws {
        let f = try await fixture()
        let order = try await f.orders.place(stated(f, "rf", .captured))
        let id = order.orderID
        // More than captured: refused, nothing written.
        await #expect { try await f.payments.refund(id, amountMinor: 2_490, key: "too-much", reason: "test") } throws: {
            ($0 as? OrderlyError)?.code == .badArgument && "\($0)".contains("2489 refundable")
        }
        #expect(try await f.count("SELECT count(*) FROM payment_intents WHERE order_id = $1", [id]) == 0)
        // Eight refunds of 1,000 at once on 2,489 captured: two pass, the others are refused.
        let passed = await withTaskGroup(of: String?.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let key = "r\(index)"
                    return (try? await f.payments.refund(id, amountMinor: 1_000, key: key, reason: "race")) != nil
                        ? key : nil
                }
            }
            return await group.reduce(into: [String]()) { if let key = $1 { $0.append(key) } }
        }
        #expect(passed.count == 2)
        let balance = try await f.payments.balance(id)
        #expect(balance.refunded == 2_000 && balance.refundable == 489 && balance.refunding == 0)
        #expect(try await f.orders.order(id).paymentStatus == .partiallyRefunded)
        // The same key as a refund that passed is the same refund: nothing more.
        let replay = try await f.payments.refund(
            id,
            amountMinor: 1_000,
            key: try #require(passed.first),
            reason: "race"
        )
        #expect(replay.refunded == 2_000)
        let customer = try await f.count(
            "SELECT count(*) FROM notifications WHERE order_id = $1 AND kind = 'refund_issued'",
            [id]
        )
        #expect(customer == 2)
        #expect(try await InvariantChecker(database: f.database).run().violations.map(\.detail) == [])
    }

    @Test func theDatabaseRefusesMoneyBeyondTheBalanceWhoeverWritesIt() async throws {
        let f = try await fixture()
        let id = try await f.orders.place(stated(f, "db", .authorized)).orderID
        let insert = """
            INSERT INTO payments (order_id, kind, status, amount_minor, currency, provider)
            VALUES ($1, $2, 'succeeded', $3, 'EUR', 'sql')
            """
        await #expect { try await f.pool.query(insert, [id, "capture", Int64(2_490)]) } throws: {
            "\($0)".contains("payments_captured_within_total")
        }
        await #expect { try await f.pool.query(insert, [id, "refund", Int64(1)]) } throws: {
            "\($0)".contains("payments_refunded_within_captured")
        }
        #expect(try await InvariantChecker(database: f.database).run().violations.map(\.detail) == [])
    }
}

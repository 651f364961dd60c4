import OrderlyCore
import Testing

@Suite
struct OrderWaitsTests {
    static func facts(
        _ status: OrderStatus,
        hold: HoldReason? = nil,
        payment: PaymentStatus = .authorized,
        _ change: (inout OrderWaitFacts) -> Void = { _ in }
    ) -> OrderWaitFacts {
        var facts = OrderWaitFacts(orderID: 7, status: status, holdReason: hold, paymentStatus: payment)
        change(&facts)
        return facts
    }

    @Test(arguments: [OrderStatus.delivered, .cancelled, .returned])
    func aFinishedOrderWaitsForNothing(_ status: OrderStatus) {
        #expect(OrderWaits.describe(Self.facts(status)) == [])
    }

    @Test func anUnpaidReservedOrderWaitsForPaymentAndSaysWhenItsReservationLapses() {
        let waits = OrderWaits.describe(
            Self.facts(.reserved, payment: .pending) { $0.reservedUntil = "2026-12-01T21:00:00Z" }
        )
        #expect(waits.count == 1)
        #expect(waits[0].hasPrefix("payment: unpaid (payment=pending), so picking has not started"))
        #expect(waits[0].contains("lapses at 2026-12-01T21:00:00Z"))
    }

    @Test func eachHoldSaysWhoLiftsIt() {
        let pending = OrderWaits.describe(Self.facts(.onHold, hold: .paymentPending, payment: .pending))
        #expect(pending.count == 1 && pending[0].hasPrefix("payment: held until its payment is secured"))
        let failed = OrderWaits.describe(
            Self.facts(.onHold, hold: .fulfillmentFailed) { $0.holdNote = "label job 9 failed 20 times: no rate" }
        )
        #expect(
            failed == [
                "a fix: fulfillment stopped: label job 9 failed 20 times: no rate; fix the cause, then ORDER RELEASE 7 note=... resumes it"
            ]
        )
        let manual = OrderWaits.describe(Self.facts(.onHold, hold: .highValue))
        #expect(manual == ["a person: held for high_value (ORDER RELEASE 7 note=... releases it)"])
    }

    @Test func stockRatesPickersJobsAndParcelsAreEachNamedWithTheirCommand() {
        let waits = OrderWaits.describe(
            Self.facts(.partiallyReserved) {
                $0.backordered = [
                    .init(sku: "MUG-1", units: 2), .init(sku: "CUP-2", units: 1, expected: LocalDate("2026-12-24")),
                ]
                $0.missingRates = [.init(warehouse: "BER-1", country: "AT", grams: 700)]
                $0.scannerLists = [(id: 3, warehouse: "BER-1")]
                $0.jobs = [
                    .init(id: 11, kind: "pick", state: .available),
                    .init(id: 12, kind: "notify", state: .discarded, lastError: "relay down"),
                ]
                $0.inTransit = [.init(shipment: 4, status: .shipped, carrier: "DHL", tracking: "RR1DE")]
            }
        )
        #expect(
            waits == [
                "stock: 2 × MUG-1 backordered (none expected: STOCK EXPECT records an arrival; STOCK RECEIVE adds units, it reserves them)",
                "stock: 1 × CUP-2 backordered (expected 2026-12-24; STOCK RECEIVE adds units, it reserves them)",
                "a shipping rate: none to AT for a 700 g parcel from BER-1 (RATE ADD ... country=AT; RATE LIST shows the rates)",
                "a picker: pick list 3 at BER-1 awaits its counts (PICKLIST CONFIRM 3)",
                "a retry: notify job 12 failed for good: relay down (JOBS RETRY 12)",
                "the worker: pick job 11 available (is `orderly worker` running? JOBS LIST shows the queue)",
                "delivery: shipment 4 shipped (DHL RR1DE) (SHIPMENT DELIVER 4, or the carrier's event)",
            ]
        )
    }
}

import OrderlyCore
import Testing

struct PaymentShareTests {
    /// Shares of parcels shipped in any order, at any split, sum to the total exactly and never pass it.
    @Test(arguments: 0..<200)
    func sharesSumToTheTotalWhateverTheSplit(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let lines = (0..<Int(random.next() % 5 + 1)).map { _ in Int64(random.next() % 50_000) }
        let subtotal = lines.reduce(0, +)
        let extras = Int64(random.next() % 5_000) - 1_000
        let total = max(subtotal + extras, 0)
        // Each line to a parcel of its own or with the one before it; parcels ship in a random order.
        var parcels: [Int64] = []
        for line in lines {
            if parcels.isEmpty || random.next() % 2 == 0 {
                parcels.append(line)
            } else {
                parcels[parcels.count - 1] += line
            }
        }
        parcels.shuffle(using: &random)
        var (shipped, captured) = (Int64(0), Int64(0))
        for (index, value) in parcels.enumerated() {
            let share = ParcelShare.share(
                total: total,
                subtotal: subtotal,
                shippedValueBefore: shipped,
                parcelValue: value,
                everythingShippedAfter: index == parcels.count - 1,
                capturedBefore: captured
            )
            #expect(share >= 0)
            shipped += value
            captured += share
            #expect(captured <= total)
        }
        #expect(captured == total, "lines \(lines), extras \(extras), parcels \(parcels)")
    }

    @Test func aParcelCarriesShippingTaxAndDiscountInProportionToItsGoods() {
        // 60 + 40 of goods, 10 shipping: the first parcel (60%) is due 66, the last the remaining 44.
        let first = ParcelShare.share(
            total: 110,
            subtotal: 100,
            shippedValueBefore: 0,
            parcelValue: 60,
            everythingShippedAfter: false,
            capturedBefore: 0
        )
        let last = ParcelShare.share(
            total: 110,
            subtotal: 100,
            shippedValueBefore: 60,
            parcelValue: 40,
            everythingShippedAfter: true,
            capturedBefore: first
        )
        #expect(first == 66 && last == 44)
        // A third of 100 three times: 33, 33, then the remainder 34 to the last.
        var captured: Int64 = 0
        var shares: [Int64] = []
        for index in 0..<3 {
            let share = ParcelShare.share(
                total: 100,
                subtotal: 99,
                shippedValueBefore: Int64(index) * 33,
                parcelValue: 33,
                everythingShippedAfter: index == 2,
                capturedBefore: captured
            )
            shares.append(share)
            captured += share
        }
        #expect(shares == [33, 33, 34])
    }

    @Test func amountsNearInt64MaxDoNotOverflow() {
        let total = Int64.max / 2
        #expect(
            ParcelShare.due(total: total, subtotal: total, shippedValue: total / 2, everythingShipped: false)
                == total / 2
        )
    }

    @Test func theBalanceNamesThePaymentStatus() {
        func balance(
            _ authorized: Int64,
            _ captured: Int64,
            _ refunded: Int64 = 0,
            _ voided: Int64 = 0
        ) -> PaymentBalance {
            PaymentBalance(
                total: 100,
                authorized: authorized,
                captured: captured,
                refunded: refunded,
                voided: voided,
                refunding: 0
            )
        }
        #expect(balance(0, 0).status(current: .pending) == .pending)
        #expect(balance(0, 0).status(current: .failed) == .failed)
        #expect(balance(100, 0).status(current: .pending) == .authorized)
        #expect(balance(100, 60).status(current: .authorized) == .partiallyCaptured)
        #expect(balance(100, 100).status(current: .authorized) == .captured)
        #expect(balance(100, 60, 0, 40).status(current: .partiallyCaptured) == .captured)  // the rest voided
        #expect(balance(100, 0, 0, 100).status(current: .authorized) == .voided)
        #expect(balance(100, 100, 30).status(current: .captured) == .partiallyRefunded)
        #expect(balance(100, 100, 100).status(current: .captured) == .refunded)
        #expect(balance(100, 60, 0, 0).refundable == 60)
    }
}

struct ScriptedGatewayTests {
    func request(_ key: String, attempt: Int, script: String) -> GatewayRequest {
        GatewayRequest(
            operation: .capture,
            orderID: 1,
            amount: Money(minorUnits: 500, currency: CurrencyCode("EUR")!),
            idempotencyKey: key,
            authorization: script,
            attempt: attempt
        )
    }

    @Test func declinesAsScriptedThenGrantsOnceByKey() async throws {
        let gateway = ScriptedGateway()
        for attempt in 1...2 {
            await #expect(throws: GatewayFailure.self) {
                try await gateway.perform(request("k", attempt: attempt, script: "auth capture_declines:2"))
            }
        }
        let receipt = try await gateway.perform(request("k", attempt: 3, script: "auth capture_declines:2"))
        // The same key again (a retry after a lost answer) is answered from the record, even on an
        // attempt the script would decline.
        let again = try await gateway.perform(request("k", attempt: 1, script: "auth capture_declines:2"))
        #expect(receipt == again && gateway.granted.count == 1)
        await #expect(throws: GatewayFailure.self) {
            try await gateway.perform(request("other", attempt: 99, script: "capture_declines:always"))
        }
    }

    @Test func aHangingCaptureIsTakenAndItsRetryAnsweredFromTheRecord() async throws {
        let gateway = ScriptedGateway()
        let hanging = Task { try await gateway.perform(request("h", attempt: 1, script: "capture_hangs:1")) }
        while gateway.granted["h"] == nil { await Task.yield() }
        hanging.cancel()
        await #expect(throws: CancellationError.self) { try await hanging.value }
        let retry = try await gateway.perform(request("h", attempt: 2, script: "capture_hangs:1"))
        #expect(retry.reference == "test:h" && gateway.granted.count == 1)
    }

    @Test func theRecordingGatewayGrantsAndLeavesAnInstruction() async throws {
        let receipt = try await RecordingGateway().perform(request("capture:shipment:9", attempt: 1, script: "ref"))
        #expect(receipt.reference == "rec:capture:shipment:9")
        #expect(receipt.instruction?.kind == .paymentInstruction)
        #expect(receipt.instruction?.body.contains("\"idempotency_key\":\"capture:shipment:9\"") == true)
        #expect(receipt.instruction?.dedupeKey == "payment:capture:shipment:9")
    }
}

import OrderlyCore
import Testing

@Suite struct ChannelPolicyTests {
    @Test func channelNamesAreLowerCaseWords() {
        for good in ["web", "amazon", "b2b", "shop_2", String(repeating: "a", count: 32)] {
            #expect(SalesChannel(rawValue: good)?.rawValue == good)
        }
        for bad in ["", "Web", "2shop", "_x", "ama zon", "ebay-de", "émail", String(repeating: "a", count: 33)] {
            #expect(SalesChannel(rawValue: bad) == nil, "\(bad)")
        }
        #expect(ChannelKind.allCases.map(\.channel.rawValue) == ChannelKind.allCases.map(\.rawValue))
    }

    @Test func highValueLimitsParseOrSayWhyNot() throws {
        #expect(try HoldLimits.parseHighValue("USD:1000000,EUR:900000") == ["USD": 1_000_000, "EUR": 900_000])
        #expect(try HoldLimits.parseHighValue("none") == [:])
        for bad in ["", "USD", "usd:5", "USD:-5", "USD:0", "USD:5,USD:6", "USD:5,", "USD:1e3", "EURO:5"] {
            let error = try #require(throws: OrderlyError.self) { try HoldLimits.parseHighValue(bad) }
            #expect(error.code == .badArgument, "\(bad)")
            #expect(error.message.hasPrefix("high_value:"), "\(error)")
        }
        #expect(HoldLimits(highValueMinor: ["USD": 5, "EUR": 7]).highValueText == "EUR:7,USD:5")
        #expect(HoldLimits().highValueText == "none")
    }

    @Test func paymentStatesAreTheCapturableOnes() throws {
        #expect(try ChannelSettings.parsePaymentStates("captured,authorized") == [.captured, .authorized])
        for bad in ["", "refunded", "captured,", "voided", "Captured"] {
            #expect(throws: OrderlyError.self) { try ChannelSettings.parsePaymentStates(bad) }
        }
    }

    @Test func settingsReplaceOnlyWhatTheyName() {
        let policy = ChannelPolicy(
            channel: .marketplace,
            kind: .marketplace,
            routing: "nearest>split",
            onShortage: .reject,
            unpaidReservationSeconds: nil,
            carrierRule: .fastest,
            holdLimits: HoldLimits(highValueMinor: ["EUR": 100], riskScore: 80)
        )
        var settings = ChannelSettings()
        #expect(settings.changesNothing)
        #expect(settings.applied(to: policy) == policy)
        settings.unpaidReservationSeconds = 600
        settings.riskScoreLimit = 101
        #expect(!settings.changesNothing)
        let changed = settings.applied(to: policy)
        #expect(changed.unpaidReservationSeconds == 600 && changed.holdLimits.riskScore == 101)
        #expect(changed.routing == policy.routing && changed.holdLimits.highValueMinor == ["EUR": 100])
        // 0 seconds: unpaid orders are held, not reserved for.
        settings.unpaidReservationSeconds = 0
        #expect(settings.applied(to: changed).unpaidReservationSeconds == nil)
    }

    @Test func aChannelAdmitsItsPaymentStatesWhileActive() throws {
        var policy = ChannelPolicy(
            channel: .marketplace,
            routing: "nearest",
            onShortage: .reject,
            unpaidReservationSeconds: nil,
            paymentStates: [.captured]
        )
        try policy.admits(.captured)
        let pending = try #require(throws: OrderlyError.self) { try policy.admits(.pending) }
        #expect(pending.code == .badArgument && pending.message.contains("allows: captured"), "\(pending)")
        policy.active = false
        let inactive = try #require(throws: OrderlyError.self) { try policy.admits(.captured) }
        #expect(inactive.message.contains("not active"), "\(inactive)")
    }

    @Test func holdRulesReadTheChannelsLimits() {
        func context(total: Int64, risk: Int?, limits: HoldLimits) -> HoldContext {
            HoldContext(
                channel: .web,
                total: Money(minorUnits: total, currency: CurrencyCode("EUR")!),
                shipTo: PostalAddress(name: "A", line1: "B", city: "C", postalCode: "1", country: "DE"),
                billingCountry: nil,
                email: nil,
                riskScore: risk,
                reviewRequested: false,
                paymentStatus: .authorized,
                reservesUnpaid: true,
                limits: limits
            )
        }
        let strict = HoldLimits(highValueMinor: ["EUR": 10_000], riskScore: 50)
        let lax = HoldLimits(highValueMinor: ["USD": 10_000], riskScore: 101)
        #expect(HighValueRule().evaluate(context(total: 10_000, risk: nil, limits: strict))?.reason == .highValue)
        #expect(HighValueRule().evaluate(context(total: 9_999, risk: nil, limits: strict)) == nil)
        #expect(HighValueRule().evaluate(context(total: 10_000_000, risk: nil, limits: lax)) == nil)
        #expect(HighRiskRule().evaluate(context(total: 1, risk: 50, limits: strict))?.reason == .highRisk)
        #expect(HighRiskRule().evaluate(context(total: 1, risk: 100, limits: lax)) == nil)
    }
}

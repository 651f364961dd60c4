import OrderlyCore
import Testing

struct PickPlannerTests {
    func item(_ line: Int64, sku: String, bin: String?, zone: String? = nil, shipment: Int64 = 1) -> PickItem {
        PickItem(
            shipmentID: shipment,
            shipmentLineID: line,
            skuID: line,
            skuCode: sku,
            quantity: 1,
            bin: bin,
            zone: zone
        )
    }

    @Test func binsCompareComponentByComponentAndNumbersByValue() throws {
        let bins = ["A-10-1", "A-9-2", "B-1-1", "A-9-10", "a-9-3"].compactMap(BinLocation.init)
        #expect(bins.sorted().map(\.description) == ["A-9-2", "a-9-3", "A-9-10", "A-10-1", "B-1-1"])
        #expect(BinLocation("   ") == nil)
        #expect(BinLocation(" C.2/7 ")?.description == "C.2/7")
    }

    @Test func theWalkSnakesThroughAislesAndKeepsABinsItemsTogether() {
        let items = [
            item(1, sku: "S-C5", bin: "C-05-1"), item(2, sku: "S-A3", bin: "A-03-1"),
            item(3, sku: "S-B1", bin: "B-01-1"), item(4, sku: "S-A1", bin: "A-01-2"),
            item(5, sku: "S-B2", bin: "B-02-1"), item(6, sku: "S-LOOSE", bin: nil),
            item(7, sku: "S-B2", bin: "B-02-1", shipment: 0),
        ]
        let walk = PickPlanner.walk(items).map(\.shipmentLineID)
        // Up aisle A, down aisle B (bin B-02 first, its two shipments together), up aisle C, loose last.
        #expect(walk == [4, 2, 7, 5, 3, 1, 6])
    }

    @Test func zonePickingMakesAListPerZoneInZoneOrder() {
        let items = [
            item(1, sku: "X", bin: "A-1", zone: "COLD"), item(2, sku: "Y", bin: "A-2", zone: nil),
            item(3, sku: "Z", bin: "B-1", zone: "AMBIENT"), item(4, sku: "W", bin: "A-1", zone: "AMBIENT"),
        ]
        let lists = PickPlanner.plan(.zone, items: items)
        #expect(lists.map(\.zone) == ["AMBIENT", "COLD", nil])
        #expect(lists[0].items.map(\.sequence) == [1, 2])
        #expect(lists[0].items.map(\.item.shipmentLineID) == [4, 3])
        #expect(PickPlanner.plan(.single, items: items).count == 1)
        #expect(PickPlanner.plan(.batch, items: []).isEmpty)
    }

    @Test func everyItemIsWalkedExactlyOnce() {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<200 {
            let count = Int(generator.next() % 40)
            let items = (0..<count).map { n in
                let aisle = ["A", "B", "C", "D"][Int(generator.next() % 4)]
                let bin = generator.next() % 5 == 0 ? nil : "\(aisle)-\(generator.next() % 12)-\(generator.next() % 3)"
                let zone = generator.next() % 3 == 0 ? nil : ["Z1", "Z2"][Int(generator.next() % 2)]
                return item(Int64(n), sku: "S\(generator.next() % 6)", bin: bin, zone: zone, shipment: Int64(n % 3))
            }
            for method in PickMethod.allCases {
                let walked = PickPlanner.plan(method, items: items).flatMap { $0.ordered.map(\.shipmentLineID) }
                #expect(walked.sorted() == items.map(\.shipmentLineID).sorted(), "\(method)")
            }
        }
    }
}

struct TrackingNumberTests {
    @Test func s10CheckDigitsMatchTheUPUExample() throws {
        #expect(TrackingNumber.checkDigit(47_312_482) == 9)
        #expect(try TrackingNumber.s10(prefix: "RR", serial: 47_312_482, country: "GB") == "RR473124829GB")
        #expect(
            try TrackingNumber.s10(prefix: "CP", serial: 1, country: "DE") == "CP00000001"
                + "\(TrackingNumber.checkDigit(1))DE"
        )
        #expect(TrackingNumber.isValid("RR473124829GB"))
        #expect(!TrackingNumber.isValid("RR473124828GB"))  // wrong check digit
        #expect(!TrackingNumber.isValid("RR47312482GB"))
        #expect(!TrackingNumber.isValid("rr473124829GB"))
        // Check digits 10 and 11 become 0 and 5.
        let special = (0..<2000).map { Int64($0) }.filter { serial in
            let digits = String(String(serial).reversed()).padding(toLength: 8, withPad: "0", startingAt: 0).reversed()
            let sum = zip(digits.compactMap(\.wholeNumberValue), [8, 6, 4, 2, 3, 5, 9, 7]).reduce(0) {
                $0 + $1.0 * $1.1
            }
            return sum % 11 < 2
        }
        #expect(!special.isEmpty)
        for serial in special {
            #expect([0, 5].contains(TrackingNumber.checkDigit(serial)))
            #expect(TrackingNumber.isValid(try TrackingNumber.s10(prefix: "AB", serial: serial, country: "FR")))
        }
        #expect(throws: OrderlyError.self) { try TrackingNumber.s10(prefix: "R1", serial: 1, country: "DE") }
        #expect(throws: OrderlyError.self) { try TrackingNumber.s10(prefix: "RR", serial: 100_000_000, country: "DE") }
        #expect(throws: OrderlyError.self) { try TrackingNumber.s10(prefix: "RR", serial: 1, country: "de") }
    }
}

struct CarrierTests {
    func quote(_ code: String, _ service: String, price: Int64, days: Int, currency: String = "EUR") -> CarrierQuote {
        CarrierQuote(
            carrierID: 1,
            carrierCode: code,
            trackingPrefix: "RR",
            service: service,
            priceMinor: price,
            currency: currency,
            transitDays: days
        )
    }

    func rate(
        _ quote: CarrierQuote,
        min: Int64 = 0,
        max: Int64 = 1000,
        zone: String? = nil,
        origin: Int64? = nil
    ) -> RateTableCarrier.Rate {
        RateTableCarrier.Rate(
            quote: quote,
            originWarehouseID: origin,
            destinationCountry: "DE",
            destinationZone: zone,
            minWeightGrams: min,
            maxWeightGrams: max
        )
    }

    let parcel = Parcel(
        shipmentID: 9,
        weightGrams: 1000,
        originWarehouseID: 3,
        originCountry: "DE",
        destinationCountry: "DE",
        destinationZone: "BY",
        currency: "EUR"
    )

    @Test func rulesChooseWithDeterministicTieBreaks() {
        let quotes = [
            quote("B", "std", price: 500, days: 3), quote("A", "std", price: 500, days: 3),
            quote("C", "exp", price: 1200, days: 1), quote("D", "exp", price: 900, days: 1),
        ]
        #expect(CarrierRule.cheapest.choose(quotes)?.carrierCode == "A")
        #expect(CarrierRule.fastest.choose(quotes)?.carrierCode == "D")
        #expect(CarrierRule.cheapest.choose([]) == nil)
    }

    @Test func rateTablesFitWeightBracketsAndPreferTheMostSpecificRate() {
        let carrier = RateTableCarrier(rates: [
            rate(quote("P", "std", price: 400, days: 3), min: 0, max: 1000),  // 1000 g is outside [0, 1000)
            rate(quote("P", "std", price: 600, days: 3), min: 1000, max: 5000),
            rate(quote("P", "std", price: 650, days: 2), min: 1000, max: 5000, zone: "BY"),
            rate(quote("P", "exp", price: 1500, days: 1), min: 0, max: 5000, origin: 3),
            rate(quote("P", "exp", price: 1400, days: 1), min: 0, max: 5000, origin: 4),
            rate(quote("Q", "std", price: 10, days: 9, currency: "USD"), min: 0, max: 5000),
        ])
        let quotes = carrier.quotes(for: parcel)
        #expect(quotes.map { "\($0.carrierCode)/\($0.service)/\($0.priceMinor)" } == ["P/exp/1500", "P/std/650"])
        #expect(CarrierRule.cheapest.choose(quotes)?.priceMinor == 650)
    }

    @Test func labelsCarryAValidTrackingNumberAndNoZPLInjection() throws {
        let carrier = RateTableCarrier(rates: [])
        let label = try carrier.label(
            for: parcel,
            quote: quote("P", "std", price: 1, days: 1),
            serial: 47_312_482,
            addresses: LabelAddresses(from: ["Dock ^XZ 1"], to: ["Ada ~JA Lovelace", "Str. 1"])
        )
        #expect(label.trackingNumber == "RR473124829DE")
        #expect(label.document.hasPrefix("^XA") && label.document.hasSuffix("^XZ"))
        #expect(label.document.components(separatedBy: "^XZ").count == 2)  // only the closing one
        #expect(!label.document.contains("~JA"))
        #expect(label.document.contains("^FDRR473124829DE^FS"))
    }
}

/// A small seeded generator for repeatable randomized checks.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

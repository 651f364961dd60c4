/// A packed shipment as a carrier sees it.
public struct Parcel: Hashable, Sendable {
    public var shipmentID: Int64
    public var weightGrams: Int64
    public var originWarehouseID: Int64
    public var originCountry: String
    public var destinationCountry: String
    public var destinationZone: String?
    public var currency: String

    public init(
        shipmentID: Int64,
        weightGrams: Int64,
        originWarehouseID: Int64,
        originCountry: String,
        destinationCountry: String,
        destinationZone: String?,
        currency: String
    ) {
        self.shipmentID = shipmentID
        self.weightGrams = weightGrams
        self.originWarehouseID = originWarehouseID
        self.originCountry = originCountry
        self.destinationCountry = destinationCountry
        self.destinationZone = destinationZone
        self.currency = currency
    }
}

/// One way a carrier offers to move a parcel.
public struct CarrierQuote: Hashable, Sendable {
    public var carrierID: Int64
    public var carrierCode: String
    public var trackingPrefix: String
    public var service: String
    public var priceMinor: Int64
    public var currency: String
    public var transitDays: Int

    public init(
        carrierID: Int64,
        carrierCode: String,
        trackingPrefix: String,
        service: String,
        priceMinor: Int64,
        currency: String,
        transitDays: Int
    ) {
        self.carrierID = carrierID
        self.carrierCode = carrierCode
        self.trackingPrefix = trackingPrefix
        self.service = service
        self.priceMinor = priceMinor
        self.currency = currency
        self.transitDays = transitDays
    }
}

/// Who a label is addressed to and from.
public struct LabelAddresses: Hashable, Sendable {
    public var from: [String]
    public var to: [String]

    public init(from: [String], to: [String]) {
        self.from = from
        self.to = to
    }
}

/// A bought label: the tracking number and the document to print.
public struct ShippingLabel: Hashable, Sendable {
    public var trackingNumber: String
    /// ZPL II, what thermal label printers take.
    public var document: String
}

/// A carrier integration: quotes for a parcel, and a label for the quote chosen. Implementations that
/// call a carrier's API block the job's thread; the job's transaction is open meanwhile.
public protocol Carrier: Sendable {
    /// The name a process registers it under (`OrderlyComponents.register(carrier:)`).
    var name: String { get }
    func quotes(for parcel: Parcel) throws -> [CarrierQuote]
    func label(
        for parcel: Parcel,
        quote: CarrierQuote,
        serial: Int64,
        addresses: LabelAddresses
    ) throws -> ShippingLabel
}

/// How to choose among quotes. Ties fall to the other measure, then to the carrier code and service,
/// so the choice never depends on the order quotes arrived in.
public enum CarrierRule: String, Sendable, Hashable, CaseIterable {
    case cheapest
    case fastest

    public func choose(_ quotes: [CarrierQuote]) -> CarrierQuote? {
        quotes.min { a, b in
            switch self {
            case .cheapest:
                (a.priceMinor, a.transitDays, a.carrierCode, a.service)
                    < (b.priceMinor, b.transitDays, b.carrierCode, b.service)
            case .fastest:
                (a.transitDays, a.priceMinor, a.carrierCode, a.service)
                    < (b.transitDays, b.priceMinor, b.carrierCode, b.service)
            }
        }
    }
}

/// The built-in carrier: quotes from rate-table rows (weight brackets per destination), tracking
/// numbers in the UPU S10 format, labels in ZPL.
public struct RateTableCarrier: Carrier {
    public var name: String { "rate_table" }
    public struct Rate: Hashable, Sendable {
        public var quote: CarrierQuote
        public var originWarehouseID: Int64?
        public var destinationCountry: String
        public var destinationZone: String?
        public var minWeightGrams: Int64
        public var maxWeightGrams: Int64

        public init(
            quote: CarrierQuote,
            originWarehouseID: Int64?,
            destinationCountry: String,
            destinationZone: String?,
            minWeightGrams: Int64,
            maxWeightGrams: Int64
        ) {
            self.quote = quote
            self.originWarehouseID = originWarehouseID
            self.destinationCountry = destinationCountry
            self.destinationZone = destinationZone
            self.minWeightGrams = minWeightGrams
            self.maxWeightGrams = maxWeightGrams
        }
    }

    public var rates: [Rate]

    public init(rates: [Rate]) { self.rates = rates }

    /// Rates whose bracket holds the weight, for the parcel's origin (or any origin) and its
    /// destination country; a zone-specific rate replaces the country-wide one of the same service.
    public func quotes(for parcel: Parcel) -> [CarrierQuote] {
        let fitting = rates.filter { rate in
            rate.destinationCountry == parcel.destinationCountry
                && (rate.originWarehouseID == nil || rate.originWarehouseID == parcel.originWarehouseID)
                && (rate.destinationZone == nil || rate.destinationZone == parcel.destinationZone)
                && rate.minWeightGrams <= parcel.weightGrams && parcel.weightGrams < rate.maxWeightGrams
                && rate.quote.currency == parcel.currency
        }
        var best: [String: Rate] = [:]
        for rate in fitting {
            let key = rate.quote.carrierCode + "/" + rate.quote.service
            if let seen = best[key], Self.specificity(seen) >= Self.specificity(rate) { continue }
            best[key] = rate
        }
        return best.keys.sorted().compactMap { best[$0]?.quote }
    }

    static func specificity(_ rate: Rate) -> Int {
        (rate.destinationZone == nil ? 0 : 2) + (rate.originWarehouseID == nil ? 0 : 1)
    }

    public func label(
        for parcel: Parcel,
        quote: CarrierQuote,
        serial: Int64,
        addresses: LabelAddresses
    ) throws -> ShippingLabel {
        let tracking = try TrackingNumber.s10(
            prefix: quote.trackingPrefix,
            serial: serial,
            country: parcel.originCountry
        )
        return ShippingLabel(
            trackingNumber: tracking,
            document: LabelDocument.zpl(parcel: parcel, quote: quote, tracking: tracking, addresses: addresses)
        )
    }
}

/// UPU S10 tracking numbers: two letters, an eight-digit serial, a check digit, the origin country
/// (e.g. `RR123456785GB`).
public enum TrackingNumber {
    static let weights = [8, 6, 4, 2, 3, 5, 9, 7]

    /// The check digit of an eight-digit serial.
    public static func checkDigit(_ serial: Int64) -> Int {
        let digits = String(serial).leftPadded(to: 8).compactMap(\.wholeNumberValue)
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        switch 11 - sum % 11 {
        case 10: return 0
        case 11: return 5
        case let digit: return digit
        }
    }

    public static func s10(prefix: String, serial: Int64, country: String) throws(OrderlyError) -> String {
        guard prefix.count == 2, prefix.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw OrderlyError(.badArgument, "a tracking prefix is two capital letters, not '\(prefix)'")
        }
        guard (0...99_999_999).contains(serial) else {
            throw OrderlyError(.badArgument, "a tracking serial has eight digits, not \(serial)")
        }
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw OrderlyError(.badArgument, "a tracking number ends with a country code, not '\(country)'")
        }
        return prefix + String(serial).leftPadded(to: 8) + String(checkDigit(serial)) + country
    }

    /// True for a well-formed S10 number whose check digit matches.
    public static func isValid(_ number: String) -> Bool {
        let chars = Array(number)
        guard chars.count == 13,
            chars[0..<2].allSatisfy({ $0.isASCII && $0.isUppercase }),
            chars[11..<13].allSatisfy({ $0.isASCII && $0.isUppercase }),
            chars[2..<11].allSatisfy({ $0.isASCII && $0.isNumber }),
            let serial = Int64(String(chars[2..<10])),
            let check = chars[10].wholeNumberValue
        else { return false }
        return checkDigit(serial) == check
    }
}

/// A 4×6 inch ZPL II label: addresses, carrier and service, weight, the tracking number as Code 128.
enum LabelDocument {
    static func zpl(parcel: Parcel, quote: CarrierQuote, tracking: String, addresses: LabelAddresses) -> String {
        var lines = ["^XA", "^CI28", "^FO40,40^A0N,30,30^FDFROM^FS"]
        var y = 80
        for line in addresses.from.prefix(4) {
            lines.append("^FO40,\(y)^A0N,26,26^FD\(field(line))^FS")
            y += 32
        }
        y += 30
        lines.append("^FO40,\(y)^A0N,34,34^FDSHIP TO^FS")
        y += 44
        for line in addresses.to.prefix(6) {
            lines.append("^FO40,\(y)^A0N,40,40^FD\(field(line))^FS")
            y += 48
        }
        y += 30
        lines.append(
            "^FO40,\(y)^A0N,30,30^FD\(field(quote.carrierCode)) \(field(quote.service)) "
                + "\(parcel.weightGrams) g  shipment \(parcel.shipmentID)^FS"
        )
        y += 60
        lines.append("^FO40,\(y)^BY3^BCN,160,Y,N,N^FD\(tracking)^FS")
        lines.append("^XZ")
        return lines.joined(separator: "\n")
    }

    /// ZPL treats ^ and ~ as commands; field data must not contain them.
    static func field(_ text: String) -> String {
        String(text.map { $0 == "^" || $0 == "~" || $0.isNewline ? " " : $0 }.prefix(60))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

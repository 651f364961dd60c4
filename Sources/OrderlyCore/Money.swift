/// An ISO 4217 currency code: three upper-case ASCII letters.
public struct CurrencyCode: Hashable, Sendable, CustomStringConvertible {
    public let code: String

    /// Returns nil unless `code` is three letters A-Z.
    public init?(_ code: String) {
        guard code.utf8.count == 3, code.utf8.allSatisfy({ (65...90).contains($0) }) else { return nil }
        self.code = code
    }

    public var description: String { code }

    /// Digits after the decimal point of the currency's minor unit (ISO 4217): 0 for the yen, the won
    /// and their kind, 3 for the dinars of Bahrain, Iraq, Jordan, Kuwait, Libya, Tunisia and the
    /// Omani rial, 2 otherwise.
    public var minorDigits: Int {
        switch code {
        case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
            "XAF", "XOF", "XPF":
            0
        case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND": 3
        default: 2
        }
    }
}

/// An amount of money: integer minor units (cents, pence, yen) in one currency.
///
/// Arithmetic is checked: an overflow, or mixing currencies, is an error rather than a wrong total.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: CurrencyCode

    public init(minorUnits: Int64, currency: CurrencyCode) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: CurrencyCode) -> Money { Money(minorUnits: 0, currency: currency) }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: difference, currency: currency)
    }

    /// The price of `quantity` units at this unit price.
    public func multiplied(by quantity: Int64) throws(MoneyError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: quantity)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: product, currency: currency)
    }

    public var description: String { "\(minorUnits) \(currency) minor units" }

    /// For people: `12.34 EUR`, `1500 JPY`, `-0.050 KWD`.
    public var formatted: String {
        let digits = currency.minorDigits
        let magnitude = minorUnits.magnitude
        guard digits > 0 else { return "\(minorUnits) \(currency)" }
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let fraction = String(magnitude % scale)
        let padded = String(repeating: "0", count: digits - fraction.count) + fraction
        return "\(minorUnits < 0 ? "-" : "")\(magnitude / scale).\(padded) \(currency)"
    }
}

/// Why a money computation was refused.
public enum MoneyError: Error, Hashable, Sendable {
    case overflow
    case currencyMismatch(CurrencyCode, CurrencyCode)
}

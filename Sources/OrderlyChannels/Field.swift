import Foundation
public import OrderlyCore

/// A platform document refused: where (`order.line_items[2].price`) and why. The HTTP ingest answers
/// it as a 422 with the path.
public struct ChannelImportError: Error, Hashable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}

/// A place in a document, with its path for errors. Reading never guesses: a value of the wrong
/// kind is an error naming the path, and absent and null are the same (platforms send either).
struct Field {
    let value: JSONValue?
    let path: String

    init(_ value: JSONValue?, path: String) {
        self.value = value
        self.path = path
    }

    subscript(key: String) -> Field {
        let child = path.isEmpty ? key : path + "." + key
        guard case .object(let members) = value else { return Field(nil, path: child) }
        return Field(members[key], path: child)
    }

    subscript(index: Int) -> Field {
        guard case .array(let elements) = value, elements.indices.contains(index) else {
            return Field(nil, path: "\(path)[\(index)]")
        }
        return Field(elements[index], path: "\(path)[\(index)]")
    }

    var isPresent: Bool {
        switch value {
        case nil, .null?: false
        default: true
        }
    }

    func fail(_ problem: String) -> ChannelImportError { ChannelImportError(path: path, problem: problem) }

    func wrongKind(_ wanted: String) -> ChannelImportError {
        fail("must be \(wanted), not \(value?.kind ?? "absent")")
    }

    /// A string, or nil when absent, null or empty.
    func optionalString() throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        default: throw wrongKind("a string")
        }
    }

    func string() throws -> String {
        guard let text = try optionalString() else { throw fail("is required") }
        return text
    }

    /// An identifier the platform writes as a number or as a string (Shopify's int64 ids).
    func identifier() throws -> String {
        switch value {
        case .number(let text)? where text.allSatisfy(\.isNumber): return text
        case .string(let text)? where !text.isEmpty: return text
        case nil, .null?: throw fail("is required")
        default: throw wrongKind("an identifier")
        }
    }

    func optionalArray() throws -> [Field] {
        switch value {
        case nil, .null?: return []
        case .array(let elements)?: return elements.indices.map { self[$0] }
        default: throw wrongKind("an array")
        }
    }

    /// A whole number of units: a JSON integer, a string of digits, or a decimal whose fraction is
    /// zero (Magento's `"1.0000"`); a fraction of a unit is refused.
    func quantity() throws -> Int64 {
        let text: String
        switch value {
        case .number(let literal)?: text = literal
        case .string(let literal)?: text = literal
        case nil, .null?: throw fail("is required")
        default: throw wrongKind("a quantity")
        }
        guard let units = try? MinorUnits.parse(text, digits: 0), units > 0 else {
            throw fail("must be a whole number of units above 0, not '\(text)'")
        }
        return units
    }

    /// true or false, written as a JSON boolean, `"true"`/`"false"` (Amazon) or 1/0 (Magento).
    func optionalFlag() throws -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case .string("true")?, .number("1")?: return true
        case .string("false")?, .number("0")?: return false
        default: throw wrongKind("true or false")
        }
    }

    /// An amount in `currency`'s minor units, exactly, from a JSON number or a string of one; an amount
    /// with more decimals than the currency has (other than trailing zeros) is refused, never rounded.
    func optionalMoney(_ currency: CurrencyCode) throws -> Int64? {
        let text: String
        switch value {
        case nil, .null?: return nil
        case .number(let literal)?: text = literal
        case .string(let literal)?: text = literal.trimmingCharacters(in: .whitespaces)
        default: throw wrongKind("an amount")
        }
        do {
            return try MinorUnits.parse(text, digits: currency.minorDigits)
        } catch {
            throw fail("\(error.reason) ('\(text)' in \(currency))")
        }
    }

    func money(_ currency: CurrencyCode) throws -> Int64 {
        guard let amount = try optionalMoney(currency) else { throw fail("is required") }
        return amount
    }

    /// A currency code (ISO 4217).
    func currency() throws -> CurrencyCode {
        let text = try string()
        guard let code = CurrencyCode(text.uppercased()) else { throw fail("'\(text)' is not a currency code") }
        return code
    }
}

/// Decimal text to integer minor units, exactly.
enum MinorUnits {
    struct Refusal: Error {
        var reason: String
    }

    /// `"11.01"` at 2 digits is 1101; `"165"` is 16500; `"1.5e1"` is 1500; `"-0.50"` is -50.
    /// `"25.99"` at 0 digits is refused: the yen has no cents.
    static func parse(_ text: String, digits: Int) throws(Refusal) -> Int64 {
        var scalars = Substring(text)
        var negative = false
        if scalars.first == "-" {
            negative = true
            scalars = scalars.dropFirst()
        } else if scalars.first == "+" {
            scalars = scalars.dropFirst()
        }
        var exponent = 0
        if let e = scalars.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(scalars[scalars.index(after: e)...]), abs(value) <= 40 else {
                throw Refusal(reason: "is not a decimal amount")
            }
            exponent = value
            scalars = scalars[..<e]
        }
        let parts = scalars.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty, (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw Refusal(reason: "is not a decimal amount")
        }
        // The digits of the amount and where its decimal point falls, moved by the exponent and the
        // currency's minor digits: the integer is what lies left of the point, and what lies right
        // of it must be zeros.
        let allDigits = Array(whole + fraction)
        let point = whole.count + exponent + digits
        let kept = point <= 0 ? [] : Array(allDigits.prefix(point))
        let dropped = point >= allDigits.count ? [] : Array(allDigits.suffix(allDigits.count - max(0, point)))
        guard dropped.allSatisfy({ $0 == "0" }) else {
            throw Refusal(reason: "has more decimals than the currency's \(digits)")
        }
        var units: Int64 = 0
        for digit in kept + Array(repeating: Character("0"), count: max(0, point - allDigits.count)) {
            let (shifted, overflow) = units.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = shifted.addingReportingOverflow(Int64(digit.wholeNumberValue ?? 0))
            guard !overflow, !overflowSum else { throw Refusal(reason: "is too large") }
            units = sum
        }
        return negative ? -units : units
    }
}

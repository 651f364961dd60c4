/// Who may run a command. Ordered: each role can do what the ones below it can.
public enum AdminRole: String, Sendable, CaseIterable, Comparable {
    case readonly, `operator`, admin

    private var rank: Int {
        switch self {
        case .readonly: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: AdminRole, rhs: AdminRole) -> Bool { lhs.rank < rhs.rank }
}

/// One order line as `ORDER CREATE lines=` gives it.
public struct LineArgument: Hashable, Sendable {
    public var sku: String
    public var quantity: Int64
    public var unitPriceMinor: Int64
}

/// A checked argument value.
public enum ArgumentValue: Hashable, Sendable {
    case int(Int64)
    case text(String)
    case bool(Bool)
    case lines([LineArgument])

    public var int: Int64? { if case .int(let value) = self { value } else { nil } }
    public var text: String? { if case .text(let value) = self { value } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var lines: [LineArgument]? { if case .lines(let value) = self { value } else { nil } }
}

/// What an argument accepts (docs/admin-protocol.md, "Argument types").
public enum ArgumentType: Hashable, Sendable {
    case int(ClosedRange<Int64>)
    case code
    case text(maximumLength: Int)
    case oneOf([String])
    case country
    case bool
    case lines
    case decimal(ClosedRange<Double>)
    /// A catalogue row by id (digits only) or by code (anything else a `code` accepts).
    case reference
    /// A lower-case name such as a channel's: a letter, then letters, digits and _; at most 32.
    case name

    public static let id = ArgumentType.int(1...Int64.max)
    public static let quantity = ArgumentType.int(1...1_000_000_000)
    public static let money = ArgumentType.int(0...10_000_000_000_000)
    public static let text = ArgumentType.text(maximumLength: 200)

    /// How HELP names it.
    public var summary: String {
        switch self {
        case .int(let range) where range == ArgumentType.id.range: "id"
        case .int(let range): "int \(range.lowerBound)..\(range.upperBound)"
        case .code: "code"
        case .text(let maximum): "text<=\(maximum)"
        case .oneOf(let words): words.joined(separator: "|")
        case .country: "country"
        case .bool: "true|false"
        case .lines: "SKU:QTY:PRICE[,...]"
        case .decimal(let range): "decimal \(range.lowerBound)..\(range.upperBound)"
        case .reference: "id|code"
        case .name: "name"
        }
    }

    var range: ClosedRange<Int64>? { if case .int(let range) = self { range } else { nil } }

    /// The value, or why not, naming the argument.
    public func check(_ raw: String, name: String) throws(AdminError) -> ArgumentValue {
        func bad(_ why: String) -> AdminError { AdminError(.badArgument, "\(name): \(why)") }
        switch self {
        case .int(let range):
            let value = try Self.integer(raw, name: name)
            guard range.contains(value) else {
                throw bad("\(raw) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return .int(value)
        case .code:
            let bytes = Array(raw.utf8)
            guard (1...64).contains(bytes.count), Self.isAlphanumeric(bytes[0]),
                bytes.allSatisfy({ Self.isAlphanumeric($0) || "._/-".utf8.contains($0) })
            else { throw bad("'\(Self.clipped(raw))' is not a code (letters, digits, . _ / -; at most 64)") }
            return .text(raw)
        case .text(let maximum):
            guard !raw.isEmpty else { throw bad("is empty") }
            // Code points, as the database counts them: "e" + U+0301 is two.
            guard raw.unicodeScalars.count <= maximum else {
                throw bad("is longer than \(maximum) characters (Unicode code points)")
            }
            return .text(raw)
        case .oneOf(let words):
            guard words.contains(raw) else {
                throw bad("'\(Self.clipped(raw))' is not one of \(words.joined(separator: ", "))")
            }
            return .text(raw)
        case .country:
            guard raw.utf8.count == 2, raw.utf8.allSatisfy({ (65...90).contains($0) }) else {
                throw bad("'\(Self.clipped(raw))' is not a two-letter upper-case country code")
            }
            return .text(raw)
        case .bool:
            switch raw {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw bad("'\(Self.clipped(raw))' is not true or false")
            }
        case .decimal(let range):
            // Plain decimal notation only: digits, one optional point, an optional leading minus.
            let bytes = Array(raw.utf8)
            let body = bytes.first == UInt8(ascii: "-") ? Array(bytes.dropFirst()) : bytes
            guard !body.isEmpty, body.count <= 24, body.filter({ $0 == UInt8(ascii: ".") }).count <= 1,
                body.allSatisfy({ (48...57).contains($0) || $0 == UInt8(ascii: ".") }),
                body.first != UInt8(ascii: "."), body.last != UInt8(ascii: "."), let value = Double(raw),
                range.contains(value)
            else { throw bad("'\(Self.clipped(raw))' is not a decimal in \(range.lowerBound)...\(range.upperBound)") }
            return .text(raw)
        case .name:
            let bytes = Array(raw.utf8)
            guard (1...32).contains(bytes.count), (97...122).contains(bytes[0]),
                bytes.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "_") })
            else {
                throw bad("'\(Self.clipped(raw))' is not a name (a lower-case letter, then a-z 0-9 _; at most 32)")
            }
            return .text(raw)
        case .reference:
            if !raw.isEmpty, raw.utf8.allSatisfy({ (48...57).contains($0) }) {
                return try ArgumentType.id.check(raw, name: name)
            }
            return try ArgumentType.code.check(raw, name: name)
        case .lines:
            let parts = raw.split(separator: ",", omittingEmptySubsequences: false)
            guard !raw.isEmpty, parts.count <= 500 else { throw bad("1 to 500 lines of SKU:QTY:PRICE") }
            var lines: [LineArgument] = []
            for (index, part) in parts.enumerated() {
                let fields = part.split(separator: ":", omittingEmptySubsequences: false)
                guard fields.count == 3 else {
                    throw bad("line \(index + 1) '\(Self.clipped(String(part)))' is not SKU:QTY:PRICE")
                }
                let sku = try ArgumentType.code.check(String(fields[0]), name: "\(name) line \(index + 1) sku")
                let quantity = try ArgumentType.quantity.check(String(fields[1]), name: "\(name) line \(index + 1) qty")
                let price = try ArgumentType.money.check(String(fields[2]), name: "\(name) line \(index + 1) price")
                lines.append(
                    LineArgument(sku: sku.text ?? "", quantity: quantity.int ?? 0, unitPriceMinor: price.int ?? 0)
                )
            }
            return .lines(lines)
        }
    }

    /// Decimal digits with an optional leading minus; nothing else (no +, exponent, hex, spaces).
    static func integer(_ raw: String, name: String) throws(AdminError) -> Int64 {
        let bytes = Array(raw.utf8)
        let digits = bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes[...]
        guard !digits.isEmpty else { throw AdminError(.badArgument, "\(name): '\(clipped(raw))' is not a number") }
        guard digits.allSatisfy({ (48...57).contains($0) }) else {
            throw AdminError(.badArgument, "\(name): '\(clipped(raw))' is not a decimal integer")
        }
        guard digits.count == 1 || digits.first != UInt8(ascii: "0") else {
            throw AdminError(.badArgument, "\(name): '\(clipped(raw))' has leading zeros")
        }
        guard digits.count <= 19, let value = Int64(raw) else {
            throw AdminError(.badArgument, "\(name): \(clipped(raw)) is out of range")
        }
        return value
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    /// A value for an error message: at most 40 characters.
    public static func clipped(_ raw: String) -> String {
        raw.count <= 40 ? raw : String(raw.prefix(37)) + "..."
    }
}

/// One argument a command takes.
public struct ArgumentSpec: Hashable, Sendable {
    public var name: String
    public var type: ArgumentType
    public var required: Bool
    /// May be given without its key, in this order.
    public var positional: Bool
    public var help: String

    public static func required(
        _ name: String,
        _ type: ArgumentType,
        positional: Bool = false,
        _ help: String
    )
        -> ArgumentSpec
    {
        ArgumentSpec(name: name, type: type, required: true, positional: positional, help: help)
    }

    public static func optional(
        _ name: String,
        _ type: ArgumentType,
        positional: Bool = false,
        _ help: String
    )
        -> ArgumentSpec
    {
        ArgumentSpec(name: name, type: type, required: false, positional: positional, help: help)
    }
}

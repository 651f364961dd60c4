/// A type that can be an element of a one-dimensional PostgreSQL array (`text[]`, `int8[]`, ...).
public protocol PostgresArrayElement: Sendable {
    /// The array type a `[Self]` parameter is sent as.
    static var arrayType: PostgresType { get }
    /// The array column types a `[Self]` may be decoded from.
    static var acceptedArrayTypes: Set<PostgresType> { get }
    /// The element as it stands inside an array literal, quoted where needed.
    func arrayLiteralElement() throws -> String
    /// Reads one element; `nil` is an unquoted NULL.
    static func decodeArrayElement(_ text: String?) throws -> Self
}

extension String: PostgresArrayElement {
    public static var arrayType: PostgresType { .textArray }
    public static var acceptedArrayTypes: Set<PostgresType> { textArrays }
    private static let textArrays: Set<PostgresType> = [.textArray, .varcharArray]
    public func arrayLiteralElement() throws -> String {
        _ = try postgresBind()  // refuses NUL bytes
        var quoted = "\""
        for character in unicodeScalars {
            if character == "\"" || character == "\\" { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(character)
        }
        quoted += "\""
        return quoted
    }
    public static func decodeArrayElement(_ text: String?) throws -> String {
        guard let text else { throw PostgresError(code: .decoding, message: "unexpected NULL element") }
        return text
    }
}

extension Int64: PostgresArrayElement {
    public static var arrayType: PostgresType { .int8Array }
    public static var acceptedArrayTypes: Set<PostgresType> { integerArrays }
    private static let integerArrays: Set<PostgresType> = [.int8Array, .int4Array, .int2Array]
    public func arrayLiteralElement() -> String { String(self) }
    public static func decodeArrayElement(_ text: String?) throws -> Int64 {
        guard let text else { throw PostgresError(code: .decoding, message: "unexpected NULL element") }
        guard let value = Int64(text) else {
            throw PostgresError(code: .decoding, message: "invalid int8 element '\(text)'")
        }
        return value
    }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var arrayType: PostgresType { Wrapped.arrayType }
    public static var acceptedArrayTypes: Set<PostgresType> { Wrapped.acceptedArrayTypes }
    public func arrayLiteralElement() throws -> String {
        guard let self else { return "NULL" }
        return try self.arrayLiteralElement()
    }
    public static func decodeArrayElement(_ text: String?) throws -> Wrapped? {
        guard let text else { return nil }
        return try Wrapped.decodeArrayElement(text)
    }
}

/// Reads PostgreSQL's text form of a one-dimensional array: `{a,"b c",NULL}`.
enum PostgresArrayLiteral {
    static func parse(_ text: String) -> [String?]? {
        var scalars = Substring(text).unicodeScalars[...]
        // A lower bound other than 1 is printed as a prefix: "[0:1]={a,b}".
        if scalars.first == "[" {
            guard let equals = scalars.firstIndex(of: "=") else { return nil }
            scalars = scalars[scalars.index(after: equals)...]
        }
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        scalars = scalars.dropFirst().dropLast()
        var items: [String?] = []
        if scalars.isEmpty { return items }
        var iterator = scalars.makeIterator()
        var current = String.UnicodeScalarView()
        var quoted = false
        var wasQuoted = false
        while let scalar = iterator.next() {
            if quoted {
                switch scalar {
                case "\\":
                    guard let next = iterator.next() else { return nil }
                    current.append(next)
                case "\"":
                    quoted = false
                default:
                    current.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                guard current.isEmpty, !wasQuoted else { return nil }
                quoted = true
                wasQuoted = true
            case "{", "}":
                return nil  // nested arrays are not supported
            case ",":
                items.append(finish(current, wasQuoted))
                current = String.UnicodeScalarView()
                wasQuoted = false
            case "\\":
                guard let next = iterator.next() else { return nil }
                current.append(next)
            default:
                current.append(scalar)
            }
        }
        guard !quoted else { return nil }
        items.append(finish(current, wasQuoted))
        return items
    }

    private static func finish(_ scalars: String.UnicodeScalarView, _ wasQuoted: Bool) -> String? {
        let text = String(scalars)
        if !wasQuoted && text.uppercased() == "NULL" { return nil }
        return text
    }
}

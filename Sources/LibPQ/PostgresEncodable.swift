public import Foundation

/// One bound parameter as libpq takes it: text or binary bytes plus a type OID, or NULL.
public struct PostgresBind: Sendable {
    enum Storage: Sendable {
        case null
        case text(String)
        case binary([UInt8])
    }
    var storage: Storage
    public var type: PostgresType

    var byteCount: Int {
        switch storage {
        case .null: return 0
        case .text(let text): return text.utf8.count
        case .binary(let bytes): return bytes.count
        }
    }

    public static func null(_ type: PostgresType = .unspecified) -> PostgresBind {
        PostgresBind(storage: .null, type: type)
    }
    public static func text(_ value: String, _ type: PostgresType) -> PostgresBind {
        PostgresBind(storage: .text(value), type: type)
    }
    public static func binary(_ value: [UInt8], _ type: PostgresType) -> PostgresBind {
        PostgresBind(storage: .binary(value), type: type)
    }
}

/// A Swift value that can be sent as a statement parameter.
///
/// Values travel in PostgreSQL's text format (binary for `bytea`), with an explicit type OID so the
/// server never has to guess; `Optional.none` is SQL NULL.
public protocol PostgresEncodable: Sendable {
    func postgresBind() throws -> PostgresBind
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind {
        switch self {
        case .none: return .null()
        case .some(let value): return try value.postgresBind()
        }
    }
}

extension String: PostgresEncodable {
    public func postgresBind() throws -> PostgresBind {
        // libpq takes C strings: an embedded NUL would silently truncate the value.
        guard !utf8.contains(0) else {
            throw PostgresError(code: .encoding, message: "a text parameter contains a NUL byte")
        }
        return .text(self, .text)
    }
}

extension Bool: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .text(self ? "t" : "f", .bool) }
}

extension Int: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .text(String(self), .int8) }
}

extension Int64: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .text(String(self), .int8) }
}

extension Int32: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .text(String(self), .int4) }
}

extension Int16: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .text(String(self), .int2) }
}

extension Double: PostgresEncodable {
    public func postgresBind() -> PostgresBind {
        if isNaN { return .text("NaN", .float8) }
        if isInfinite { return .text(self < 0 ? "-Infinity" : "Infinity", .float8) }
        // Swift prints the shortest text that reads back to the same Double, as PostgreSQL 12+ does.
        return .text("\(self)", .float8)
    }
}

extension UUID: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .text(uuidString, .uuid) }
}

extension Date: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .text(PostgresTimestamp.format(self), .timestamptz) }
}

extension Data: PostgresEncodable {
    public func postgresBind() -> PostgresBind { .binary([UInt8](self), .bytea) }
}

/// A `jsonb` value, kept as its JSON text.
public struct PostgresJSON: Sendable, Hashable, PostgresEncodable, PostgresDecodable {
    public var text: String
    public init(text: String) { self.text = text }

    /// Encodes a value with `JSONEncoder` (sorted keys, so equal values give equal text).
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        self.text = String(decoding: data, as: UTF8.self)
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    public func postgresBind() throws -> PostgresBind { try text.postgresBind().retyped(.jsonb) }

    public static func decode(from cell: PostgresCell) throws -> PostgresJSON {
        try cell.expect([.json, .jsonb, .text])
        return PostgresJSON(text: cell.text)
    }
}

extension PostgresBind {
    func retyped(_ type: PostgresType) -> PostgresBind {
        PostgresBind(storage: storage, type: type)
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public func postgresBind() throws -> PostgresBind {
        var literal = "{"
        for (index, element) in enumerated() {
            if index > 0 { literal += "," }
            literal += try element.arrayLiteralElement()
        }
        literal += "}"
        return .text(literal, Element.arrayType)
    }
}

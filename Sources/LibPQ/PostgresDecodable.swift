public import Foundation

/// One field of a result row, in PostgreSQL's text format, with its column's name and type.
public struct PostgresCell: Sendable {
    public let columnName: String
    public let columnIndex: Int
    public let type: PostgresType
    /// The field's text; empty for NULL.
    public let text: String
    public let isNull: Bool

    /// Throws a decoding error unless the column's type is one of `accepted`.
    public func expect(_ accepted: Set<PostgresType>, as swiftType: Any.Type? = nil) throws {
        guard accepted.contains(type) else {
            let target = swiftType.map { "\($0)" } ?? "the requested type"
            throw decodingError("cannot decode a \(type) column as \(target)")
        }
    }

    public func decodingError(_ message: String) -> PostgresError {
        PostgresError(code: .decoding, message: "column \"\(columnName)\" (#\(columnIndex)): \(message)")
    }
}

/// A Swift type that can be read from a result column.
///
/// Decoding checks the column's type OID first: asking for an `Int` from a `text` column is a
/// `.decoding` error, never a crash or a silent conversion.
public protocol PostgresDecodable: Sendable {
    static func decode(from cell: PostgresCell) throws -> Self
    /// What a NULL decodes to. Only `Optional` accepts one.
    static func decodeNull(from cell: PostgresCell) throws -> Self
}

extension PostgresDecodable {
    public static func decodeNull(from cell: PostgresCell) throws -> Self {
        throw cell.decodingError("unexpected NULL; decode as \(Self.self)? to accept it")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Wrapped? {
        try Wrapped.decode(from: cell)
    }
    public static func decodeNull(from cell: PostgresCell) throws -> Wrapped? { nil }
}

extension String: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> String {
        try cell.expect(PostgresType.textOrJSON, as: String.self)
        return cell.text
    }
}

extension Bool: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Bool {
        try cell.expect(PostgresType.booleans, as: Bool.self)
        switch cell.text {
        case "t": return true
        case "f": return false
        default: throw cell.decodingError("invalid bool text '\(cell.text)'")
        }
    }
}

/// Integers decode from any integer column whose value fits; one that does not fit is an error.
private func decodeInteger<T: FixedWidthInteger>(_ cell: PostgresCell, as: T.Type) throws -> T {
    try cell.expect(PostgresType.integers, as: T.self)
    guard let value = T(cell.text) else {
        throw cell.decodingError("value \(cell.text) does not fit in \(T.self)")
    }
    return value
}

extension Int: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int { try decodeInteger(cell, as: Int.self) }
}

extension Int64: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int64 { try decodeInteger(cell, as: Int64.self) }
}

extension Int32: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int32 { try decodeInteger(cell, as: Int32.self) }
}

extension Int16: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Int16 { try decodeInteger(cell, as: Int16.self) }
}

extension Double: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Double {
        try cell.expect(PostgresType.floats, as: Double.self)
        switch cell.text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(cell.text) else { throw cell.decodingError("invalid float '\(cell.text)'") }
            return value
        }
    }
}

extension UUID: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> UUID {
        try cell.expect(PostgresType.uuids, as: UUID.self)
        guard let value = UUID(uuidString: cell.text) else {
            throw cell.decodingError("invalid uuid '\(cell.text)'")
        }
        return value
    }
}

extension Date: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Date {
        try cell.expect(PostgresType.times, as: Date.self)
        guard let value = PostgresTimestamp.parse(cell.text) else {
            throw cell.decodingError("cannot read '\(cell.text)' as a timestamp")
        }
        return value
    }
}

extension Data: PostgresDecodable {
    public static func decode(from cell: PostgresCell) throws -> Data {
        try cell.expect(PostgresType.byteas, as: Data.self)
        guard let bytes = PostgresBytea.parse(cell.text) else {
            throw cell.decodingError("invalid bytea text")
        }
        return Data(bytes)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public static func decode(from cell: PostgresCell) throws -> [Element] {
        try cell.expect(Element.acceptedArrayTypes, as: [Element].self)
        guard let items = PostgresArrayLiteral.parse(cell.text) else {
            throw cell.decodingError("invalid or multi-dimensional array '\(cell.text.prefix(40))'")
        }
        return try items.map { item in
            do {
                return try Element.decodeArrayElement(item)
            } catch let error as PostgresError {
                throw cell.decodingError("array element: \(error.message)")
            }
        }
    }
}

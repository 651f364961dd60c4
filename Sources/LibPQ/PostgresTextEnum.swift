/// A Swift enum stored as text (a column with a CHECK listing its raw values): conform with an empty
/// extension. Decoding a value the enum does not know is a `.decoding` error naming it, never a default.
public protocol PostgresTextEnum: PostgresDecodable, PostgresEncodable, RawRepresentable where RawValue == String {}

extension PostgresTextEnum {
    public static func decode(from cell: PostgresCell) throws -> Self {
        let raw = try String.decode(from: cell)
        guard let value = Self(rawValue: raw) else {
            throw cell.decodingError("'\(raw)' is not a \(Self.self)")
        }
        return value
    }

    public func postgresBind() throws -> PostgresBind { try rawValue.postgresBind() }
}

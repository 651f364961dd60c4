/// A PostgreSQL type OID, as found in `pg_type`. Only the built-in types Orderly binds or decodes are named.
public struct PostgresType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Lets the server infer the parameter's type from the statement.
    public static let unspecified = PostgresType(rawValue: 0)
    public static let bool = PostgresType(rawValue: 16)
    public static let bytea = PostgresType(rawValue: 17)
    public static let char = PostgresType(rawValue: 18)
    public static let name = PostgresType(rawValue: 19)
    public static let int8 = PostgresType(rawValue: 20)
    public static let int2 = PostgresType(rawValue: 21)
    public static let int4 = PostgresType(rawValue: 23)
    public static let text = PostgresType(rawValue: 25)
    public static let oid = PostgresType(rawValue: 26)
    public static let json = PostgresType(rawValue: 114)
    public static let float4 = PostgresType(rawValue: 700)
    public static let float8 = PostgresType(rawValue: 701)
    public static let unknown = PostgresType(rawValue: 705)
    public static let bpchar = PostgresType(rawValue: 1042)
    public static let varchar = PostgresType(rawValue: 1043)
    public static let date = PostgresType(rawValue: 1082)
    public static let timestamp = PostgresType(rawValue: 1114)
    public static let timestamptz = PostgresType(rawValue: 1184)
    public static let numeric = PostgresType(rawValue: 1700)
    public static let uuid = PostgresType(rawValue: 2950)
    public static let jsonb = PostgresType(rawValue: 3802)
    public static let boolArray = PostgresType(rawValue: 1000)
    public static let int2Array = PostgresType(rawValue: 1005)
    public static let int4Array = PostgresType(rawValue: 1007)
    public static let textArray = PostgresType(rawValue: 1009)
    public static let varcharArray = PostgresType(rawValue: 1015)
    public static let int8Array = PostgresType(rawValue: 1016)
    public static let uuidArray = PostgresType(rawValue: 2951)

    static let names: [UInt32: String] = [
        0: "unspecified", 16: "bool", 17: "bytea", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4",
        25: "text", 26: "oid", 114: "json", 700: "float4", 701: "float8", 705: "unknown", 1042: "bpchar",
        1043: "varchar", 1082: "date", 1114: "timestamp", 1184: "timestamptz", 1700: "numeric", 2950: "uuid",
        3802: "jsonb", 1000: "bool[]", 1005: "int2[]", 1007: "int4[]", 1009: "text[]", 1015: "varchar[]",
        1016: "int8[]", 2951: "uuid[]",
    ]

    public var description: String { Self.names[rawValue] ?? "oid \(rawValue)" }

    /// Types whose text form is the string itself.
    static let textLike: Set<PostgresType> = [.text, .varchar, .bpchar, .name, .char, .unknown]
    static let integers: Set<PostgresType> = [.int2, .int4, .int8, .oid]
    // The accepted column types of each decoder, built once (a set literal in a decoder would be
    // allocated and hashed for every cell).
    static let textOrJSON: Set<PostgresType> = textLike.union([.json, .jsonb])
    static let booleans: Set<PostgresType> = [.bool]
    static let floats: Set<PostgresType> = [.float4, .float8]
    static let uuids: Set<PostgresType> = [.uuid]
    static let times: Set<PostgresType> = [.timestamptz, .timestamp, .date]
    static let byteas: Set<PostgresType> = [.bytea]
}

import Foundation
import LibPQ
import OrderlyTestSupport
import Testing

@Suite(.database)
struct TypeRoundTripTests {
    /// Sends `value` as a parameter, casts it server-side to `sqlType`, and decodes it back.
    func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, as sqlType: String) throws -> T {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        // The cast names a type from this test's fixed list; the value itself is a parameter.
        let rows = try connection.query("SELECT $1::\(sqlType) AS v", [value])
        #expect(rows.columns.first?.name == "v")
        return try rows.scalar(T.self)
    }

    @Test(arguments: [Int64.min, -1, 0, 1, Int64.max])
    func int64(_ value: Int64) throws {
        #expect(try roundTrip(value, as: "int8") == value)
    }

    @Test(arguments: [Int32.min, 0, Int32.max])
    func int32(_ value: Int32) throws {
        #expect(try roundTrip(value, as: "int4") == value)
    }

    @Test(arguments: [Int16.min, 0, Int16.max])
    func int16(_ value: Int16) throws {
        #expect(try roundTrip(value, as: "int2") == value)
    }

    @Test func intAndBool() throws {
        #expect(try roundTrip(Int.max, as: "int8") == Int.max)
        #expect(try roundTrip(true, as: "bool") == true)
        #expect(try roundTrip(false, as: "bool") == false)
    }

    @Test(arguments: [
        0.0, -0.0, 1.5, .pi, -1e-300, 1.7976931348623157e308, .leastNonzeroMagnitude, .infinity, -.infinity,
    ])
    func double(_ value: Double) throws {
        let back = try roundTrip(value, as: "float8")
        #expect(back == value)
        #expect(back.sign == value.sign)
    }

    @Test func doubleNaN() throws {
        #expect(try roundTrip(Double.nan, as: "float8").isNaN)
    }

    @Test(arguments: [
        "", "plain", "naïve café 日本語 🚀", "quote ' and \" and \\ backslash", "tab\tnew\nline",
        String(repeating: "x", count: 100_000), "NULL",
    ])
    func string(_ value: String) throws {
        #expect(try roundTrip(value, as: "text") == value)
    }

    @Test func stringWithNulIsRefusedBeforeSending() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let error = try #require(throws: PostgresError.self) {
            try connection.query("SELECT $1::text", ["a\u{0}b"])
        }
        #expect(error.code == .encoding)
    }

    @Test(arguments: [
        Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_700_000_000.123456),
        Date(timeIntervalSince1970: -1_234_567_890.5), Date(timeIntervalSince1970: 253_402_300_799),
        Date(timeIntervalSince1970: -62_135_596_800),  // 0001-01-01
        Date(timeIntervalSince1970: -62_167_219_200),  // 0001-01-01 BC (year 0)
        Date.distantFuture, Date.distantPast,
    ])
    func timestamp(_ value: Date) throws {
        let back = try roundTrip(value, as: "timestamptz")
        #expect(abs(back.timeIntervalSince1970 - value.timeIntervalSince1970) < 0.000_001)
    }

    @Test func timestampIsReadCorrectlyInAnySessionTimeZone() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        for zone in ["Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "UTC"] {
            try connection.execute("SELECT set_config('TimeZone', $1, false)", [zone])
            let date = try connection.query("SELECT '2024-02-29 12:00:00.5+00'::timestamptz").scalar(Date.self)
            #expect(date.timeIntervalSince1970 == 1_709_208_000.5, "in \(zone)")
        }
        // A pre-1900 local mean time offset prints with seconds (+05:53:28).
        try connection.execute("SET TimeZone = 'Asia/Kolkata'")
        let old = try connection.query("SELECT '1850-01-01 00:00:00+00'::timestamptz").scalar(Date.self)
        #expect(old.timeIntervalSince1970 == -3_786_825_600)
    }

    @Test func uuid() throws {
        let value = UUID()
        #expect(try roundTrip(value, as: "uuid") == value)
    }

    @Test(arguments: [0, 1, 255, 1 << 20])
    func bytea(_ size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let value = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        #expect(try roundTrip(value, as: "bytea") == value)
    }

    @Test func byteaInTheOlderEscapeFormat() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        try connection.execute("SET bytea_output = 'escape'")
        let value = Data([0, 1, 92, 39, 127, 128, 255] + Array("abc".utf8))
        #expect(try connection.query("SELECT $1::bytea", [value]).scalar(Data.self) == value)
    }

    @Test func jsonb() throws {
        struct Payload: Codable, Equatable {
            var name: String
            var lines: [Int]
            var note: String?
        }
        let payload = Payload(name: "ünï \"q\"", lines: [1, 2, 3], note: nil)
        let back = try roundTrip(try PostgresJSON(encoding: payload), as: "jsonb")
        #expect(try back.decode(Payload.self) == payload)
    }

    @Test func textArray() throws {
        let value = ["", "a,b", "{braces}", "quote\"", "back\\slash", "NULL", "spaces in", "ü"]
        #expect(try roundTrip(value, as: "text[]") == value)
        #expect(try roundTrip([String](), as: "text[]") == [])
        let withNull: [String?] = ["a", nil, "NULL"]
        #expect(try roundTrip(withNull, as: "text[]") == withNull)
    }

    @Test func int8Array() throws {
        let value: [Int64] = [Int64.min, -1, 0, 42, Int64.max]
        #expect(try roundTrip(value, as: "int8[]") == value)
    }

    @Test func nullsOfEveryType() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let row = try connection.query(
            """
            SELECT $1::int8, $2::int4, $3::int2, $4::bool, $5::float8, $6::text, $7::timestamptz, $8::uuid,
                   $9::bytea, $10::jsonb, $11::text[], $12::int8[]
            """,
            [
                Int64?.none, Int32?.none, Int16?.none, Bool?.none, Double?.none, String?.none, Date?.none,
                UUID?.none, Data?.none, PostgresJSON?.none, [String]?.none, [Int64]?.none,
            ]
        )[0]
        #expect(try row.decode(Int64?.self, at: 0) == nil)
        #expect(try row.decode(Int32?.self, at: 1) == nil)
        #expect(try row.decode(Int16?.self, at: 2) == nil)
        #expect(try row.decode(Bool?.self, at: 3) == nil)
        #expect(try row.decode(Double?.self, at: 4) == nil)
        #expect(try row.decode(String?.self, at: 5) == nil)
        #expect(try row.decode(Date?.self, at: 6) == nil)
        #expect(try row.decode(UUID?.self, at: 7) == nil)
        #expect(try row.decode(Data?.self, at: 8) == nil)
        #expect(try row.decode(PostgresJSON?.self, at: 9) == nil)
        #expect(try row.decode([String]?.self, at: 10) == nil)
        #expect(try row.decode([Int64]?.self, at: 11) == nil)
        #expect(try row.isNull(at: 0))
    }

    @Test func decodingTheWrongTypeIsAClearError() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let row = try connection.query(
            "SELECT 'x'::text AS t, 70000::int4 AS big, NULL::int8 AS n, 1.5::numeric AS num"
        )[0]
        let cases: [(String, () throws -> Void)] = [
            ("int from text", { _ = try row.decode(Int.self, "t") }),
            ("string from int", { _ = try row.decode(String.self, "big") }),
            ("int16 overflow", { _ = try row.decode(Int16.self, "big") }),
            ("null into non-optional", { _ = try row.decode(Int64.self, "n") }),
            ("double from numeric", { _ = try row.decode(Double.self, "num") }),
            ("date from text", { _ = try row.decode(Date.self, "t") }),
            ("uuid from text", { _ = try row.decode(UUID.self, "t") }),
            ("array from text", { _ = try row.decode([String].self, "t") }),
        ]
        for (label, attempt) in cases {
            let error = try #require(throws: PostgresError.self, "\(label)") { try attempt() }
            #expect(error.code == .decoding, "\(label)")
            #expect(error.message.contains("column"), "\(label): \(error.message)")
        }
        #expect(throws: PostgresError.self) { _ = try row.decode(Int.self, at: 9) }
        #expect(throws: PostgresError.self) { _ = try row.decode(Int.self, "missing") }
        #expect(try row.decode(Int16?.self, "n") == nil)
    }
}

@Suite(.database)
struct ParameterLayoutTests {
    @Test func onlyNullParameters() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let row = try connection.query("SELECT $1::text IS NULL, $2::int8 IS NULL", [String?.none, Int64?.none])[0]
        #expect(try row.decode(Bool.self, at: 0))
        #expect(try row.decode(Bool.self, at: 1))
    }

    @Test func emptyAndNullMixed() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let row = try connection.query("SELECT $1::text, $2::text, $3::bytea", ["", String?.none, Data()])[0]
        #expect(try row.decode(String.self, at: 0) == "")
        #expect(try row.decode(String?.self, at: 1) == nil)
        #expect(try row.decode(Data.self, at: 2) == Data())
    }
}

import Testing

@testable import OrderlyChannels

struct JSONValueTests {
    @Test func numbersKeepTheirTextAndStringsTheirEscapes() throws {
        let value = try JSONValue.parse(#"{"a": 586.76, "b": -0.5e-3, "c": "\u00e9\ud83d\ude00\n", "d": [true, null]}"#)
        #expect(
            value
                == .object([
                    "a": .number("586.76"), "b": .number("-0.5e-3"), "c": .string("é😀\n"),
                    "d": .array([.bool(true), .null]),
                ])
        )
    }

    @Test func notJSONIsRefusedWithWhere() {
        let cases: [(String, String)] = [
            (#"{"a": 1, "a": 2}"#, "not JSON at byte 9: the member \"a\" appears twice"),
            ("[1, 2", "not JSON at byte 5: expected ',' or ']' in an array"),
            ("01", "not JSON at byte 1: unexpected text after the document"),
            (#"{"a": .5}"#, "not JSON at byte 6: unexpected character '.'"),
            (#""\ud800""#, "not JSON at byte 7: a lone high surrogate"),
            ("{} x", "not JSON at byte 3: unexpected text after the document"),
            (
                String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
                "not JSON at byte 64: nested deeper than 64"
            ),
            ("\"a\u{01}\"", "not JSON at byte 2: a control character inside a string"),
        ]
        for (text, message) in cases {
            #expect {
                try JSONValue.parse(text)
            } throws: { error in
                "\(error)" == message
            }
        }
    }

    @Test func amountsAreExactOrRefused() throws {
        #expect(try MinorUnits.parse("11.01", digits: 2) == 1101)
        #expect(try MinorUnits.parse("165", digits: 2) == 16500)
        #expect(try MinorUnits.parse("0.8", digits: 2) == 80)
        #expect(try MinorUnits.parse("1.5e1", digits: 2) == 1500)
        #expect(try MinorUnits.parse("-2.00", digits: 2) == -200)
        #expect(try MinorUnits.parse("1.0", digits: 0) == 1)
        #expect(throws: MinorUnits.Refusal.self) { try MinorUnits.parse("25.99", digits: 0) }
        #expect(throws: MinorUnits.Refusal.self) { try MinorUnits.parse("1.005", digits: 2) }
        #expect(throws: MinorUnits.Refusal.self) { try MinorUnits.parse("99999999999999999999", digits: 2) }
        #expect(throws: MinorUnits.Refusal.self) { try MinorUnits.parse("1,00", digits: 2) }
        #expect(throws: MinorUnits.Refusal.self) { try MinorUnits.parse("", digits: 2) }
        #expect(try MinorUnits.parse("12.345", digits: 3) == 12345)
        #expect(try MinorUnits.parse("1.000", digits: 2) == 100)
    }
}

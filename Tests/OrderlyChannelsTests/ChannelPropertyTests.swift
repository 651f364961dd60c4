import PropertyBased
import Testing

@testable import OrderlyChannels

/// Properties of the reader and the amounts over random inputs (printed on failure).
@Suite
struct ChannelPropertyTests {
    /// `units` minor units written as a decimal with `digits` decimals: 12345 at 2 is "123.45".
    static func written(_ units: Int64, digits: Int) -> String {
        let sign = units < 0 ? "-" : ""
        let magnitude = String(units.magnitude)
        guard digits > 0 else { return sign + magnitude }
        let padded = String(repeating: "0", count: max(0, digits + 1 - magnitude.count)) + magnitude
        return sign + padded.dropLast(digits) + "." + padded.suffix(digits)
    }

    @Test func anAmountWrittenOutReadsBackExactlyAndOneDigitMoreIsRefused() async {
        await propertyCheck(
            count: 500,
            input: Gen.int(in: -999_999_999_999_999...999_999_999_999_999),
            Gen.int(in: 0...3)
        ) {
            units,
            digits in
            let text = Self.written(Int64(units), digits: digits)
            #expect((try? MinorUnits.parse(text, digits: digits)) == Int64(units), "\(text)")
            // The same amount with trailing zeros, or as an exponent, is the same amount.
            #expect((try? MinorUnits.parse(text + (digits > 0 ? "00" : ".00"), digits: digits)) == Int64(units))
            #expect((try? MinorUnits.parse(text + "e0", digits: digits)) == Int64(units))
            // A digit past the currency's minor unit is never rounded away.
            #expect(throws: MinorUnits.Refusal.self) {
                try MinorUnits.parse(text + (digits > 0 ? "7" : ".7"), digits: digits)
            }
        }
    }

    static let jsonAlphabet = Array(#"{}[]",:0123456789.eE-+truefalsn\u "#.utf8)

    @Test func anyBytesGetAValueOrAnErrorAndNeverACrash() async {
        await propertyCheck(count: 1000, input: Gen.element(of: Self.jsonAlphabet).array(of: 0...60)) { drawn in
            let bytes = drawn.compactMap { $0 }
            do throws(JSONParseError) {
                let value = try JSONValue.parse(bytes)
                // What parses is one value of a known kind.
                #expect(["null", "a boolean", "a number", "a string", "an array", "an object"].contains(value.kind))
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count, "\(error)")
            }
        }
        await propertyCheck(count: 500, input: Gen.int(in: 0...255).array(of: 0...80)) { raw in
            let bytes = raw.map { UInt8($0) }
            do throws(JSONParseError) {
                _ = try JSONValue.parse(bytes)
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count, "\(error)")
            }
        }
    }
}

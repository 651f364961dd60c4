import Foundation

/// Reads and writes PostgreSQL's ISO text form of `timestamptz`, with microsecond precision.
///
/// Parsing accepts any UTC offset (`+05`, `-03:30`, `+05:53:28`), so the session's TimeZone
/// does not matter, plus `infinity`/`-infinity` and `BC` years.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        if date == .distantFuture { return "infinity" }
        if date == .distantPast { return "-infinity" }
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let total = Int64(micros)
        var seconds = total / 1_000_000
        var fraction = total % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        let bc = year <= 0
        let displayYear = bc ? 1 - year : year
        var text = pad(displayYear, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += " " + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fraction != 0 { text += "." + pad(fraction, 6) }
        text += "+00"
        if bc { text += " BC" }
        return text
    }

    static func parse(_ text: String) -> Date? {
        switch text {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        var bytes = Array(text.utf8)
        var bc = false
        if bytes.count > 3, bytes.suffix(3) == Array(" BC".utf8) {
            bc = true
            bytes.removeLast(3)
        }
        var position = 0
        func number(_ maxDigits: Int = 9) -> Int64? {
            var value: Int64 = 0
            var digits = 0
            while position < bytes.count, digits < maxDigits, bytes[position] >= 48, bytes[position] <= 57 {
                value = value * 10 + Int64(bytes[position] - 48)
                position += 1
                digits += 1
            }
            return digits == 0 ? nil : value
        }
        func consume(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }
        guard var year = number(), consume(UInt8(ascii: "-")), let month = number(2),
            consume(UInt8(ascii: "-")), let day = number(2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        if bc { year = 1 - year }
        var seconds = days(fromYear: year, month: month, day: day) * 86_400
        var micros: Int64 = 0
        if position < bytes.count {
            guard consume(UInt8(ascii: " ")) || consume(UInt8(ascii: "T")),
                let hour = number(2), consume(UInt8(ascii: ":")), let minute = number(2),
                consume(UInt8(ascii: ":")), let second = number(2)
            else { return nil }
            seconds += hour * 3600 + minute * 60 + second
            if consume(UInt8(ascii: ".")) {
                let start = position
                guard let fraction = number(6) else { return nil }
                var scale = position - start
                micros = fraction
                while scale < 6 {
                    micros *= 10
                    scale += 1
                }
            }
            if position < bytes.count {
                let sign: Int64
                if consume(UInt8(ascii: "+")) {
                    sign = 1
                } else if consume(UInt8(ascii: "-")) {
                    sign = -1
                } else {
                    return nil
                }
                guard let offsetHours = number(2) else { return nil }
                var offset = offsetHours * 3600
                if consume(UInt8(ascii: ":")) {
                    guard let offsetMinutes = number(2) else { return nil }
                    offset += offsetMinutes * 60
                    if consume(UInt8(ascii: ":")) {
                        guard let offsetSeconds = number(2) else { return nil }
                        offset += offsetSeconds
                    }
                }
                seconds -= sign * offset
            }
        }
        guard position == bytes.count else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

/// Reads `bytea` text output in either of PostgreSQL's forms: `hex` (`\x0a1b`) or the older `escape`.
enum PostgresBytea {
    static func parse(_ text: String) -> [UInt8]? {
        let utf8 = text.utf8
        if utf8.starts(with: [92, 120]) {  // \x
            var result: [UInt8] = []
            result.reserveCapacity((utf8.count - 2) / 2)
            var high: UInt8?
            for byte in utf8.dropFirst(2) {
                guard let nibble = hexValue(byte) else { return nil }
                if let h = high {
                    result.append(h << 4 | nibble)
                    high = nil
                } else {
                    high = nibble
                }
            }
            return high == nil ? result : nil
        }
        var result: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == 92 else {
                result.append(byte)
                continue
            }
            guard let next = iterator.next() else { return nil }
            if next == 92 {
                result.append(92)
                continue
            }
            guard let b = iterator.next(), let c = iterator.next(), let d1 = octal(next), let d2 = octal(b),
                let d3 = octal(c), d1 <= 3
            else { return nil }
            result.append(d1 << 6 | d2 << 3 | d3)
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }

    private static func octal(_ byte: UInt8) -> UInt8? {
        (48...55).contains(byte) ? byte - 48 : nil
    }
}

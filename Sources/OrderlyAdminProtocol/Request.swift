/// Protocol-wide limits (docs/admin-protocol.md).
public enum AdminLimits {
    /// Bytes in one request line, without its line ending.
    public static let maximumLineLength = 65_536
    /// Arguments per request once authenticated (the verb and subcommand not counted).
    public static let maximumArguments = 64
    /// Arguments per request before AUTH.
    public static let maximumArgumentsBeforeAuth = 8
}

/// One word of a request: a value, or `key=value`.
public struct AdminToken: Hashable, Sendable {
    public var key: String?
    public var value: String
    /// Written in quotes (so never a verb or subcommand).
    public var quoted: Bool

    public init(key: String? = nil, value: String, quoted: Bool = false) {
        self.key = key
        self.value = value
        self.quoted = quoted
    }
}

/// A request line, split into its tag and tokens; what the words mean is the command table's business.
public struct AdminRequest: Hashable, Sendable {
    public var tag: String?
    public var tokens: [AdminToken]

    public init(tag: String? = nil, tokens: [AdminToken]) {
        self.tag = tag
        self.tokens = tokens
    }

    /// Parses one line (its LF already removed; a final CR is the CRLF's and is dropped, unless
    /// `framed` says the framer already removed the whole line ending: then any CR left, as in
    /// `PING\r\r\n`, is a stray one). Returns nil for an empty or blank line, which gets no reply.
    /// `maximumTokens` bounds the work on hostile input.
    public static func parse(
        _ line: some Collection<UInt8>,
        maximumTokens: Int = AdminLimits.maximumArguments + 2,
        framed: Bool = false
    ) throws(AdminError) -> AdminRequest? {
        var bytes = Array(line)
        if !framed && bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count <= AdminLimits.maximumLineLength else {
            throw AdminError(.lineTooLong, "the line is longer than \(AdminLimits.maximumLineLength) bytes")
        }
        for (index, byte) in bytes.enumerated() where byte < 0x20 && byte != 0x09 || byte == 0x7F {
            let what = byte == 0x0D ? "a carriage return inside the line" : "control byte \(hex(byte))"
            throw AdminError(.syntax, "\(what) at column \(index + 1)")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw AdminError(.syntax, "the line is not valid UTF-8")
        }
        var parser = Parser(bytes: bytes, maximumTokens: maximumTokens)
        return try parser.request()
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}

/// The tokenizer: one pass over validated bytes, no backtracking.
private struct Parser {
    let bytes: [UInt8]
    let maximumTokens: Int
    var index = 0

    init(bytes: [UInt8], maximumTokens: Int) {
        self.bytes = bytes
        self.maximumTokens = maximumTokens
    }

    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let quote = UInt8(ascii: "\"")
    static let equals = UInt8(ascii: "=")
    static let backslash = UInt8(ascii: "\\")

    var atEnd: Bool { index >= bytes.count }
    var atSeparator: Bool { atEnd || bytes[index] == Self.space || bytes[index] == Self.tab }

    mutating func skipSeparators() {
        while !atEnd && (bytes[index] == Self.space || bytes[index] == Self.tab) { index += 1 }
    }

    mutating func request() throws(AdminError) -> AdminRequest? {
        var tag: String?
        var tokens: [AdminToken] = []
        skipSeparators()
        if atEnd { return nil }
        if bytes[index] == UInt8(ascii: "@") {
            index += 1
            let start = index
            while !atSeparator { index += 1 }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard (1...32).contains(text.utf8.count), text.utf8.allSatisfy(Self.isTagByte) else {
                throw AdminError(.syntax, "a tag is 1-32 letters, digits, '-', '_' or '.'")
            }
            tag = text
            skipSeparators()
        }
        while !atEnd {
            guard tokens.count < maximumTokens else {
                throw AdminError(
                    .tooManyArguments,
                    "more than \(max(0, maximumTokens - 2)) arguments"
                )
            }
            tokens.append(try token())
            skipSeparators()
        }
        guard !tokens.isEmpty else { throw AdminError(.syntax, "a tag without a command") }
        return AdminRequest(tag: tag, tokens: tokens)
    }

    mutating func token() throws(AdminError) -> AdminToken {
        if bytes[index] == Self.quote { return AdminToken(value: try quoted(), quoted: true) }
        let start = index
        var equals: Int?
        while !atSeparator {
            let byte = bytes[index]
            if byte == Self.quote {
                if let equals, index == equals + 1 { break }
                throw AdminError(.syntax, "a quote inside a bare value at column \(index + 1)")
            }
            if byte == Self.equals {
                if equals != nil {
                    throw AdminError(.syntax, "a second '=' at column \(index + 1); quote values containing '='")
                }
                equals = index
            }
            index += 1
        }
        guard let equals else {
            return AdminToken(value: String(decoding: bytes[start..<index], as: UTF8.self))
        }
        let key = String(decoding: bytes[start..<equals], as: UTF8.self)
        guard Self.isKey(key) else {
            throw AdminError(
                .syntax,
                "'\(key)' is not an argument name (lower case letters, digits and '_', starting with a letter)"
            )
        }
        if index < bytes.count && bytes[index] == Self.quote {
            return AdminToken(key: key, value: try quoted(), quoted: true)
        }
        return AdminToken(key: key, value: String(decoding: bytes[(equals + 1)..<index], as: UTF8.self))
    }

    /// A quoted value from the opening quote at `index`; must be followed by a separator or the end.
    mutating func quoted() throws(AdminError) -> String {
        let opening = index
        index += 1
        var value: [UInt8] = []
        while true {
            guard !atEnd else { throw AdminError(.syntax, "the quote opened at column \(opening + 1) is not closed") }
            let byte = bytes[index]
            index += 1
            if byte == Self.quote { break }
            guard byte == Self.backslash else {
                value.append(byte)
                continue
            }
            guard !atEnd else { throw AdminError(.syntax, "a backslash at the end of the line") }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case Self.backslash, Self.quote: value.append(escaped)
            case UInt8(ascii: "n"): value.append(0x0A)
            case UInt8(ascii: "r"): value.append(0x0D)
            case UInt8(ascii: "t"): value.append(0x09)
            case UInt8(ascii: "x"):
                guard index + 1 < bytes.count, let high = Self.hexValue(bytes[index]),
                    let low = Self.hexValue(bytes[index + 1])
                else { throw AdminError(.syntax, "\\x needs two hex digits at column \(index - 1)") }
                value.append(high << 4 | low)
                index += 2
            default:
                throw AdminError(
                    .syntax,
                    "unknown escape '\\\(Character(Unicode.Scalar(escaped)))' at column \(index - 1)"
                )
            }
        }
        guard atSeparator else {
            throw AdminError(.syntax, "text right after the closing quote at column \(index + 1)")
        }
        guard !value.contains(0) else { throw AdminError(.syntax, "a NUL byte in a quoted value") }
        guard let text = String(validating: value, as: UTF8.self) else {
            throw AdminError(.syntax, "the quoted value is not valid UTF-8 once unescaped")
        }
        return text
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func isKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard (1...32).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]) else {
            return false
        }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }

    static func isTagByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }
}

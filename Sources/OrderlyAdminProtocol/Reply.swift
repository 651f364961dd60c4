/// A value in a reply, typed so JSON replies keep numbers and booleans.
public enum AdminValue: Hashable, Sendable, CustomStringConvertible {
    case text(String)
    case int(Int64)
    case bool(Bool)
    case null

    public var description: String {
        switch self {
        case .text(let text): text
        case .int(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .null: ""
        }
    }
}

/// One `key=value` of a reply.
public struct AdminField: Hashable, Sendable {
    public var key: String
    public var value: AdminValue

    public init(_ key: String, _ value: AdminValue) {
        self.key = key
        self.value = value
    }

    public init(_ key: String, _ text: String) { self.init(key, .text(text)) }
    public init(_ key: String, _ value: Int64) { self.init(key, .int(value)) }
    public init(_ key: String, _ value: Int) { self.init(key, .int(Int64(value))) }
    public init(_ key: String, _ value: Bool) { self.init(key, .bool(value)) }
    public init(_ key: String, _ text: String?) { self.init(key, text.map(AdminValue.text) ?? .null) }
}

/// How replies are written on a connection.
public enum AdminFormat: String, Sendable, CaseIterable {
    case text, json
}

/// A reply: fields, a row set, or an error.
public enum AdminReply: Hashable, Sendable {
    case ok([AdminField])
    case rows([[AdminField]])
    case error(AdminError)

    public static func ok(_ fields: AdminField...) -> AdminReply { .ok(fields) }

    /// The reply's bytes: one line (text or JSON), or for a text row set N + 2 lines; each ends in LF.
    public func encoded(_ format: AdminFormat, tag: String?) -> String {
        switch format {
        case .text: textLines(tag: tag)
        case .json: jsonLine(tag: tag)
        }
    }

    func textLines(tag: String?) -> String {
        let prefix = tag.map { "@\($0) " } ?? ""
        switch self {
        case .ok(let fields):
            return prefix + (["OK"] + fields.map(Self.text)).joined(separator: " ") + "\n"
        case .rows(let rows):
            var out = prefix + "OK rows=\(rows.count)\n"
            for row in rows { out += row.map(Self.text).joined(separator: " ") + "\n" }
            return out + "END\n"
        case .error(let error):
            return prefix + "ERR \(error.code) \(AdminQuoting.singleLine(error.message))\n"
        }
    }

    static func text(_ field: AdminField) -> String {
        field.key + "=" + AdminQuoting.quote(field.value.description)
    }

    func jsonLine(tag: String?) -> String {
        var members: [String] = []
        if let tag { members.append("\"tag\":" + JSONText.string(tag)) }
        switch self {
        case .ok(let fields):
            members.append("\"ok\":true")
            members.append("\"fields\":" + JSONText.object(fields))
        case .rows(let rows):
            members.append("\"ok\":true")
            members.append("\"rows\":[" + rows.map(JSONText.object).joined(separator: ",") + "]")
        case .error(let error):
            members.append("\"ok\":false")
            members.append("\"code\":" + JSONText.string(error.code.rawValue))
            members.append("\"message\":" + JSONText.string(error.message))
        }
        return "{" + members.joined(separator: ",") + "}\n"
    }
}

/// The protocol's quoting, shared by requests and replies so that output pastes back as input.
public enum AdminQuoting {
    /// `value` bare when it can be, otherwise quoted with the protocol's escapes.
    public static func quote(_ value: String) -> String {
        if !value.isEmpty && value.utf8.allSatisfy(isBare) { return value }
        // Multi-byte characters stay as they are; only the ASCII specials are escaped.
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + String(AdminRequest.hex(UInt8(scalar.value)).dropFirst(2))
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func isBare(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte != 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "=")
            && byte != UInt8(ascii: "\\")
    }

    /// A message for an ERR line: control characters (newlines included) become spaces.
    static func singleLine(_ message: String) -> String {
        String(
            String.UnicodeScalarView(
                message.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }
            )
        )
    }
}

/// Minimal JSON writing for replies (no Foundation on this path).
enum JSONText {
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _
            where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func value(_ value: AdminValue) -> String {
        switch value {
        case .text(let text): string(text)
        case .int(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        }
    }

    static func object(_ fields: [AdminField]) -> String {
        "{" + fields.map { string($0.key) + ":" + value($0.value) }.joined(separator: ",") + "}"
    }
}

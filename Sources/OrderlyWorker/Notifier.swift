import Foundation
public import LineSocket
public import Logging
public import OrderlyCore

/// Sends outbox messages. `send` runs inside the notify job's transaction, which marks the message
/// sent: a crash after the far side accepted it and before the commit sends it again (at least once;
/// the Message-ID header, stable per notification, lets the receiving side drop the repeat).
public protocol Notifier: Sendable {
    func send(_ message: OutboxEntry) throws
}

/// Writes each message to the log (development, and the `log` channel: operations alerts). At info
/// the line names the message, never its recipient or body: a customer's address and what was sent
/// appear only at debug level (`--log-level debug`), so shipped logs hold no customer data.
public struct LogNotifier: Notifier {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func send(_ message: OutboxEntry) throws {
        logger.info(
            "notification",
            metadata: [
                "notification": "\(message.id)", "kind": "\(message.kind.rawValue)", "channel": "\(message.channel)",
                "subject": "\(message.subject)",
            ]
        )
        logger.debug(
            "notification content",
            metadata: ["notification": "\(message.id)", "to": "\(message.recipient)", "body": "\(message.body)"]
        )
    }
}

/// Sends e-mail by SMTP (RFC 5321): EHLO, STARTTLS and AUTH where configured, MAIL FROM, RCPT TO,
/// DATA with dot-stuffing, QUIT. To a local relay in the clear (`.none`, port 25), or to a provider
/// on its submission port with STARTTLS (587) or implicit TLS (465) and AUTH PLAIN or LOGIN. Messages
/// of other channels go to `fallback`.
public struct SMTPNotifier: Notifier {
    /// How the connection is protected.
    public enum Security: Sendable {
        /// Plaintext: a relay on loopback or a private network. No credentials are ever sent this way.
        case none
        /// Plaintext until STARTTLS, which the server must offer (RFC 3207): no fallback to the clear.
        case startTLS(TLSClientSettings)
        /// TLS from the first byte (RFC 8314, port 465).
        case implicitTLS(TLSClientSettings)
    }

    public enum Mechanism: String, Sendable, CaseIterable {
        case plain = "PLAIN"
        case login = "LOGIN"
    }

    public struct Credentials: Sendable {
        public var user: String
        public var password: String
        /// Mechanisms in the order tried, the first the server offers is used.
        public var mechanisms: [Mechanism]

        public init(user: String, password: String, mechanisms: [Mechanism] = [.plain, .login]) {
            self.user = user
            self.password = password
            self.mechanisms = mechanisms
        }
    }

    public var host: String
    public var port: Int
    public var from: String
    /// The name this client gives in EHLO and in Message-IDs: a fully qualified domain name, which
    /// providers check (`defaultHeloName` finds one).
    public var heloName: String
    public var security: Security
    public var credentials: Credentials?
    public var timeout: Double
    public var fallback: any Notifier

    public init(
        host: String,
        port: Int,
        from: String,
        heloName: String? = nil,
        security: Security = .none,
        credentials: Credentials? = nil,
        timeout: Double = 30,
        fallback: any Notifier
    ) {
        self.host = host
        self.port = port
        self.from = from
        self.heloName = heloName ?? Self.defaultHeloName(from: from)
        self.security = security
        self.credentials = credentials
        self.timeout = timeout
        self.fallback = fallback
    }

    /// The host's canonical name when it is fully qualified, else the domain of the sender's address
    /// (better than a bare host name, which providers refuse).
    public static func defaultHeloName(from: String) -> String {
        var name = [CChar](repeating: 0, count: 256)
        if gethostname(&name, name.count) == 0 {
            let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var hints = addrinfo()
            hints.ai_flags = AI_CANONNAME
            var list: UnsafeMutablePointer<addrinfo>?
            if getaddrinfo(host, nil, &hints, &list) == 0, let first = list {
                defer { freeaddrinfo(list) }
                if let canonical = first.pointee.ai_canonname.map({ String(cString: $0) }), isDomain(canonical) {
                    return canonical
                }
            }
            if isDomain(host) { return host }
        }
        let domain = from.split(separator: "@").last.map(String.init) ?? ""
        return isDomain(domain) ? domain : "localhost.localdomain"
    }

    /// A name with at least two labels of letters, digits and hyphens.
    public static func isDomain(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && text.count <= 253
            && labels.allSatisfy { label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }

    public func send(_ message: OutboxEntry) throws {
        guard message.channel == "email" else { return try fallback.send(message) }
        guard Self.isAddress(message.recipient) else {
            throw NotifierError("'\(message.recipient)' is not an e-mail address SMTP can send to")
        }
        guard Self.isAddress(from) else { throw NotifierError("the sender '\(from)' is not an e-mail address") }
        if credentials != nil, case .none = security {
            throw NotifierError("SMTP credentials are sent only over TLS: use STARTTLS or implicit TLS")
        }
        let connection: LineSocket
        do {
            var implicit: TLSClientSettings?
            if case .implicitTLS(let settings) = security { implicit = settings }
            connection = try LineSocket(host: host, port: port, timeout: timeout, tls: implicit)
        } catch {
            throw NotifierError("SMTP \(host):\(port): \(error.description)")
        }
        let session = SMTPSession(connection: connection)
        try session.expect(220)
        var extensions = try session.command("EHLO \(heloName)", expect: 250)
        if case .startTLS(let settings) = security {
            guard extensions.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw NotifierError("SMTP \(host):\(port) does not offer STARTTLS; nothing was sent in the clear")
            }
            try session.command("STARTTLS", expect: 220)
            do { try connection.startTLS(settings) } catch {
                throw NotifierError("SMTP \(host):\(port): \(error.description)")
            }
            // RFC 3207: what was learnt before TLS is forgotten; the client greets again.
            extensions = try session.command("EHLO \(heloName)", expect: 250)
        }
        if let credentials { try authenticate(session, credentials, extensions: extensions) }
        try session.command("MAIL FROM:<\(from)>", expect: 250)
        try session.command("RCPT TO:<\(message.recipient)>", expect: 250, or: 251)
        try session.command("DATA", expect: 354)
        try session.data(Self.render(message, from: from, heloName: heloName))
        try session.expect(250)
        _ = try? session.command("QUIT", expect: 221)
    }

    /// AUTH with the first of the credentials' mechanisms the server offers (RFC 4954; PLAIN is RFC
    /// 4616, LOGIN the de-facto one). The secret never appears in an error.
    func authenticate(_ session: SMTPSession, _ credentials: Credentials, extensions: [String]) throws {
        var offered = Set<String>()
        for line in extensions {
            let words = line.uppercased().split(separator: " ").map(String.init)
            if words.first == "AUTH" { offered.formUnion(words.dropFirst()) }
        }
        guard let mechanism = credentials.mechanisms.first(where: { offered.contains($0.rawValue) }) else {
            let names = credentials.mechanisms.map(\.rawValue).joined(separator: " or ")
            let theirs = offered.isEmpty ? "none" : offered.sorted().joined(separator: " ")
            throw NotifierError(
                "SMTP \(host):\(port) offers no AUTH mechanism this client has (\(names)); it offers \(theirs)"
            )
        }
        let encode = { (text: String) in Data(text.utf8).base64EncodedString() }
        switch mechanism {
        case .plain:
            try session.command(
                "AUTH PLAIN " + encode("\u{0}\(credentials.user)\u{0}\(credentials.password)"),
                expect: 235,
                shown: "AUTH PLAIN"
            )
        case .login:
            try session.command("AUTH LOGIN", expect: 334)
            try session.command(encode(credentials.user), expect: 334, shown: "AUTH LOGIN (user)")
            try session.command(encode(credentials.password), expect: 235, shown: "AUTH LOGIN (password)")
        }
    }

    /// A bare address SMTP can carry in MAIL FROM / RCPT TO (no brackets, spaces or controls).
    public static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && text.count <= 254
            && text.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0.value < 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0)
            }
    }

    /// The longest body line sent as it is (RFC 5321 allows 998 bytes before the CRLF); a body with a
    /// longer line goes in base64.
    static let maximumPlainLine = 998

    /// The message as RFC 5322 text with CRLF line ends, no line over 998 bytes: headers (a long or
    /// non-ASCII subject as folded RFC 2047 encoded words), a body in base64 when it is not ASCII or
    /// has a line too long to send as it is.
    static func render(_ message: OutboxEntry, from: String, heloName: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let lines = message.body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        let ascii =
            message.body.unicodeScalars.allSatisfy { $0.isASCII }
            && lines.allSatisfy { $0.utf8.count <= maximumPlainLine }
        var headers = [
            "From: Orderly <\(from)>",
            "To: <\(message.recipient)>",
            "Subject: " + header(message.subject),
            "Date: " + formatter.string(from: Date()),
            "Message-ID: <notification-\(message.id)@\(heloName)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "X-Orderly-Kind: \(message.kind.rawValue)",
        ]
        let body: String
        if ascii {
            headers.append("Content-Transfer-Encoding: 7bit")
            body = lines.joined(separator: "\r\n")
        } else {
            headers.append("Content-Transfer-Encoding: base64")
            body = Data(message.body.utf8).base64EncodedString(options: [
                .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
            ])
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// A header value: control characters dropped (no header injection); plain when it is short ASCII,
    /// else RFC 2047 encoded words of at most 75 characters, folded one a line (CRLF and a space), each
    /// holding whole characters.
    static func header(_ value: String) -> String {
        let clean = String(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        if clean.unicodeScalars.allSatisfy({ $0.isASCII }) && clean.utf8.count <= 66 { return clean }
        // 39 bytes of UTF-8 are 52 of base64; with "=?UTF-8?B?" and "?=" a word is 64, and with
        // "Subject: " before it a line is 73 (RFC 2047: at most 76).
        var words: [[UInt8]] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39, !chunk.isEmpty {
                words.append(chunk)
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }
}

/// One SMTP conversation's replies and commands.
struct SMTPSession {
    let connection: LineSocket

    /// Reads a (possibly multi-line) reply and checks its code; the text of each line after the code
    /// (EHLO's extensions, one a line).
    @discardableResult
    func expect(_ codes: Int..., after sent: String? = nil) throws -> [String] {
        var last = ""
        var texts: [String] = []
        repeat {
            let line: String?
            do { line = try connection.readLine() } catch { throw NotifierError("SMTP: \(error.description)") }
            guard let line else { throw NotifierError("SMTP: the server closed the connection") }
            last = line.hasSuffix("\r") ? String(line.dropLast()) : line
            texts.append(String(last.dropFirst(4)))
        } while last.count > 3 && Array(last)[3] == "-"
        guard let code = Int(last.prefix(3)), codes.contains(code) else {
            let what =
                sent.map { "'\($0.prefix(40))' answered" }
                ?? "expected \(codes.map(String.init).joined(separator: " or ")), got"
            throw NotifierError("SMTP: \(what) '\(last)'")
        }
        return texts
    }

    /// Sends `line` and reads its reply; an error names the command as `shown` (a secret is not shown).
    @discardableResult
    func command(_ line: String, expect code: Int, or other: Int? = nil, shown: String? = nil) throws -> [String] {
        do { try connection.send(line + "\r\n") } catch { throw NotifierError("SMTP: \(error.description)") }
        return try expect(code, other ?? code, after: shown ?? line)
    }

    /// The message after DATA: lines starting with a dot get another (RFC 5321 4.5.2), then CRLF.CRLF.
    func data(_ text: String) throws {
        let stuffed = text.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }
            .joined(separator: "\r\n")
        do { try connection.send(stuffed + "\r\n.\r\n") } catch { throw NotifierError("SMTP: \(error.description)") }
    }
}

public struct NotifierError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

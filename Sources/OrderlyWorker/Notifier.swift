import Foundation
import LineSocket
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

/// Sends e-mail by SMTP (RFC 5321) to a relay: EHLO, MAIL FROM, RCPT TO, DATA with dot-stuffing, QUIT.
/// No TLS or AUTH: point it at a local MTA or relay (Postfix, an SMTP sidecar) that holds the
/// credentials for the outside world. Messages of other channels go to `fallback`.
public struct SMTPNotifier: Notifier {
    public var host: String
    public var port: Int
    public var from: String
    public var heloName: String
    public var timeout: Double
    public var fallback: any Notifier

    public init(
        host: String,
        port: Int,
        from: String,
        heloName: String = "orderly",
        timeout: Double = 30,
        fallback: any Notifier
    ) {
        self.host = host
        self.port = port
        self.from = from
        self.heloName = heloName
        self.timeout = timeout
        self.fallback = fallback
    }

    public func send(_ message: OutboxEntry) throws {
        guard message.channel == "email" else { return try fallback.send(message) }
        guard Self.isAddress(message.recipient) else {
            throw NotifierError("'\(message.recipient)' is not an e-mail address SMTP can send to")
        }
        guard Self.isAddress(from) else { throw NotifierError("the sender '\(from)' is not an e-mail address") }
        let connection: LineSocket
        do {
            connection = try LineSocket(host: host, port: port, timeout: timeout)
        } catch {
            throw NotifierError("SMTP \(host):\(port): \(error.description)")
        }
        let session = SMTPSession(connection: connection)
        try session.expect(220)
        try session.command("EHLO \(heloName)", expect: 250)
        try session.command("MAIL FROM:<\(from)>", expect: 250)
        try session.command("RCPT TO:<\(message.recipient)>", expect: 250, or: 251)
        try session.command("DATA", expect: 354)
        try session.data(Self.render(message, from: from, heloName: heloName))
        try session.expect(250)
        try? session.command("QUIT", expect: 221)
    }

    /// A bare address SMTP can carry in MAIL FROM / RCPT TO (no brackets, spaces or controls).
    public static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && text.count <= 254
            && text.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0.value < 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0)
            }
    }

    /// The message as RFC 5322 text with CRLF line ends: headers (a non-ASCII subject encoded as
    /// RFC 2047), a UTF-8 body in base64 when it is not plain ASCII.
    static func render(_ message: OutboxEntry, from: String, heloName: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let ascii = message.body.unicodeScalars.allSatisfy { $0.isASCII }
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
            body = message.body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        } else {
            headers.append("Content-Transfer-Encoding: base64")
            body = Data(message.body.utf8).base64EncodedString(options: [
                .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
            ])
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// A header value on one line: control characters dropped (no header injection), non-ASCII as an
    /// RFC 2047 encoded word.
    static func header(_ value: String) -> String {
        let clean = String(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        if clean.unicodeScalars.allSatisfy({ $0.isASCII }) { return clean }
        return "=?UTF-8?B?" + Data(clean.utf8).base64EncodedString() + "?="
    }
}

/// One SMTP conversation's replies and commands.
struct SMTPSession {
    let connection: LineSocket

    /// Reads a (possibly multi-line) reply and checks its code.
    func expect(_ codes: Int..., after sent: String? = nil) throws {
        var last = ""
        repeat {
            let line: String?
            do { line = try connection.readLine() } catch { throw NotifierError("SMTP: \(error.description)") }
            guard let line else { throw NotifierError("SMTP: the server closed the connection") }
            last = line.hasSuffix("\r") ? String(line.dropLast()) : line
        } while last.count > 3 && Array(last)[3] == "-"
        guard let code = Int(last.prefix(3)), codes.contains(code) else {
            let what =
                sent.map { "'\($0.prefix(40))' answered" }
                ?? "expected \(codes.map(String.init).joined(separator: " or ")), got"
            throw NotifierError("SMTP: \(what) '\(last)'")
        }
    }

    func command(_ line: String, expect code: Int, or other: Int? = nil) throws {
        do { try connection.send(line + "\r\n") } catch { throw NotifierError("SMTP: \(error.description)") }
        try expect(code, other ?? code, after: line)
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

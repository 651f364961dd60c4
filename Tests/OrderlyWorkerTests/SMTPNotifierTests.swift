import Foundation
import OrderlyCore
import OrderlyStore
import Testing

@testable import OrderlyWorker

#if canImport(Glibc)
import Glibc
#endif

/// A local SMTP sink: Python's aiosmtpd with its Mailbox handler writing a Maildir.
final class SMTPSink {
    let process = Process()
    let maildir: URL
    let port: Int

    init() async throws {
        maildir = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-smtp-\(UUID())")
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox",
            maildir.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<6_000 {  // a hang guard: python's start-up on a loaded machine can take seconds
            if Self.accepts(port) { return }
            // Exited (no aiosmtpd, the port taken): say so now, not after the hang guard.
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let exited = process.isRunning ? "" : " (it exited with status \(process.terminationStatus))"
        throw NotifierError("aiosmtpd did not start on port \(port)\(exited) (python3 -m pip install aiosmtpd)")
    }

    deinit {
        // aiosmtpd's loop does not stop on SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: maildir)
    }

    /// The messages delivered so far, as raw RFC 5322 text.
    func messages() -> [String] {
        let new = maildir.appendingPathComponent("new")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: new.path)) ?? []
        return names.sorted().compactMap { try? String(contentsOf: new.appendingPathComponent($0), encoding: .utf8) }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw NotifierError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

@Suite struct SMTPNotifierTests {
    func entry(_ id: Int64, recipient: String, subject: String, body: String) -> OutboxEntry {
        OutboxEntry(
            id: id,
            orderID: 7,
            kind: .orderShipped,
            channel: "email",
            recipient: recipient,
            subject: subject,
            body: body,
            status: .pending
        )
    }

    @Test func deliversToALocalSink() async throws {
        let sink = try await SMTPSink()
        let notifier = SMTPNotifier(
            host: "127.0.0.1",
            port: sink.port,
            from: "orders@shop.example",
            timeout: 600,  // a hang guard: aiosmtpd on a loaded machine may be slow to answer
            fallback: NeverNotifier()
        )
        // A line starting with a dot must survive SMTP's dot-stuffing; the lone dot ends nothing early.
        try notifier.send(
            entry(
                41,
                recipient: "ada@example.com",
                subject: "Your order has shipped",
                body: "Tracking RR123456785DE\n.\n.hidden line\nbye"
            )
        )
        try notifier.send(
            entry(42, recipient: "bob@example.com", subject: "Ihre Bestellung ist unterwegs", body: "Grüße aus München")
        )
        let messages = sink.messages()
        try #require(messages.count == 2)
        let plain = try #require(messages.first { $0.contains("<notification-41@orderly>") })
        #expect(plain.contains("To: <ada@example.com>"))
        #expect(plain.contains("Subject: Your order has shipped"))
        #expect(plain.contains("Tracking RR123456785DE\n.\n.hidden line\nbye"))
        let encoded = try #require(messages.first { $0.contains("<notification-42@orderly>") })
        #expect(encoded.contains("Content-Transfer-Encoding: base64"))
        let body = try #require(encoded.components(separatedBy: "\n\n").last?.replacingOccurrences(of: "\n", with: ""))
        #expect(String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self) == "Grüße aus München")
    }

    @Test func refusesAddressesThatWouldInjectCommands() async throws {
        let notifier = SMTPNotifier(host: "127.0.0.1", port: 9, from: "orders@shop.example", fallback: NeverNotifier())
        for bad in ["ada@example.com>\r\nRCPT TO:<eve@evil.example", "no-at-sign", "a b@example.com", "@example.com"] {
            #expect(throws: NotifierError.self) {
                try notifier.send(entry(1, recipient: bad, subject: "s", body: "b"))
            }
        }
        // Control characters never reach a header.
        #expect(SMTPNotifier.header("Hi\r\nBcc: eve@evil.example") == "HiBcc: eve@evil.example")
    }
}

struct NeverNotifier: Notifier {
    func send(_ message: OutboxEntry) throws { throw NotifierError("not for this channel") }
}

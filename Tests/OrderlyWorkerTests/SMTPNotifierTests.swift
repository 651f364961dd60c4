import Foundation
import LineSocket
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

@testable import OrderlyWorker

#if canImport(Glibc)
import Glibc
#endif

/// A local SMTP sink: Python's aiosmtpd with its Mailbox handler writing a Maildir. Secured, it
/// offers STARTTLS with the given certificate and requires it, then requires AUTH as `user` with
/// `password`, and writes each EHLO name and AUTH attempt to `events`.
final class SMTPSink {
    struct Secured {
        var certificates: TestCertificates
        var user: String
        var password: String
    }

    let process = Process()
    let maildir: URL
    let port: Int
    let events: URL

    /// aiosmtpd's Controller as a provider's submission port is configured: STARTTLS required before
    /// anything else, AUTH required before MAIL, and AUTH refused in the clear.
    static let securedScript = """
        import sys, ssl, threading
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox
        from aiosmtpd.smtp import AuthResult, LoginPassword
        port, maildir, cert, key, user, password, events = sys.argv[1:]
        def note(line):
            with open(events, "a") as f:
                f.write(line + "\\n")
        class Sink(Mailbox):
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                note("EHLO %s tls=%s" % (hostname, session.ssl is not None))
                session.host_name = hostname
                return responses
        def check(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
            note("AUTH %s %s tls=%s" % (mechanism, "ok" if ok else "refused", session.ssl is not None))
            # handled=False: aiosmtpd answers the refusal itself (535).
            return AuthResult(success=ok, handled=False)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        controller = Controller(Sink(maildir), hostname="127.0.0.1", port=int(port), tls_context=context,
            require_starttls=True, authenticator=check, auth_required=True, auth_require_tls=True)
        controller.start()
        threading.Event().wait()
        """

    init(secured: Secured? = nil) async throws {
        maildir = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-smtp-\(UUID())")
        events = maildir.appendingPathExtension("events")
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        if let secured {
            let script = maildir.appendingPathExtension("py")
            try Data(Self.securedScript.utf8).write(to: script)
            process.arguments = [
                "python3", script.path, "\(port)", maildir.path, secured.certificates.certificate,
                secured.certificates.key, secured.user, secured.password, events.path,
            ]
        } else {
            process.arguments = [
                "python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox",
                maildir.path,
            ]
        }
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
        try? FileManager.default.removeItem(at: events)
        try? FileManager.default.removeItem(at: maildir.appendingPathExtension("py"))
    }

    /// What the secured sink noted, one event a line.
    func noted() -> [String] {
        ((try? String(contentsOf: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
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

    /// A notifier for the sink on `port`, as worker1.shop.example; the timeout is a hang guard.
    func notifier(
        _ port: Int,
        security: SMTPNotifier.Security,
        credentials: SMTPNotifier.Credentials? = nil
    ) -> SMTPNotifier {
        SMTPNotifier(
            host: "127.0.0.1",
            port: port,
            from: "orders@shop.example",
            heloName: "worker1.shop.example",
            security: security,
            credentials: credentials,
            timeout: 600,
            fallback: NeverNotifier()
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
        let plain = try #require(messages.first { $0.contains("Message-ID: <notification-41@") })
        #expect(plain.contains("To: <ada@example.com>"))
        #expect(plain.contains("Subject: Your order has shipped"))
        #expect(plain.contains("Tracking RR123456785DE\n.\n.hidden line\nbye"))
        let encoded = try #require(messages.first { $0.contains("Message-ID: <notification-42@") })
        #expect(encoded.contains("Content-Transfer-Encoding: base64"))
        let body = try #require(encoded.components(separatedBy: "\n\n").last?.replacingOccurrences(of: "\n", with: ""))
        #expect(String(decoding: Data(base64Encoded: body) ?? Data(), as: UTF8.self) == "Grüße aus München")
    }

    @Test func startsTLSAndAuthenticatesWithEitherMechanismAtAProviderThatRequiresBoth() async throws {
        let certificates = try TestCertificates.make("smtp")
        defer { certificates.remove() }
        let sink = try await SMTPSink(
            secured: .init(certificates: certificates, user: "orders", password: "s3cret: ok")
        )
        let tls = TLSClientSettings(trustRoots: certificates.authority, serverName: "localhost")
        for (id, mechanism) in [(51, SMTPNotifier.Mechanism.plain), (52, .login)] {
            let notifier = notifier(
                sink.port,
                security: .startTLS(tls),
                credentials: .init(user: "orders", password: "s3cret: ok", mechanisms: [mechanism])
            )
            try notifier.send(entry(Int64(id), recipient: "ada@example.com", subject: "Shipped", body: "On its way"))
        }
        let messages = sink.messages()
        #expect(messages.count == 2)
        #expect(messages.contains { $0.contains("Message-ID: <notification-51@worker1.shop.example>") })
        // The name given twice (RFC 3207: again after STARTTLS), the password only inside TLS.
        let noted = sink.noted()
        #expect(
            noted == [
                "EHLO worker1.shop.example tls=False", "EHLO worker1.shop.example tls=True", "AUTH PLAIN ok tls=True",
                "EHLO worker1.shop.example tls=False", "EHLO worker1.shop.example tls=True", "AUTH LOGIN ok tls=True",
            ],
            "\(noted)"
        )

        // A wrong password is the server's refusal, named without the secret; nothing is delivered.
        let wrong = notifier(sink.port, security: .startTLS(tls), credentials: .init(user: "orders", password: "guess"))
        #expect {
            try wrong.send(entry(53, recipient: "ada@example.com", subject: "s", body: "b"))
        } throws: { error in
            "\(error)".contains("'AUTH PLAIN' answered '535")
                && !"\(error)".contains(Data("guess".utf8).base64EncodedString())
        }
        // A certificate the worker cannot verify: refused before anything is sent.
        let stranger = try TestCertificates.make("smtp-stranger")
        defer { stranger.remove() }
        let unverified = notifier(
            sink.port,
            security: .startTLS(TLSClientSettings(trustRoots: stranger.authority)),
            credentials: .init(user: "orders", password: "s3cret: ok")
        )
        #expect {
            try unverified.send(entry(54, recipient: "ada@example.com", subject: "s", body: "b"))
        } throws: { error in
            "\(error)".contains("TLS handshake with 127.0.0.1 failed")
        }
        #expect(sink.messages().count == 2)
    }

    @Test func neverFallsBackToTheClearNorSendsAPasswordThere() async throws {
        let sink = try await SMTPSink()  // offers no STARTTLS
        let asksForTLS = notifier(sink.port, security: .startTLS(TLSClientSettings()))
        #expect {
            try asksForTLS.send(entry(61, recipient: "ada@example.com", subject: "s", body: "b"))
        } throws: { error in
            "\(error)".contains("does not offer STARTTLS; nothing was sent in the clear")
        }
        let clearWithPassword = notifier(sink.port, security: .none, credentials: .init(user: "orders", password: "pw"))
        #expect {
            try clearWithPassword.send(entry(62, recipient: "ada@example.com", subject: "s", body: "b"))
        } throws: { error in
            "\(error)".contains("credentials are sent only over TLS")
        }
        #expect(sink.messages().isEmpty)
    }

    @Test func everyLineOfAMessageStaysUnder998Bytes() throws {
        let long = String(repeating: "0123456789", count: 200)  // one 2,000-byte line
        let subject = "Ihre Bestellung Nr. 1234567 ist unterwegs, mit Grüßen aus München und einem langen Betreff dazu"
        let text = SMTPNotifier.render(
            entry(71, recipient: "ada@example.com", subject: subject, body: "short line\n" + long),
            from: "orders@shop.example",
            heloName: "worker1.shop.example"
        )
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 998 })
        #expect(lines.allSatisfy { $0.utf8.count <= 78 }, "\(lines.filter { $0.utf8.count > 78 })")
        #expect(text.contains("Content-Transfer-Encoding: base64"))
        // The subject folded into encoded words that decode back to it.
        let headerEnd = try #require(lines.firstIndex(of: ""))
        let start = try #require(lines.firstIndex { $0.hasPrefix("Subject: ") })
        var folded = [String(lines[start].dropFirst("Subject: ".count))]
        folded += lines[(start + 1)..<headerEnd].prefix { $0.hasPrefix(" ") }.map { String($0.dropFirst()) }
        let decoded = folded.map { word in
            String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
        }
        #expect(folded.count > 1)
        #expect(decoded.joined() == subject)
        // Short ASCII stays readable.
        #expect(SMTPNotifier.header("Your order has shipped") == "Your order has shipped")
    }

    @Test func theHeloNameIsFullyQualified() {
        #expect(SMTPNotifier.isDomain(SMTPNotifier.defaultHeloName(from: "orders@shop.example")))
        #expect(SMTPNotifier.isDomain("worker1.shop.example"))
        for bad in ["worker1", "-bad.example", "a..example", "bad_host.example", ""] {
            #expect(!SMTPNotifier.isDomain(bad), "\(bad)")
        }
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

import Foundation
import LineSocket
import Logging
import NIOCore
import Orderly
import OrderlyAdminServer
import OrderlyCommands
import OrderlyTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The admin port over TLS: certificates made at test time (TestCertificates), real TCP on loopback.
@Suite
struct AdminTLSTests {
    /// A server whose port speaks TLS with `certificates`, and the `AdminTLS` it reloads.
    static func server(_ label: String, _ certificates: TestCertificates) async throws -> (ServerFixture, AdminTLS) {
        let tls = try AdminTLS(certificatePath: certificates.certificate, keyPath: certificates.key)
        let fixture = try await ServerFixture.start(label) { $0.tls = tls }
        return (fixture, tls)
    }

    @Test func aVerifyingClientTalksToATLSPort() async throws {
        let certificates = try TestCertificates.make("handshake")
        defer { certificates.remove() }
        let (fixture, _) = try await Self.server("tlsHandshake", certificates)
        defer { Task { await fixture.stop() } }
        try await onThread {
            // By address (matched against the certificate's IP address) and by name (SNI and DNS name).
            for name in [nil, "localhost"] {
                let client = try fixture.client(
                    tls: TLSClientSettings(trustRoots: certificates.authority, serverName: name)
                )
                #expect(client.greeting == "OK orderly protocol=1 auth=required")
                #expect(try client.request("PING") == ["OK pong=true"])
            }
        }
    }

    @Test func aClientRefusesACertificateItCannotVerify() async throws {
        let certificates = try TestCertificates.make("genuine")
        let stranger = try TestCertificates.make("stranger")
        defer {
            certificates.remove()
            stranger.remove()
        }
        let (fixture, _) = try await Self.server("tlsRefused", certificates)
        defer { Task { await fixture.stop() } }
        try await onThread {
            // Signed by an authority the client does not trust.
            #expect {
                _ = try fixture.client(nil, tls: TLSClientSettings(trustRoots: stranger.authority))
            } throws: { error in
                "\(error)".contains("TLS handshake with 127.0.0.1 failed")
                    && "\(error)".contains("CERTIFICATE_VERIFY_FAILED")
            }
            // The system's authorities do not know the test's.
            #expect(throws: AdminClientError.self) { _ = try fixture.client(nil, tls: TLSClientSettings()) }
            // The server still serves a client that verifies it.
            let client = try fixture.client(tls: TLSClientSettings(trustRoots: certificates.authority))
            #expect(try client.request("PING") == ["OK pong=true"])
        }
    }

    @Test func aClientRefusesACertificateForAnotherName() async throws {
        // Named only by DNS: a client reaching 127.0.0.1 must ask for that name. (swift-nio-ssl accepts
        // a certificate that names either the name asked for or the address connected to.)
        let certificates = try TestCertificates.make("named", names: ["DNS:orders.internal"])
        defer { certificates.remove() }
        let (fixture, _) = try await Self.server("tlsNamed", certificates)
        defer { Task { await fixture.stop() } }
        try await onThread {
            for name in [nil, "orders.example.com"] {
                #expect {
                    _ = try fixture.client(
                        nil,
                        tls: TLSClientSettings(trustRoots: certificates.authority, serverName: name)
                    )
                } throws: { error in
                    "\(error)".contains("TLS handshake with 127.0.0.1 failed")
                        && "\(error)".contains("failedToValidateHostname")
                }
            }
            let client = try fixture.client(
                tls: TLSClientSettings(trustRoots: certificates.authority, serverName: "orders.internal")
            )
            #expect(try client.request("PING") == ["OK pong=true"])
        }
    }

    @Test func aPlaintextRequestOnATLSPortRunsNothing() async throws {
        let certificates = try TestCertificates.make("plaintext")
        defer { certificates.remove() }
        let (fixture, _) = try await Self.server("tlsPlaintext", certificates)
        defer { Task { await fixture.stop() } }
        try await onThread {
            let socket = try LineSocket(host: "127.0.0.1", port: fixture.port, timeout: 600)
            try socket.send(
                "AUTH adm \(ServerFixture.secrets["adm"]!)\n"
                    + "WAREHOUSE ADD code=PLAIN-1 name=x lat=0 lon=0 line1=x city=x country=DE\n"
            )
            // Not a TLS record: the handshake fails and the server closes without a reply.
            var lines: [String] = []
            do {
                while let line = try socket.readLine() { lines.append(line) }
            } catch {
                // A reset instead of an orderly close is a close too.
            }
            #expect(!lines.contains { $0.hasPrefix("OK") }, "\(lines)")
            // The same command over TLS does run: the plaintext one was refused, not the port broken.
            let client = try fixture.client(tls: TLSClientSettings(trustRoots: certificates.authority))
            let reply = try client.request("WAREHOUSE ADD code=TLS-1 name=x lat=0 lon=0 line1=x city=x country=DE")
            #expect(reply.first?.hasPrefix("OK") == true, "\(reply)")
        }
        let codes = try await fixture.pool.query("SELECT string_agg(code, ',' ORDER BY code) FROM warehouses")
            .scalar(String.self)
        #expect(codes == "TLS-1")
    }

    @Test func reloadGivesNewConnectionsTheNewPairAndKeepsTheOldOneOnABadFile() async throws {
        let first = try TestCertificates.make("first")
        let second = try TestCertificates.make("second")
        defer {
            first.remove()
            second.remove()
        }
        // The server reads its own copy of the files, which the test replaces as a renewal would.
        let live = try LiveFiles("reload")
        defer { live.remove() }
        try live.install(first)
        let tls = try AdminTLS(certificatePath: live.certificate.path, keyPath: live.key.path)
        let fixture = try await ServerFixture.start("tlsReload") { $0.tls = tls }
        defer { Task { await fixture.stop() } }
        let trustsFirst = TLSClientSettings(trustRoots: first.authority)
        let trustsSecond = TLSClientSettings(trustRoots: second.authority)
        try await onThread {
            let open = try fixture.client(tls: trustsFirst)
            try live.install(second)
            // Until the reload, the pair in use is the one loaded.
            #expect(throws: AdminClientError.self) { _ = try fixture.client(nil, tls: trustsSecond) }
            try tls.reload()
            let renewed = try fixture.client(tls: trustsSecond)
            #expect(try renewed.request("PING") == ["OK pong=true"])
            #expect(throws: AdminClientError.self) { _ = try fixture.client(nil, tls: trustsFirst) }
            // A connection opened before the reload keeps its session.
            #expect(try open.request("PING") == ["OK pong=true"])

            // A broken certificate file: the reload says which file and why, and nothing changes.
            try Data("not a certificate\n".utf8).write(to: live.certificate)
            #expect {
                try tls.reload()
            } throws: { error in
                "\(error)".contains("cannot load the TLS certificate \(live.certificate.path)")
            }
            // A key that is not the certificate's.
            try live.install(second)
            try? FileManager.default.removeItem(at: live.key)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: first.key), to: live.key)
            #expect {
                try tls.reload()
            } throws: { error in
                "\(error)".contains("do they belong together?")
            }
            let still = try fixture.client(tls: trustsSecond)
            #expect(try still.request("PING") == ["OK pong=true"])
        }
    }

    @Test func serveReadsItsPairAgainOnSIGHUPAndKeepsItWhenTheNewOneIsBroken() async throws {
        let first = try TestCertificates.make("hup-first")
        let second = try TestCertificates.make("hup-second")
        let live = try LiveFiles("hup")
        let database = try await TestDatabase.create(label: "tls_hup", migrated: true)
        defer {
            first.remove()
            second.remove()
            live.remove()
            try? database.drop()
        }
        try live.install(first)
        let server = try ServerProcess(
            conninfo: database.conninfo,
            arguments: ["--tls-cert", live.certificate.path, "--tls-key", live.key.path]
        )
        let port = try #require(await server.port(), "\(server.output)")
        /// Waits for the log to say `message` `count` times (a hang guard, not a verdict on speed).
        func logged(_ message: String, count: Int) async -> Bool {
            for _ in 0..<12_000 {
                if server.output.components(separatedBy: message).count - 1 >= count { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        let trustsFirst = TLSClientSettings(trustRoots: first.authority)
        let trustsSecond = TLSClientSettings(trustRoots: second.authority)
        /// A PING over a new connection that verifies the server with `trust`.
        @Sendable func ping(_ trust: TLSClientSettings) throws -> [String] {
            try AdminClient(host: "127.0.0.1", port: port, timeout: 600, tls: trust).request("PING")
        }
        #expect(try await onThread { try ping(trustsFirst) } == ["OK pong=true"])
        try live.install(second)
        server.signal(SIGHUP)
        #expect(await logged("admin TLS certificate reloaded", count: 1), "\(server.output)")
        #expect(try await onThread { try ping(trustsSecond) } == ["OK pong=true"])
        await #expect(throws: AdminClientError.self) { try await onThread { try ping(trustsFirst) } }
        // A botched renewal: logged, and the port keeps the pair it has.
        try Data("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".utf8).write(
            to: live.certificate
        )
        server.signal(SIGHUP)
        #expect(await logged("admin TLS certificate not reloaded; the one in use stays", count: 1), "\(server.output)")
        #expect(try await onThread { try ping(trustsSecond) } == ["OK pong=true"])
        server.signal(SIGTERM)
        #expect(await server.exitStatus(within: 600) == 0, "\(server.output)")
    }

    @Test func aNonLoopbackPortWithoutTLSIsRefusedBeforeItBinds() async throws {
        let database = try await TestDatabase.create(label: "tls_refused_bind", migrated: true)
        let pool = database.makePool(.init(maxConnections: 2))
        var configuration = AdminServerConfiguration(host: "0.0.0.0", port: 0)
        configuration.passwordIterations = 1_000
        let server = AdminServer(
            configuration: configuration,
            database: OrderlyDatabase(pool: pool),
            logger: Logger(label: "test.tls")
        )
        await #expect {
            try await server.run()
        } throws: { error in
            "\(error)".contains(
                "a server bound to 0.0.0.0 must use TLS: give --tls-cert and --tls-key, or --insecure-plaintext"
            )
        }
        #expect(!server.isAccepting)
        await pool.close()
        try? await onThread { try database.drop() }
    }

    @Test func theAdminCommandVerifiesWithTLSCA() async throws {
        let certificates = try TestCertificates.make("cli")
        defer { certificates.remove() }
        let tls = try AdminTLS(certificatePath: certificates.certificate, keyPath: certificates.key)
        let fixture = try await ServerFixture.start("tlsCLI", principals: false) { $0.tls = tls }
        defer { Task { await fixture.stop() } }
        let port = String(fixture.port)
        let verified = try await onThread {
            try AdminCLITests.admin(["--port", port, "--tls-ca", certificates.authority, "PING"])
        }
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("OK pong=true"), "\(verified.output)")
        let unverified = try await onThread { try AdminCLITests.admin(["--port", port, "--tls", "PING"]) }
        #expect(unverified.status != 0)
        #expect(unverified.output.contains("TLS handshake with 127.0.0.1 failed"), "\(unverified.output)")
    }
}

/// A certificate and key at paths of their own, which a test replaces as a renewal would.
struct LiveFiles: Sendable {
    let directory: URL
    var certificate: URL { directory.appendingPathComponent("cert.pem") }
    var key: URL { directory.appendingPathComponent("key.pem") }

    init(_ label: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-tls-\(label)-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Puts `certificates`' pair in place.
    func install(_ certificates: TestCertificates) throws {
        for (source, target) in [(certificates.certificate, certificate), (certificates.key, key)] {
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: source), to: target)
        }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

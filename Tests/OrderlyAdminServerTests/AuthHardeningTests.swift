import Foundation
import LibPQ
import Logging
import OrderlyStore
import OrderlyTestSupport
import Testing

@testable import OrderlyAdminServer

/// AUTH's secrets at OWASP's rounds (older hashes upgraded when their owner next signs in) and its
/// outcomes in the log with the peer's address.
@Suite
struct AuthHardeningTests {
    @Test func theDefaultIsOWASPsRoundsForPBKDF2SHA256() throws {
        #expect(PasswordHash.iterations == 600_000)
        #expect(PasswordHash.iterations(of: try PasswordHash.make("a-secret-of-twelve", iterations: 1_000)) == 1_000)
        #expect(PasswordHash.iterations(of: "plain text") == nil)
    }

    @Test func aSuccessfulAuthUpgradesAWeakerHashAndFailuresAreLoggedWithThePeer() async throws {
        let captured = CapturingLogHandler()
        let fixture = try await ServerFixture.start(
            "authUpgrade",
            logger: captured.logger
        ) {
            $0.passwordIterations = 2_000
        }
        defer { Task { await fixture.stop() } }
        func storedRounds(_ name: String) async throws -> Int? {
            let hash = try await fixture.pool.query("SELECT secret_hash FROM admin_principals WHERE name = \(name)")
                .scalar(String.self)
            return PasswordHash.iterations(of: hash)
        }
        #expect(try await storedRounds("ro") == 1_000)
        try await onThread {
            let wrong = try fixture.client(nil)
            #expect(try wrong.request("AUTH ro not-the-secret")[0].hasPrefix("ERR AUTH_FAILED"))
        }
        // A wrong secret upgrades nothing.
        #expect(try await storedRounds("ro") == 1_000)
        try await onThread { _ = try fixture.client("ro") }
        #expect(try await storedRounds("ro") == 2_000)
        // The upgraded hash still lets its owner in, and is not upgraded again.
        try await onThread {
            let again = try fixture.client("ro")
            #expect(try again.request("PING")[0].hasPrefix("OK"))
        }
        #expect(try await storedRounds("ro") == 2_000)
        #expect(try await storedRounds("op") == 1_000)
        let lines = captured.lines
        #expect(
            lines.contains {
                $0.hasPrefix("warning AUTH refused") && $0.contains("peer=127.0.0.1") && $0.contains("user=ro")
                    && $0.contains("reason=wrong user or secret")
            },
            "\(lines)"
        )
        #expect(
            lines.contains { $0.hasPrefix("info AUTH ") && $0.contains("peer=127.0.0.1") && $0.contains("user=ro") }
        )
        #expect(lines.filter { $0.contains("secret hash upgraded") }.count == 1)
        #expect(!lines.contains { $0.contains("not-the-secret") || $0.contains(ServerFixture.secrets["ro"]!) })
    }
}

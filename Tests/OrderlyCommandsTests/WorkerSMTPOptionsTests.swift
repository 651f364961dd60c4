import ArgumentParser
import Foundation
import Testing

@testable import OrderlyCommands
@testable import OrderlyWorker

/// `orderly worker`'s SMTP options: the port's convention, and the combinations refused before start.
struct WorkerSMTPOptionsTests {
    static func worker(_ arguments: [String]) throws -> WorkerCommand {
        try #require(try OrderlyCommand.parseAsRoot(["worker"] + arguments) as? WorkerCommand)
    }

    static func refusal(_ arguments: [String]) -> String {
        do {
            _ = try OrderlyCommand.parseAsRoot(["worker"] + arguments)
            return "accepted"
        } catch {
            return OrderlyCommand.message(for: error)
        }
    }

    @Test func thePortChoosesTheProtectionUnlessTold() throws {
        for (port, expected) in [(587, "startTLS"), (465, "implicitTLS"), (25, "none")] {
            let worker = try Self.worker(["--smtp", "smtp.example.net:\(port)"])
            let mode = try worker.smtpSecurityMode(port: port)
            #expect("\(mode)".hasPrefix(expected), "\(port): \(mode)")
        }
        let told = try Self.worker(["--smtp", "relay.internal:2525", "--smtp-security", "starttls"])
        #expect("\(try told.smtpSecurityMode(port: 2525))".hasPrefix("startTLS"))
    }

    @Test func combinationsThatCannotWorkAreRefusedBeforeStart() {
        #expect(Self.refusal(["--smtp-user", "orders"]).contains("the --smtp-* options need --smtp host:port"))
        #expect(
            Self.refusal(["--smtp", "relay:25", "--smtp-user", "orders", "--smtp-password-file", "/dev/null"])
                .contains("--smtp-user needs TLS: a password is never sent in the clear")
        )
        #expect(
            Self.refusal(["--smtp", "smtp.example.net:587", "--smtp-user", "orders"])
                .contains("--smtp-user and --smtp-password-file go together")
        )
        #expect(
            Self.refusal(["--smtp", "smtp.example.net:587", "--smtp-security", "ssl"])
                .contains("--smtp-security must be none, starttls or tls, not 'ssl'")
        )
        #expect(
            Self.refusal(["--smtp", "smtp.example.net:587", "--smtp-helo", "worker1"])
                .contains("--smtp-helo must be a fully qualified domain name")
        )
        #expect(Self.refusal(["--smtp", "smtp.example.net:587", "--smtp-helo", "[192.0.2.7]"]) == "accepted")
    }

    @Test func thePasswordFileMustBePrivate() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-smtp-pw-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("correct horse\n".utf8).write(to: URL(fileURLWithPath: path))
        let worker = try Self.worker([
            "--smtp", "smtp.example.net:587", "--smtp-user", "orders", "--smtp-password-file", path,
        ])
        chmod(path, 0o644)
        #expect(throws: ValidationError.self) { try worker.smtpCredentials() }
        chmod(path, 0o600)
        let credentials = try #require(try worker.smtpCredentials())
        #expect(credentials.user == "orders")
        #expect(credentials.password == "correct horse")
    }
}

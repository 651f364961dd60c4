import Foundation
import OrderlyDevCluster
import OrderlyTestSupport
import Testing

/// `orderly admin` as a person or a script runs it: the built binary, against a real server.
@Suite
struct AdminCLITests {
    static var binary: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("orderly")
    }

    /// Runs `orderly admin ARGUMENTS` with `input` on its standard input; its exit status and output.
    ///
    /// Through `ChildProcess`, not Foundation's `Process` and `Pipe`: a `Pipe` is not close-on-exec, so a
    /// PostgreSQL cluster another test starts at the same moment could inherit its write end, and the
    /// read for the client's output would then wait for that server's end instead of the client's.
    static func admin(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["ORDERLY_ADMIN_HISTORY"] = ""
        environment.removeValue(forKey: "ORDERLY_ADMIN_USER")
        environment.removeValue(forKey: "ORDERLY_ADMIN_SECRET")
        let result = try ChildProcess.run([binary.path, "admin"] + arguments, environment: environment, input: input)
        return (result.status, result.output)
    }

    @Test func helpIsTheClientsOwnAndNeedsNoServer() throws {
        for flag in ["--help", "-h"] {
            // Port 1: nothing listens there, so a client that tried to connect would fail.
            let (status, output) = try Self.admin(["--port", "1", flag])
            #expect(status == 0, "\(output)")
            #expect(output.contains("USAGE: orderly admin"), "\(output)")
        }
    }

    @Test func aPipedScriptExitsOneWhenAnyReplyWasAnError() async throws {
        let fixture = try await ServerFixture.start("adminCLI", principals: false)
        defer { Task { await fixture.stop() } }
        let port = String(fixture.port)
        let failing = try await onThread { try Self.admin(["--port", port], input: "PING\nFROB\nPING\n") }
        #expect(failing.status == 1, "\(failing.output)")
        #expect(failing.output.components(separatedBy: "OK pong=true").count == 3, "\(failing.output)")
        #expect(failing.output.contains("ERR UNKNOWN_COMMAND"))
        let passing = try await onThread { try Self.admin(["--port", port], input: "PING\nHELLO\n") }
        #expect(passing.status == 0, "\(passing.output)")
        let check = try await onThread { try Self.admin(["--port", port, "CHECK"]) }
        #expect(check.status == 0)
        #expect(check.output.hasPrefix("ok: invariants 1-4 and 7 hold (0 orders checked)"), "\(check.output)")
    }
}

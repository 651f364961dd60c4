import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An `orderly` process, built next to this test binary, stopped (SIGKILL) when dropped; its stderr
/// goes to a log file. Sendable by hand: its state is the child process (signals and its exit are the
/// kernel's) and a log file, read whole; nothing in it is mutated after `init`.
public class OrderlyProcess: @unchecked Sendable {
    public let process = Process()
    public let log: URL

    public static func binary(_ name: String) -> URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent(name)
    }

    init(executable: String, arguments: [String], environment: [String: String], logName: String) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-\(logName)-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = Self.binary(executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["ORDERLY_LOG_LEVEL"] = "warning"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Its exit status, or nil if it is still running after `seconds`.
    public func exitStatus(within seconds: Double) async -> Int32? {
        for _ in 0..<Int(seconds * 20) {
            if !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

/// `orderly worker`, or with test hooks in the environment (ORDERLY_WORKER_PROBE, ORDERLY_WORKER_PAUSE)
/// `orderly-test-worker`, which is `orderly worker` with them.
public final class WorkerProcess: OrderlyProcess, @unchecked Sendable {
    public init(conninfo: String, id: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let hooked = environment.keys.contains { $0.hasPrefix("ORDERLY_WORKER_") }
        try super.init(
            executable: hooked ? "orderly-test-worker" : "orderly",
            arguments: (hooked ? [] : ["worker"])
                + ["--database-url", conninfo, "--id", id, "--poll-seconds", "0.2", "--sweep-seconds", "0"]
                + arguments,
            environment: environment,
            logName: "worker-\(id)"
        )
    }
}

/// `orderly serve` on a free loopback port, which it says in its log once it listens.
public final class ServerProcess: OrderlyProcess, @unchecked Sendable {
    public init(conninfo: String, arguments: [String] = []) throws {
        try super.init(
            executable: "orderly",
            arguments: ["serve", "--database-url", conninfo, "--port", "0"] + arguments,
            environment: ["ORDERLY_LOG_LEVEL": "info"],
            logName: "server"
        )
    }

    /// The port it listens on, once its log says so (waits for that line, or for the process to exit:
    /// nil then). The wait is bounded only by a hang guard, not by how fast the machine is.
    public func port() async -> Int? {
        for _ in 0..<12_000 {
            for line in output.split(separator: "\n") where line.contains("admin server listening") {
                // address=[IPv4]127.0.0.1/127.0.0.1:PORT
                if let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                    let port = address.split(separator: ":").last.flatMap({ Int($0) })
                {
                    return port
                }
            }
            guard process.isRunning else { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

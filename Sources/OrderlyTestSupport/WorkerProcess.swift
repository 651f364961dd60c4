import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An `orderly worker` process, built next to this test binary, stopped (SIGKILL) when dropped.
/// Sendable by hand: its state is the child process (signals and its exit are the kernel's) and a log
/// file, read whole; nothing in it is mutated after `init`.
public final class WorkerProcess: @unchecked Sendable {
    public let process = Process()
    public let log: URL

    public static func binary(_ name: String) -> URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent(name)
    }

    /// `orderly worker`, or with test hooks in the environment (ORDERLY_WORKER_PROBE, ORDERLY_WORKER_PAUSE)
    /// `orderly-test-worker`, which is `orderly worker` with them.
    public init(conninfo: String, id: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-worker-\(id)-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let hooked = environment.keys.contains { $0.hasPrefix("ORDERLY_WORKER_") }
        process.executableURL = Self.binary(hooked ? "orderly-test-worker" : "orderly")
        process.arguments =
            (hooked ? [] : ["worker"])
            + ["--database-url", conninfo, "--id", id, "--poll-seconds", "0.2", "--sweep-seconds", "0"]
            + arguments
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

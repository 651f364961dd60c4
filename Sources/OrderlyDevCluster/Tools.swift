import Foundation

/// Finds PostgreSQL's server programs and runs them, as the `postgres` user when we are root.
struct Tools: Sendable {
    static let serverUser = "postgres"
    let binDirectory: String

    /// `ORDERLY_PG_BINDIR`, then `pg_config --bindir`, then the newest /usr/lib/postgresql/N/bin,
    /// then whatever `initdb` is on PATH. Searched once per process: start, status and stop all ask.
    static func locate() throws -> Tools { try located.get() }

    private static let located = Swift.Result { try search() }

    private static func search() throws -> Tools {
        let fileManager = FileManager.default
        func hasInitdb(_ directory: String) -> Bool { fileManager.isExecutableFile(atPath: directory + "/initdb") }
        if let configured = ProcessInfo.processInfo.environment["ORDERLY_PG_BINDIR"] {
            guard hasInitdb(configured) else { throw ClusterError("ORDERLY_PG_BINDIR=\(configured) has no initdb") }
            return Tools(binDirectory: configured)
        }
        if let result = try? Tools(binDirectory: "").runRaw(["pg_config", "--bindir"]), result.status == 0 {
            let directory = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if hasInitdb(directory) { return Tools(binDirectory: directory) }
        }
        let versions = (try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) {
            let directory = "/usr/lib/postgresql/\(version)/bin"
            if hasInitdb(directory) { return Tools(binDirectory: directory) }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if hasInitdb(String(directory)) { return Tools(binDirectory: String(directory)) }
        }
        throw ClusterError(
            "PostgreSQL's server programs (initdb, pg_ctl) were not found; install them "
                + "(Debian: apt-get install postgresql) or set ORDERLY_PG_BINDIR, or point DATABASE_URL at a server"
        )
    }

    struct Result {
        var status: Int32
        var output: String
    }

    /// Runs a PostgreSQL program from the bin directory.
    func run(_ program: String, _ arguments: [String], asServerUser: Bool, check: Bool = false) throws -> Result {
        let path = binDirectory + "/" + program
        let command = asServerUser ? ["runuser", "-u", Self.serverUser, "--", path] + arguments : [path] + arguments
        return try runRaw(command, check: check)
    }

    /// Runs a command found on PATH from `/`, without PG* variables aimed at some other server.
    func runRaw(_ command: [String], check: Bool = false) throws -> Result {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        // From a directory the postgres user can read, or initdb and pg_ctl refuse to start.
        let result = try ChildProcess.run(command, environment: environment, workingDirectory: "/")
        if check && result.status != 0 {
            throw ClusterError("\(command.joined(separator: " ")) failed (\(result.status)):\n\(result.output)")
        }
        return Result(status: result.status, output: result.output)
    }
}

import Foundation

/// Finds PostgreSQL's server programs and runs them, as the `postgres` user when we are root.
struct Tools: Sendable {
    static let serverUser = "postgres"
    let binDirectory: String

    /// `ORDERLY_PG_BINDIR`, then `pg_config --bindir`, then the newest /usr/lib/postgresql/N/bin,
    /// then whatever `initdb` is on PATH.
    static func locate() throws -> Tools {
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

    /// Runs a command found on PATH; output and errors are captured together.
    ///
    /// posix_spawn and waitpid rather than Foundation's `Process`, whose `waitUntilExit` can miss the
    /// exit of a child that leaves a daemon behind (as `pg_ctl start` does) and hang.
    func runRaw(_ command: [String], check: Bool = false) throws -> Result {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw ClusterError("pipe() failed: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
        // The server's own programs must not inherit a PG* setting aimed at some other server.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
            .map { "\($0.key)=\($0.value)" }
        // Run from a directory the postgres user can read, or initdb and pg_ctl refuse to start.
        let wrapped = ["/bin/sh", "-c", "cd / && exec \"$@\"", "sh"] + command
        var argv = wrapped.map { strdup($0) } + [nil]
        var envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, &envp)
        close(pipeFDs[1])
        guard spawned == 0 else {
            close(pipeFDs[0])
            throw ClusterError("cannot run \(command[0]): \(String(cString: strerror(spawned)))")
        }
        // Read until every writer is gone. pg_ctl hands the server a log file, not this pipe.
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(pipeFDs[0], &buffer, buffer.count)
            if count > 0 {
                output += buffer[0..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(pipeFDs[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS by hand: the macros do not import into Swift.
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let result = Result(status: exitCode, output: String(decoding: output, as: UTF8.self))
        if check && result.status != 0 {
            throw ClusterError("\(command.joined(separator: " ")) failed (\(result.status)):\n\(result.output)")
        }
        return result
    }
}

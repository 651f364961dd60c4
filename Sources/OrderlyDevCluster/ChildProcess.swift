import Foundation

/// Runs a program to completion and captures its output.
///
/// posix_spawn and waitpid rather than Foundation's `Process`, for two reasons seen here: its
/// `waitUntilExit` can miss the exit of a child that leaves a daemon behind (`pg_ctl start`) and hang,
/// and a child spawned from a Swift concurrency thread inherits that thread's blocked signals, so a
/// program that times itself with SIGALRM (`pgbench -T`) never stops. Here the child gets an empty
/// signal mask and default handlers.
public enum ChildProcess {
    private static let spawnLock = NSLock()

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time
    /// because the Glibc module Swift imports does not declare it.
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            let name = "posix_spawn_file_actions_addclosefrom_np"
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
            )
        }()

    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    /// Runs `command` (looked up on PATH) with stdout and stderr captured together, and `input` (empty
    /// unless given) on its stdin.
    ///
    /// The child inherits no descriptor but those three. A descriptor another thread opened without
    /// close-on-exec (Foundation's `Pipe`, for one) would otherwise live on in whatever the child leaves
    /// running, and whoever waits for that pipe's end-of-file would wait for as long as the server runs.
    public static func run(
        _ command: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String? = nil,
        input: String? = nil
    ) throws -> Result {
        guard !command.isEmpty else { throw ClusterError("no command to run") }
        guard let addCloseFrom else {
            throw ClusterError(
                "this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 and later have)"
            )
        }
        // The input goes through a file, not a pipe: nothing to write while the child runs, so no
        // deadlock against a child that writes a full pipe of output before reading its input.
        var inputPath = "/dev/null"
        if let input {
            inputPath =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("orderly-input-\(UUID().uuidString)").path
            try Data(input.utf8).write(to: URL(fileURLWithPath: inputPath))
        }
        defer { if input != nil { try? FileManager.default.removeItem(atPath: inputPath) } }
        var pipeFDs: [Int32] = [0, 0]
        // Another thread spawning at the same moment (pg_ctl, which leaves a server running) must not
        // inherit our write end, or our read below would never see end-of-file. So the pipe is
        // close-on-exec, and creating it and spawning happen under one process-wide lock, so no spawn
        // can fall between pipe() and fcntl(). The dup2 onto the child's stdout/stderr clears the flag
        // for those two descriptors only.
        spawnLock.lock()
        guard pipe(&pipeFDs) == 0 else {
            spawnLock.unlock()
            throw ClusterError("pipe() failed: errno \(errno)")
        }
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        _ = addCloseFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // A shell changes directory first (posix_spawn's chdir action is not portable), then execs.
        let script = workingDirectory == nil ? "exec \"$@\"" : "cd \"$0\" && exec \"$@\""
        let wrapped = ["/bin/sh", "-c", script, workingDirectory ?? "sh"] + command
        var argv = wrapped.map { strdup($0) } + [nil]
        var envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, &envp)
        close(pipeFDs[1])
        spawnLock.unlock()
        guard spawned == 0 else {
            close(pipeFDs[0])
            throw ClusterError("cannot run \(command[0]): \(String(cString: strerror(spawned)))")
        }
        // Read until every writer is gone (pg_ctl gives the server a log file, not this pipe).
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
        return Result(status: exitCode, output: String(decoding: output, as: UTF8.self))
    }
}

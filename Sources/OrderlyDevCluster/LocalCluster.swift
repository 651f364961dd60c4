import Foundation
import LibPQ
import Logging

/// A private PostgreSQL cluster that Orderly runs itself: `initdb` + `pg_ctl`, loopback and a unix
/// socket only, on a free port.
///
/// `orderly dev` keeps one under `.orderly/`; the test suite makes a throwaway one per run. PostgreSQL
/// refuses to run as root, so as root the server runs as the `postgres` user; when that user cannot
/// reach the project directory (a home directory or a `mktemp -d` folder is mode 0700), the server's
/// files go to a postgres-owned folder under `/var/tmp` instead and `.orderly/cluster.json` says where.
public struct LocalCluster: Sendable {
    /// Tuning for what the cluster is for.
    public enum Durability: Sendable {
        /// Defaults: crash-safe.
        case durable
        /// fsync off and friends: for throwaway test clusters, where speed beats crash safety.
        case throwaway
    }

    /// What `cluster.json` records, and what a client needs.
    public struct Info: Codable, Sendable, Equatable {
        public var dataDirectory: String
        public var socketDirectory: String
        public var port: Int
        public var database: String
        public var user: String
        public var password: String

        /// A libpq conninfo over the unix socket.
        public var conninfo: String {
            [
                ("host", socketDirectory), ("port", String(port)), ("dbname", database), ("user", user),
            ].map { "\($0.0)=\(LocalCluster.quote($0.1))" }.joined(separator: " ")
        }

        /// The same server over loopback TCP, as a URL (password included: it is a private cluster).
        public var url: String {
            "postgresql://\(user):\(password)@127.0.0.1:\(port)/\(database)"
        }

        /// The URL without the password, for output a terminal or a log keeps (`orderly dev url`
        /// prints the whole one).
        public var displayURL: String {
            "postgresql://\(user)@127.0.0.1:\(port)/\(database)"
        }
    }

    public enum Status: Sendable, Equatable {
        case notInitialized
        case stopped
        case running(pid: Int)
    }

    public let home: URL
    public let durability: Durability
    let logger: Logger

    public init(home: URL, durability: Durability = .durable, logger: Logger = Logger(label: "orderly.dev")) {
        self.home = home.standardizedFileURL
        self.durability = durability
        self.logger = logger
    }

    /// `.orderly/` in the current directory, or `ORDERLY_HOME`.
    public static func forCurrentDirectory(logger: Logger = Logger(label: "orderly.dev")) -> LocalCluster {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["ORDERLY_HOME"] ?? FileManager.default.currentDirectoryPath + "/.orderly"
        return LocalCluster(home: URL(fileURLWithPath: path), logger: logger)
    }

    var stateFile: URL { home.appending(path: "cluster.json") }

    /// The recorded cluster, if `start()` ever initialized one here.
    public func info() -> Info? {
        guard let data = try? Data(contentsOf: stateFile) else { return nil }
        return try? JSONDecoder().decode(Info.self, from: data)
    }

    public func status() throws -> Status {
        guard let info = info(), FileManager.default.fileExists(atPath: info.dataDirectory + "/PG_VERSION") else {
            return .notInitialized
        }
        let tools = try Tools.locate()
        let result = try tools.run("pg_ctl", ["status", "-D", info.dataDirectory], asServerUser: Self.isRoot)
        guard result.status == 0 else { return .stopped }
        let pid = result.output.split(separator: "PID: ").dropFirst().first
            .flatMap { Int($0.prefix { $0.isNumber }) }
        return .running(pid: pid ?? 0)
    }

    /// Initializes the cluster if needed, starts it if stopped (on the port it had, when that is still
    /// free), and makes sure its database exists. Safe to call when it is already running.
    @discardableResult
    public func start() throws -> Info {
        let tools = try Tools.locate()
        let recorded = self.info().flatMap {
            FileManager.default.fileExists(atPath: $0.dataDirectory + "/PG_VERSION") ? $0 : nil
        }
        var info = try recorded ?? initialize(tools: tools)
        if case .running = try status() {
            return info
        }
        var lastError: (any Error)?
        for attempt in 0..<5 {
            // A restart keeps its port, so a URL handed out stays good; taken since, another one.
            if attempt > 0 || recorded == nil { info.port = try Self.freePort() }
            try writeServerSettings(info)
            try save(info)
            do {
                _ = try tools.run(
                    "pg_ctl",
                    ["start", "-D", info.dataDirectory, "-l", logFile(info), "-w", "-t", "60", "-s"],
                    asServerUser: Self.isRoot,
                    check: true
                )
                try createDatabase(info)
                logger.info(
                    "private PostgreSQL running",
                    metadata: ["port": "\(info.port)", "data": "\(info.dataDirectory)"]
                )
                return info
            } catch {
                // Most likely another process took the port between our probe and the server's bind.
                lastError = error
                logger.debug("start failed; trying another port", metadata: ["error": "\(error)"])
            }
        }
        let log = (try? String(contentsOfFile: logFile(info), encoding: .utf8))?.suffix(2000) ?? ""
        throw ClusterError("could not start PostgreSQL: \(lastError.map { "\($0)" } ?? "unknown")\n\(log)")
    }

    /// Stops the server (fast shutdown: open sessions are ended, nothing committed is lost).
    public func stop(immediate: Bool = false) throws {
        guard let info = info() else { return }
        guard case .running = try status() else { return }
        let tools = try Tools.locate()
        _ = try tools.run(
            "pg_ctl",
            ["stop", "-D", info.dataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "-s"],
            asServerUser: Self.isRoot,
            check: true
        )
    }

    /// Stops the server and deletes every file of the cluster.
    public func destroy() throws {
        let info = self.info()
        try? stop(immediate: true)
        if let info {
            let serverHome = URL(fileURLWithPath: info.dataDirectory).deletingLastPathComponent()
            try? FileManager.default.removeItem(at: serverHome)
            try? FileManager.default.removeItem(atPath: info.socketDirectory)
        }
        try? FileManager.default.removeItem(at: home)
    }

    // MARK: Setup

    static var isRoot: Bool { geteuid() == 0 }

    private func initialize(tools: Tools) throws -> Info {
        let fileManager = FileManager.default
        // As root, the postgres user must be able to pass through (not read) .orderly/ to its own folder.
        try fileManager.createDirectory(at: home, withIntermediateDirectories: true)
        try fileManager.setAttributes([.posixPermissions: Self.isRoot ? 0o711 : 0o700], ofItemAtPath: home.path)
        let serverHome = try prepareServerHome(tools: tools)
        let socketDirectory = Self.socketDirectory(near: serverHome, key: home.path)
        try makeServerDirectory(socketDirectory, tools: tools)
        var info = Info(
            dataDirectory: serverHome.appending(path: "pgdata").path,
            socketDirectory: socketDirectory.path,
            port: 0,
            database: "orderly",
            user: "orderly",
            password: Self.randomPassword()
        )
        if fileManager.fileExists(atPath: info.dataDirectory + "/PG_VERSION") {
            // A cluster from an earlier run whose cluster.json was lost: its password is unknown, start over.
            try fileManager.removeItem(atPath: info.dataDirectory)
        }
        let passwordFile = serverHome.appending(path: "initdb-password")
        try Data(info.password.utf8).write(to: passwordFile)
        defer { try? fileManager.removeItem(at: passwordFile) }
        try chownToServerUser(passwordFile, tools: tools)
        logger.info("initializing private PostgreSQL cluster", metadata: ["data": "\(info.dataDirectory)"])
        _ = try tools.run(
            "initdb",
            [
                "-D", info.dataDirectory, "-U", info.user, "--pwfile", passwordFile.path, "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-instructions",
            ] + (durability == .throwaway ? ["--no-sync"] : []),
            asServerUser: Self.isRoot,
            check: true
        )
        let include = "\ninclude_if_exists = 'orderly.conf'\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: info.dataDirectory + "/postgresql.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(include.utf8))
        try handle.close()
        info.port = 0
        try save(info)
        return info
    }

    /// Where the server's own files go: `.orderly/server`, or, when running as root and the `postgres`
    /// user cannot reach `.orderly/`, a postgres-owned folder in /var/tmp keyed by this project's path.
    private func prepareServerHome(tools: Tools) throws -> URL {
        var serverHome = home.appending(path: "server")
        if Self.isRoot {
            try FileManager.default.createDirectory(at: serverHome, withIntermediateDirectories: true)
            try chownToServerUser(serverHome, tools: tools)
            let reachable = try tools.runRaw(["runuser", "-u", Tools.serverUser, "--", "test", "-w", serverHome.path])
            if reachable.status != 0 {
                try? FileManager.default.removeItem(at: serverHome)
                serverHome = URL(fileURLWithPath: "/var/tmp/orderly-\(Self.hash(home.path))")
                logger.info(
                    "the postgres user cannot reach \(home.path); keeping the server's files in \(serverHome.path)"
                )
            }
        }
        try makeServerDirectory(serverHome, tools: tools)
        return serverHome
    }

    private func makeServerDirectory(_ url: URL, tools: Tools) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path)
        try chownToServerUser(url, tools: tools)
    }

    private func chownToServerUser(_ url: URL, tools: Tools) throws {
        guard Self.isRoot else { return }
        _ = try tools.runRaw(["chown", "\(Tools.serverUser):", url.path], check: true)
    }

    /// A unix socket path must fit in 107 bytes; a deep project path gets its socket in /tmp.
    private static func socketDirectory(near serverHome: URL, key: String) -> URL {
        let preferred = serverHome.appending(path: "run")
        if preferred.path.utf8.count + "/.s.PGSQL.65535.lock".utf8.count < 100 { return preferred }
        return URL(fileURLWithPath: "/tmp/orderly-\(hash(key))")
    }

    private func writeServerSettings(_ info: Info) throws {
        var settings = [
            "listen_addresses = '127.0.0.1'",
            "port = \(info.port)",
            "unix_socket_directories = \(Self.confQuote(info.socketDirectory))",
            "unix_socket_permissions = 0700",
            "max_connections = 200",
            "shared_buffers = 128MB",
        ]
        if durability == .throwaway {
            // The test suite runs its suites in parallel, each with pools of its own.
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off", "max_connections = 500"]
        }
        let url = URL(fileURLWithPath: info.dataDirectory + "/orderly.conf")
        try Data((settings.joined(separator: "\n") + "\n").utf8).write(to: url)
        try chownToServerUser(url, tools: try Tools.locate())
    }

    private func createDatabase(_ info: Info) throws {
        var admin = info
        admin.database = "postgres"
        let connection = try PostgresConnection(configuration: PostgresConfiguration(conninfo: admin.conninfo))
        defer { connection.close() }
        let exists = try connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [info.database]).count > 0
        if !exists {
            // CREATE DATABASE takes no parameters; the name is ours and fixed ("orderly").
            try connection.execute("CREATE DATABASE \(identifier: info.database)")
        }
    }

    private func save(_ info: Info) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(info).write(to: stateFile, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: stateFile.path)
    }

    private func logFile(_ info: Info) -> String {
        URL(fileURLWithPath: info.dataDirectory).deletingLastPathComponent().appending(path: "postgres.log").path
    }

    // MARK: Small helpers

    /// Asks the kernel for a free loopback port.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw ClusterError("bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw ClusterError("getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func randomPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<24).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    /// FNV-1a, to name a folder after a path.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return String(value, radix: 16)
    }

    /// Quotes a conninfo value: `'...'` with `\` and `'` escaped.
    static func quote(_ value: String) -> String {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return "'\(escaped)'"
    }

    /// Quotes a postgresql.conf string value.
    static func confQuote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }
}

/// A problem managing the local cluster, with what the tool printed.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

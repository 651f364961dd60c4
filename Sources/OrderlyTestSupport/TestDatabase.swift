import Foundation
import LibPQ
import Logging
import OrderlyDevCluster
import OrderlyStore
import Synchronization
import Testing

/// A database of its own for one test suite, on the run's shared PostgreSQL server.
///
/// The server is `ORDERLY_TEST_DATABASE_URL` when set (the role needs CREATEDB), otherwise a throwaway
/// cluster that the same helper as `orderly dev` starts once per test run and stops at exit.
public struct TestDatabase: Sendable {
    public let name: String
    public let configuration: PostgresConfiguration

    /// The suite's database; set inside a suite marked `.database` or `.migratedDatabase`.
    @TaskLocal public static var current: TestDatabase?

    /// The current suite's database, or a failed expectation explaining how to get one.
    public static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> TestDatabase {
        try #require(current, "mark the suite with .database or .migratedDatabase", sourceLocation: sourceLocation)
    }

    /// A conninfo string or URL for this database, as a user would pass to `--database-url`.
    public var conninfo: String {
        let base = configuration.conninfo
        if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://"),
            var components = URLComponents(string: base)
        {
            components.path = "/" + name
            return components.string ?? base
        }
        return base + " dbname=" + name
    }

    /// A fresh connection (close it when done).
    public func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration, logger: TestServer.logger)
    }

    /// A pool over this database (close it when done).
    /// A pool on this database. Unless the test sets another acquire timeout, a caller waits up to 10
    /// minutes for a connection (a hang guard): the library's 10 s default is a verdict on how fast a
    /// loaded machine runs the other holders, which no test may depend on.
    public func makePool(_ options: PostgresPoolOptions = PostgresPoolOptions()) -> PostgresPool {
        var options = options
        if options.acquireTimeout == PostgresPoolOptions().acquireTimeout { options.acquireTimeout = .seconds(600) }
        return PostgresPool(configuration: configuration, options: options, logger: TestServer.logger)
    }

    /// Creates a fresh database on the shared server, optionally with every migration applied.
    public static func create(label: String, migrated: Bool) async throws -> TestDatabase {
        // libpq blocks: keep cluster start-up, CREATE DATABASE and migrations off the cooperative pool.
        try await onThread { try createBlocking(label: label, migrated: migrated) }
    }

    private static func createBlocking(label: String, migrated: Bool) throws -> TestDatabase {
        let server = try TestServer.shared()
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let cleaned = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = "t_" + String(cleaned.prefix(40)) + "_" + suffix
        let admin = try PostgresConnection(configuration: server, logger: TestServer.logger)
        defer { admin.close() }
        // CREATE DATABASE takes no parameters; the name is built above from letters, digits and _.
        try admin.execute("CREATE DATABASE \(identifier: name)")
        let database = TestDatabase(name: name, configuration: server.with(database: name))
        if migrated {
            let connection = try database.connect()
            defer { connection.close() }
            try Migrator(logger: TestServer.logger).migrate(on: connection)
        }
        return database
    }

    /// Drops the database, ending any session still connected to it.
    public func drop() throws {
        let admin = try PostgresConnection(configuration: try TestServer.shared(), logger: TestServer.logger)
        defer { admin.close() }
        try admin.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
    }
}

/// The run's one PostgreSQL server.
public enum TestServer {
    static let logger: Logger = {
        var logger = Logger(label: "orderly.test")
        logger.logLevel = .warning
        return logger
    }()

    private static let state = Mutex<Result<PostgresConfiguration, any Error>?>(nil)
    private static let cluster = Mutex<LocalCluster?>(nil)

    /// The server's configuration, starting the throwaway cluster on first use.
    public static func shared() throws -> PostgresConfiguration {
        try state.withLock { state in
            if let state { return try state.get() }
            let result = Result { try start() }
            state = result
            return try result.get()
        }
    }

    /// A test run killed before its atexit handler ran leaves its cluster running: stop and delete the
    /// clusters of runs whose process is gone.
    private static func removeClustersOfDeadRuns(in directory: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix("orderly-test-") {
            guard let pid = Int32(name.dropFirst("orderly-test-".count)), pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? LocalCluster(home: directory.appending(path: name), logger: logger).destroy()
            }
        }
    }

    /// The throwaway cluster, if this run started one (nil with ORDERLY_TEST_DATABASE_URL).
    public static var localCluster: LocalCluster? { cluster.withLock { $0 } }

    private static func start() throws -> PostgresConfiguration {
        if let url = ProcessInfo.processInfo.environment["ORDERLY_TEST_DATABASE_URL"], !url.isEmpty {
            return PostgresConfiguration(conninfo: url, applicationName: "orderly-tests")
        }
        let temporary = URL(fileURLWithPath: NSTemporaryDirectory())
        removeClustersOfDeadRuns(in: temporary)
        let home = temporary.appending(path: "orderly-test-\(getpid())")
        let local = LocalCluster(home: home, durability: .throwaway, logger: logger)
        try? local.destroy()  // a leftover of a crashed run with the same pid
        let info = try local.start()
        cluster.withLock { $0 = local }
        atexit {
            // Tests stop what they start: the throwaway cluster goes with the test process.
            try? TestServer.localCluster?.destroy()
        }
        var admin = info
        admin.database = "postgres"
        return PostgresConfiguration(conninfo: admin.conninfo, applicationName: "orderly-tests")
    }
}

/// Gives a suite its own database for the suite's lifetime (`TestDatabase.current`), dropped afterwards.
public struct DatabaseTrait: SuiteTrait, TestScoping {
    let migrated: Bool

    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let database = try await TestDatabase.create(label: test.name, migrated: migrated)
        try await TestDatabase.$current.withValue(database) {
            try await function()
        }
        do {
            try await onThread { try database.drop() }
        } catch {
            TestServer.logger.warning("could not drop test database", metadata: ["error": "\(error)"])
        }
    }
}

extension Trait where Self == DatabaseTrait {
    /// An empty database of the suite's own.
    public static var database: DatabaseTrait { DatabaseTrait(migrated: false) }
    /// A database of the suite's own with every migration applied.
    public static var migratedDatabase: DatabaseTrait { DatabaseTrait(migrated: true) }
}

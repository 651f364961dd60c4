import Foundation
import LibPQ
import LineSocket
import Logging
import Orderly
import OrderlyAdminServer
import OrderlyCommands
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// A real server on a free loopback port over the suite's database, and clients for it.
final class ServerFixture: Sendable {
    let server: AdminServer
    let pool: PostgresPool
    let port: Int
    let running: Task<Void, any Error>
    let database: TestDatabase

    static let secrets = ["ro": "readonly-secret-1", "op": "operator-secret-1", "adm": "admin-secret-12"]

    /// A database of the test's own; with `principals`, ro/op/adm (readonly, operator, admin) exist, so
    /// auth is required.
    static func start(
        _ label: String,
        principals: Bool = true,
        logger: Logger? = nil,
        components: OrderlyComponents = .standard,
        configure: (inout AdminServerConfiguration) -> Void = { _ in }
    ) async throws -> ServerFixture {
        let database = try await TestDatabase.create(label: "admin_" + label, migrated: true)
        var options = PostgresPoolOptions(maxConnections: 8)
        options.carryContext = LogContext.carrier  // as `OrderlyDatabase.open` gives a server's pool
        let pool = database.makePool(options)
        if principals {
            try await pool.withConnection { connection in
                if try AdminPrincipalStore.count(connection) == 0 {
                    for (name, role) in [("ro", "readonly"), ("op", "operator"), ("adm", "admin")] {
                        let hash = try PasswordHash.make(secrets[name]!, iterations: 1_000)
                        try AdminPrincipalStore.create(connection, name: name, role: role, secretHash: hash)
                    }
                }
            }
        }
        var configuration = AdminServerConfiguration(host: "127.0.0.1", port: 0)
        // No test's verdict may hang on how fast this machine runs it: the server's clocks are far
        // beyond any test's length unless the test is about one of them and sets it.
        configuration.authTimeout = .hours(1)
        configuration.idleTimeout = .hours(1)
        configuration.lineTimeout = .hours(1)
        // The principals' hashes have 1,000 rounds: AUTH upgrades none unless a test asks.
        configuration.passwordIterations = 1_000
        configure(&configuration)
        let logger =
            logger
            ?? {
                var logger = Logger(label: "test.admin")
                logger.logLevel = .warning
                return logger
            }()
        let server = AdminServer(
            configuration: configuration,
            database: OrderlyDatabase(pool: pool),
            components: components,
            logger: logger
        )
        let running = Task { try await server.run() }
        let address = try await server.localAddress()
        return ServerFixture(server: server, pool: pool, port: address.port ?? 0, running: running, database: database)
    }

    private init(
        server: AdminServer,
        pool: PostgresPool,
        port: Int,
        running: Task<Void, any Error>,
        database: TestDatabase
    ) {
        self.server = server
        self.pool = pool
        self.port = port
        self.running = running
        self.database = database
    }

    func stop() async {
        server.shutdown()
        _ = try? await running.value
        await pool.close()
        try? database.drop()
    }

    /// Asks `line` until row `row` of the reply has `key=wanted`; returns the last reply. Polls every
    /// 50 ms under a hang guard of 10 minutes: the verdict is the caller's, on the state reached.
    static func waitFor(
        _ c: AdminClient,
        _ line: String,
        row: Int = 0,
        _ key: String,
        _ wanted: String
    ) throws -> [String] {
        var reply: [String] = []
        for _ in 0..<12_000 {
            reply = try c.request(line)
            if reply.count > row, PaymentProtocolTests.value(reply[row], key) == wanted { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return reply
    }

    /// A client, authenticated as `user` unless nil. Blocking calls: use it inside `onThread`.
    /// The read timeout is a hang guard (10 minutes), not a verdict on how fast a loaded machine answers.
    func client(_ user: String? = "adm", timeout: Double = 600, tls: TLSClientSettings? = nil) throws -> AdminClient {
        let client = try AdminClient(host: "127.0.0.1", port: port, timeout: timeout, tls: tls)
        if let user {
            let reply = try client.request("AUTH \(user) \(Self.secrets[user]!)")
            guard reply.first?.hasPrefix("OK") == true else { throw AdminClientError("AUTH failed: \(reply)") }
        }
        return client
    }
}

import Foundation
import LibPQ
import OrderlyDevCluster
import Testing

@Suite
struct LocalClusterTests {
    @Test func startStopRestartKeepsDataAndDestroyRemovesIt() throws {
        let home = URL(fileURLWithPath: NSTemporaryDirectory()).appending(
            path: "orderly-cluster-test-\(UUID().uuidString.prefix(8))"
        )
        let cluster = LocalCluster(home: home, durability: .throwaway)
        defer { try? cluster.destroy() }
        #expect(try cluster.status() == .notInitialized)

        let info = try cluster.start()
        guard case .running = try cluster.status() else {
            Issue.record("not running after start")
            return
        }
        // Starting again while running is a no-op that returns the same server.
        #expect(try cluster.start() == info)

        let connection = try PostgresConnection(configuration: PostgresConfiguration(conninfo: info.conninfo))
        try connection.execute("CREATE TABLE kept (note text)")
        try connection.execute("INSERT INTO kept VALUES ($1)", ["survives a restart"])
        // Loopback TCP needs the generated password: the private cluster is not open to other local users.
        let overTCP = try PostgresConnection(configuration: PostgresConfiguration(conninfo: info.url))
        #expect(try overTCP.query("SELECT inet_server_addr()::text").scalar(String.self).hasPrefix("127.0.0.1"))
        overTCP.close()
        var wrongPassword = info
        wrongPassword.password = "wrong"
        #expect(throws: PostgresError.self) {
            try PostgresConnection(configuration: PostgresConfiguration(conninfo: wrongPassword.url))
        }
        connection.close()

        try cluster.stop()
        #expect(try cluster.status() == .stopped)
        let restarted = try cluster.start()
        // Its port was still free: the URL handed out before the restart is good after it.
        #expect(restarted.port == info.port)
        let again = try PostgresConnection(configuration: PostgresConfiguration(conninfo: restarted.conninfo))
        #expect(try again.query("SELECT note FROM kept").scalar(String.self) == "survives a restart")
        again.close()

        try cluster.destroy()
        #expect(try cluster.status() == .notInitialized)
        #expect(!FileManager.default.fileExists(atPath: restarted.dataDirectory))
    }
}

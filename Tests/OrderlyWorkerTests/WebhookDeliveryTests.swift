import Foundation
import HTTPTypes
import Hummingbird
import LibPQ
import Logging
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import OrderlyWorker
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A local webhook receiver: answers each delivery as scripted (500s first, say), holds one open when
/// asked, and keeps what it received.
final class WebhookSink: Sendable {
    struct Delivery: Sendable {
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Answer: Sendable {
        case status(HTTPResponse.Status)
        /// Never answered: the connection stays open until the sender goes away.
        case hold
    }

    private final class State: Sendable {
        let mutex = Mutex<(script: [Answer], received: [Delivery])>(([], []))
    }

    private let state = State()
    private let serving: Task<Void, any Error>
    let port: Int

    init(script: [Answer]) async {
        state.mutex.withLock { $0.script = script }
        let router = Router()
        let state = self.state
        router.post("hook") { request, _ -> Response in
            var request = request
            let body = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let answer = state.mutex.withLock { state -> Answer in
                state.received.append(Delivery(headers: headers, body: body))
                return state.script.isEmpty ? .status(.ok) : state.script.removeFirst()
            }
            switch answer {
            case .status(let status): return Response(status: status)
            case .hold:
                // Not a wait any verdict depends on: the answer never comes (the test kills the sender);
                // the sink's stop cancels it.
                try await Task.sleep(for: .seconds(3600))
                return Response(status: .ok)
            }
        }
        let bound = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: "test.webhook-sink")
        quiet.logLevel = .critical
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                bound.continuation.yield(channel.localAddress?.port ?? 0)
                bound.continuation.finish()
            },
            logger: quiet
        )
        serving = Task { try await application.runService() }
        var port = 0
        for await found in bound.stream { port = found }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    var received: [Delivery] { state.mutex.withLock { $0.received } }

    /// Waits until `count` deliveries arrived (a hang guard of ten minutes, not a verdict).
    func waitFor(_ count: Int) async throws -> [Delivery] {
        for _ in 0..<6000 {
            let received = self.received
            if received.count >= count { return received }
            try await Task.sleep(for: .milliseconds(100))
        }
        return received
    }

    func stop() async {
        serving.cancel()
        _ = await serving.result
    }
}

/// Outbound webhooks end to end: a connected channel's order cancelled, the update written by the
/// trigger with the move, delivered by `orderly worker` processes to a local receiver, signed;
/// retried when the receiver fails; sent again (same delivery id) when the worker dies mid-delivery.
@Suite(.migratedDatabase, .serialized)
struct WebhookDeliveryTests {
    static let secret = "whsec-0123456789abcdef0123456789"

    /// The webhook secret in a file only its owner reads.
    static func secretFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-webhook-\(UUID()).secret")
            .path
        try (secret + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    /// A channel of its own connected with `url` as its webhook, one of its orders placed and
    /// cancelled: the id of the webhook notification the cancellation wrote.
    static func cancelledOrder(
        _ setup: FulfillmentFlowTests.Setup,
        webhook url: String
    ) async throws -> (Int64, NewOrder) {
        let channel = SalesChannel(rawValue: "hook_\(setup.tag.lowercased())")!
        var settings = ChannelSettings()
        settings.kind = .web
        _ = try await ChannelService(database: setup.database, actor: "test").set(channel, settings)
        try await ChannelIngest(database: setup.database, actor: "test").connect(
            channel,
            platform: "shopify",
            secret: "shpss_0123456789abcdef",
            token: nil,
            webhookURL: url
        )
        var order = setup.order("hook", lines: [(0, 1)])
        order.channel = channel
        let placed = try await setup.orders.place(order)
        try await setup.orders.cancel(placed.orderID, reason: "customer changed their mind")
        let ids = try await setup.pool.query(
            "SELECT id FROM notifications WHERE order_id = $1 AND channel = 'webhook' AND kind = 'channel_update'",
            [placed.orderID]
        ).map { try $0.decode(Int64.self, at: 0) }
        try #require(ids.count == 1)
        return (ids[0], order)
    }

    static func status(_ pool: PostgresPool, _ id: Int64) async throws -> (String, Int32) {
        let row = try await pool.query("SELECT status, attempts FROM notifications WHERE id = $1", [id])
        return try row.map { (try $0.decode(String.self, at: 0), try $0.decode(Int32.self, at: 1)) }.first ?? ("", 0)
    }

    /// Waits until the notification is no longer pending (a hang guard of ten minutes, not a verdict).
    func waitForSent(_ pool: PostgresPool, _ id: Int64) async throws -> (String, Int32) {
        for _ in 0..<6000 {
            let status = try await Self.status(pool, id)
            if status.0 != "pending" { return status }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await Self.status(pool, id)
    }

    /// Every delivery: the notification's id, the topic, and a signature that is the body's.
    static func checkSigned(_ deliveries: [WebhookSink.Delivery], id: Int64) {
        for delivery in deliveries {
            #expect(delivery.headers["x-orderly-delivery"] == "\(id)")
            #expect(delivery.headers["x-orderly-topic"] == "order.cancelled")
            #expect(
                delivery.headers["x-orderly-signature"]
                    == "sha256=" + ChannelCredentials.webhookSignature(delivery.body, secret: secret)
            )
        }
    }

    @Test func aReceiverThatFailsTwiceGetsTheUpdateOnTheThirdAttempt() async throws {
        let setup = try await FulfillmentFlowTests.Setup.make()
        defer { Task { await setup.pool.close() } }
        let sink = await WebhookSink(script: [.status(.internalServerError), .status(.serviceUnavailable)])
        defer { Task { await sink.stop() } }
        let (id, order) = try await Self.cancelledOrder(setup, webhook: sink.url)
        let secret = try Self.secretFile()
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let worker = try WorkerProcess(
            conninfo: try TestDatabase.require().conninfo,
            id: "webhook-retry",
            arguments: [
                "--queues", "notifications", "--backoff-base", "0.1", "--backoff-cap", "0.3",
                "--webhook-secret-file", secret,
            ]
        )
        let deliveries = try await sink.waitFor(3)
        #expect(try await waitForSent(setup.pool, id).0 == "sent", "\(worker.output)")
        // The notify job's third attempt sent it.
        let attempts = try await setup.pool.query(
            "SELECT attempt FROM jobs WHERE unique_key = $1",
            ["notify:\(id)"]
        ).map { try $0.decode(Int32.self, at: 0) }
        #expect(attempts == [3])
        worker.signal(SIGTERM)
        _ = await worker.exitStatus(within: 600)
        #expect(deliveries.count == 3)
        Self.checkSigned(deliveries, id: id)
        // The body says what happened to which order of the channel.
        let body = try JSONSerialization.jsonObject(with: Data(deliveries[2].body)) as? [String: Any]
        #expect(body?["topic"] as? String == "order.cancelled")
        #expect(body?["external_id"] as? String == order.externalID)
        #expect(body?["channel"] as? String == order.channel.rawValue)
        #expect(body?["status"] as? String == "cancelled")
    }

    @Test func aWorkerKilledMidDeliveryLosesNothingAndTheReceiverSeesTheSameDeliveryID() async throws {
        let setup = try await FulfillmentFlowTests.Setup.make()
        defer { Task { await setup.pool.close() } }
        // The first delivery is held open: the worker is inside the notify job's transaction, waiting.
        let sink = await WebhookSink(script: [.hold])
        defer { Task { await sink.stop() } }
        let (id, _) = try await Self.cancelledOrder(setup, webhook: sink.url)
        let secret = try Self.secretFile()
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let conninfo = try TestDatabase.require().conninfo
        let arguments = [
            "--queues", "notifications", "--lease-seconds", "2", "--backoff-base", "0.1", "--backoff-cap", "0.3",
            "--webhook-secret-file", secret, "--webhook-timeout", "600",
        ]
        let first = try WorkerProcess(conninfo: conninfo, id: "webhook-killed", arguments: arguments)
        #expect(try await sink.waitFor(1).count == 1)
        first.signal(SIGKILL)
        _ = await first.exitStatus(within: 600)
        #expect(try await Self.status(setup.pool, id).0 == "pending")
        let second = try WorkerProcess(conninfo: conninfo, id: "webhook-rescuer", arguments: arguments)
        let deliveries = try await sink.waitFor(2)
        #expect(try await waitForSent(setup.pool, id).0 == "sent", "\(second.output)")
        second.signal(SIGTERM)
        _ = await second.exitStatus(within: 600)
        #expect(deliveries.count == 2)
        Self.checkSigned(deliveries, id: id)
        #expect(deliveries[0].body == deliveries[1].body)
    }
}

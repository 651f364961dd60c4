import Crypto
import Foundation
import LibPQ
import LineSocket
import Logging
import OrderlyChannels
import OrderlyCore
import OrderlyDevCluster
import OrderlyHTTP
import OrderlyStore
import OrderlyTestSupport
import Testing

@testable import Orderly

/// `POST /channels/{name}/orders` over real TCP, and the importers' capture behind it: signatures,
/// replays, limits, holds before capture, changes from the platform.
@Suite(.migratedDatabase) struct ChannelIngestTests {
    static let secret = "shpss_0123456789abcdef0123"
    static let token = "amzn-connector-token-0123456789"

    /// A channel of its own connected to `platform`, two SKUs with stock in a German warehouse, a
    /// carrier with a rate to Germany, and a side door with the ingest on a free port.
    struct World {
        let pool: PostgresPool
        let database: OrderlyDatabase
        let ingest: ChannelIngest
        let channel: SalesChannel
        let skus: [String]
        let serving: Task<Void, any Error>
        let port: Int

        static func make(platform: String = "shopify", maximumBodyBytes: Int = 1 << 20) async throws -> World {
            let pool = try TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 6))
            let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let skus = ["IN0-\(tag)".uppercased(), "IN1-\(tag)".uppercased()]
            try await pool.transaction { connection in
                let warehouse = try CatalogBuilders.warehouse(connection, code: "IN-\(tag)".uppercased())
                let ids = try skus.map { try CatalogBuilders.sku(connection, code: $0) }
                for id in ids {
                    try connection.execute(
                        "INSERT INTO inventory (warehouse_id, sku_id, on_hand) VALUES ($1, $2, 10)",
                        [warehouse, id]
                    )
                }
                let carrier = try connection.query(
                    "INSERT INTO carriers (code, name, tracking_prefix) VALUES ($1, 'Test Post', 'RR') RETURNING id",
                    ["C-\(tag)".uppercased()]
                ).scalar(Int64.self)
                try connection.execute(
                    """
                    INSERT INTO shipping_rates (carrier_id, service, destination_country, min_weight_grams,
                                                max_weight_grams, price_minor, currency, transit_days)
                    VALUES ($1, 'standard', 'DE', 0, 1000000, 490, 'EUR', 3)
                    """,
                    [carrier]
                )
            }
            let database = OrderlyDatabase(pool: pool)
            let channel = SalesChannel(rawValue: "in_\(tag)")!
            var settings = ChannelSettings()
            settings.kind = platform == "shopify" ? .web : .marketplace
            _ = try await ChannelService(database: database, actor: "test").set(channel, settings)
            let exposition = MetricsExposition()
            var components = OrderlyComponents.standard
            components.metrics = exposition.metrics
            let ingest = ChannelIngest(database: database, actor: "test", components: components)
            try await ingest.connect(
                channel,
                platform: platform,
                secret: platform == "shopify" ? ChannelIngestTests.secret : nil,
                token: platform == "shopify" ? nil : ChannelIngestTests.token,
                webhookURL: nil
            )
            var quiet = Logger(label: "test.ingest")
            quiet.logLevel = .critical
            let door = HTTPSideDoor(
                configuration: .init(port: 0, maximumBodyBytes: maximumBodyBytes),
                readiness: { [] },
                exposition: exposition,
                ingest: ingest,
                logger: quiet
            )
            let serving = Task { try await door.run() }
            return World(
                pool: pool,
                database: database,
                ingest: ingest,
                channel: channel,
                skus: skus,
                serving: serving,
                port: await door.localPort()
            )
        }

        func stop() async {
            serving.cancel()
            _ = await serving.result
            await pool.close()
        }

        /// POSTs `body` to the channel's ingest (or `path`), signed with `signature` (default: the right one).
        func post(
            _ body: [UInt8],
            signature: String? = nil,
            headers: [(String, String)] = [("Content-Type", "application/json")],
            path: String? = nil
        ) async throws -> HTTPAnswer {
            let sign = signature ?? ChannelCredentials.shopifySignature(body, secret: ChannelIngestTests.secret)
            let (port, path) = (self.port, path ?? "/channels/\(channel)/orders")
            return try await onThread {
                try HTTPAnswer.exchange(
                    method: "POST",
                    host: "127.0.0.1",
                    port: port,
                    path: path,
                    headers: headers + [("X-Shopify-Hmac-Sha256", sign)],
                    body: body,
                    timeout: 600
                )
            }
        }

        func count(_ table: String) async throws -> Int64 {
            let channel = self.channel
            return try await pool.withConnection { connection in
                try connection.query(
                    "SELECT count(*) FROM \(table) WHERE channel = $1",
                    [channel.rawValue]
                ).scalar(Int64.self)
            }
        }
    }

    /// A Shopify order of one line.
    static func shopify(
        id: Int,
        sku: String,
        quantity: Int = 2,
        cancelled: Bool = false,
        address: String = "Marienplatz 1"
    ) -> [UInt8] {
        Array(
            """
            {"order": {"id": \(id), "created_at": "2026-11-27T09:30:00+01:00", "currency": "EUR",
             "email": "ada@example.com", "financial_status": "paid",\(cancelled ? " \"cancelled_at\": \"2026-11-27T10:00:00Z\"," : "")
             "shipping_address": {"first_name": "Ada", "last_name": "Lovelace", "address1": "\(address)",
                                  "city": "München", "zip": "80331", "country_code": "DE"},
             "line_items": [{"id": 1, "variant_id": 77, "sku": "\(sku)", "quantity": \(quantity), "price": "12.50"}],
             "shipping_lines": [{"price": "4.90"}], "total_tax": "0.00", "total_discounts": "1.00",
             "total_price": "28.90"}}
            """.utf8
        )
    }

    static func object(_ answer: HTTPAnswer) throws -> [String: JSONValue] {
        guard case .object(let members) = try JSONValue.parse(answer.body) else {
            throw ChannelImportError(path: "", problem: "the answer is not a JSON object: \(answer.body)")
        }
        return members
    }

    @Test func aSignedOrderIsCapturedOnceAndASecondDeliveryReplaysIt() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        let body = Self.shopify(id: 5001, sku: world.skus[0])
        let first = try await world.post(body)
        #expect(first.status == 201)
        let created = try Self.object(first)
        let orderID = try #require(
            created["order_id"].flatMap { if case .number(let n) = $0 { Int64(n) } else { nil } }
        )
        #expect(created["external_id"] == .string("5001"))
        #expect(created["status"] == .string("reserved"))

        let order = try await OrderService(database: world.database, actor: "test").order(orderID)
        #expect(order.channel == world.channel && order.externalID == "5001")
        #expect(order.lines.map(\.skuCode) == [world.skus[0]])
        #expect(order.lines.map(\.quantity) == [2])
        #expect(order.lines.map(\.unitPriceMinor) == [12_50])
        #expect(order.shipTo.city == "München" && order.shipTo.name == "Ada Lovelace" && order.shipTo.country == "DE")
        #expect(order.totalMinor == 12_50 * 2 + 4_90 - 1_00)

        let again = try await world.post(body)
        #expect(again.status == 200)
        #expect(try Self.object(again)["replayed"] == .bool(true))
        #expect(try Self.object(again)["order_id"] == created["order_id"])
        #expect(try await world.count("orders") == 1)
        let deliveries = try await world.pool.withConnection { connection in
            try connection.query(
                "SELECT deliveries, state FROM channel_documents WHERE channel = $1",
                [world.channel.rawValue]
            ).map { (try $0.decode(Int32.self, at: 0), try $0.decode(String.self, at: 1)) }
        }
        #expect(deliveries.map(\.0) == [2] && deliveries.map(\.1) == ["captured"])
        let port = world.port
        let metrics = try await onThread {
            try HTTPAnswer.get(host: "127.0.0.1", port: port, path: "/metrics", timeout: 600)
        }
        for outcome in ["created", "replayed"] {
            #expect(
                metrics.body.contains(
                    #"orderly_channel_documents_total{channel="\#(world.channel)",outcome="\#(outcome)"} 1"#
                ),
                "\(metrics.body)"
            )
        }
    }

    @Test func aBadSignatureAnUnknownChannelAndAMissingSignatureAreRefusedWithNothingStored() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        let body = Self.shopify(id: 5002, sku: world.skus[0])
        let forged = ChannelCredentials.shopifySignature(body, secret: "not-the-secret-0123456789")
        #expect(try await world.post(body, signature: forged).status == 401)
        // One byte changed after signing.
        var tampered = body
        tampered[tampered.count - 3] = UInt8(ascii: "8")
        let signed = ChannelCredentials.shopifySignature(body, secret: Self.secret)
        #expect(try await world.post(tampered, signature: signed).status == 401)
        #expect(try await world.post(body, signature: "").status == 401)
        #expect(try await world.post(body, path: "/channels/no_such_channel/orders").status == 401)
        #expect(try await world.post(body, path: "/channels/NOT-A-NAME/orders").status == 401)
        #expect(try await world.count("channel_documents") == 0)
        #expect(try await world.count("orders") == 0)
    }

    @Test func oversizedMalformedUntypedAndUnmappableBodiesAreRefused() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        // 10 MB: answered 413 from the Content-Length, and the connection closed with the rest unread
        // (so the sender may see its write fail; the answer is read all the same).
        let port = world.port
        let path = "/channels/\(world.channel)/orders"
        let status = try await onThread {
            let socket = try LineSocket(host: "127.0.0.1", port: port, timeout: 600)
            try socket.send(
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(10 << 20)\r\n\r\n"
            )
            try? socket.send([UInt8](repeating: UInt8(ascii: " "), count: 10 << 20))
            return try socket.readLine()
        }
        #expect(status?.hasPrefix("HTTP/1.1 413") == true)
        let malformed = try await world.post(Array("{\"order\": {\"id\": 1,".utf8))
        #expect(malformed.status == 400)
        #expect(try Self.object(malformed)["error"] != nil)
        let untyped = try await world.post(
            Self.shopify(id: 5003, sku: world.skus[0]),
            headers: [("Content-Type", "text/plain")]
        )
        #expect(untyped.status == 415)
        let badQuantity = Array(
            String(decoding: Self.shopify(id: 5004, sku: world.skus[0]), as: UTF8.self)
                .replacingOccurrences(of: "\"quantity\": 2", with: "\"quantity\": \"two\"").utf8
        )
        let unmappable = try await world.post(badQuantity)
        #expect(unmappable.status == 422)
        #expect(try Self.object(unmappable)["path"] == .string("order.line_items[0].quantity"))
        #expect(try await world.count("channel_documents") == 0)
        #expect(try await world.count("orders") == 0)
    }

    @Test func anUnmappedSKUIsHeldUntilAnAliasMapsIt() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        let posted = try await world.post(Self.shopify(id: 5005, sku: "SHOP-ONLY-77"))
        #expect(posted.status == 202)
        let answer = try Self.object(posted)
        #expect(answer["holds"] == .array([.string("unmapped_sku")]))
        #expect(answer["unmapped"] == .array([.string("SHOP-ONLY-77")]))
        #expect(try await world.count("orders") == 0)
        // CHANNEL DOCUMENTS shows it waiting.
        let held = try await world.database.read(AdminReads.channelDocuments(world.channel, state: .held, limit: 10))
        #expect(held.count == 1)
        let cells = Dictionary(held.first ?? [], uniquingKeysWith: { first, _ in first })
        #expect(cells["external_id"] == .text("5005") && cells["holds"] == .text("unmapped_sku"))
        #expect(cells["unmapped"] == .text("SHOP-ONLY-77") && cells["order_id"] == .null)

        let retried = try await world.ingest.alias(world.channel, alias: "SHOP-ONLY-77", sku: world.skus[1])
        #expect(retried.count == 1)
        guard case .created(let orderID, _)? = retried.first?.outcome else {
            Issue.record("the held document was not captured: \(retried)")
            return
        }
        let order = try await OrderService(database: world.database, actor: "test").order(orderID)
        #expect(order.lines.map(\.skuCode) == [world.skus[1]])
        let again = try await world.post(Self.shopify(id: 5005, sku: "SHOP-ONLY-77"))
        #expect(again.status == 200)
        #expect(try await world.count("orders") == 1)
        // An alias for a SKU that does not exist is refused.
        await #expect(throws: OrderlyError.self) {
            try await world.ingest.alias(world.channel, alias: "X", sku: "NO-SUCH-SKU")
        }
    }

    @Test func theChannelsChangesReachTheOrder() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        let created = try Self.object(try await world.post(Self.shopify(id: 5006, sku: world.skus[0])))
        let orderID = try #require(
            created["order_id"].flatMap { if case .number(let n) = $0 { Int64(n) } else { nil } }
        )
        let moved = try await world.post(Self.shopify(id: 5006, sku: world.skus[0], address: "Leopoldstraße 9"))
        #expect(moved.status == 200)
        #expect(try Self.object(moved)["changes"] == .array([.string("ship_to")]))
        let orders = OrderService(database: world.database, actor: "test")
        #expect(try await orders.order(orderID).shipTo.line1 == "Leopoldstraße 9")

        let cancelled = try await world.post(Self.shopify(id: 5006, sku: world.skus[0], cancelled: true))
        #expect(cancelled.status == 200)
        #expect(try Self.object(cancelled)["changes"] == .array([.string("cancelled")]))
        #expect(try await orders.order(orderID).status == .cancelled)
        // Cancelled again: nothing more to do.
        #expect(
            try Self.object(try await world.post(Self.shopify(id: 5006, sku: world.skus[0], cancelled: true)))[
                "changes"
            ] == .array([])
        )

        // Cancelled before it was ever captured: recorded, no order.
        let early = try await world.post(Self.shopify(id: 5007, sku: world.skus[0], cancelled: true))
        #expect(early.status == 200)
        #expect(try Self.object(early)["state"] == .string("cancelled"))
        #expect(try await world.count("orders") == 1)
    }

    @Test func bearerChannelsNeedTheirToken() async throws {
        let world = try await World.make(platform: "amazon")
        defer { Task { await world.stop() } }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/channel-fixtures/amazon/orders-2026-01-01-getOrder-200-example.json")
        let body = try #require(FileManager.default.contents(atPath: url.path).map { [UInt8]($0) })
        let json = [("Content-Type", "application/json")]
        #expect(try await world.post(body, headers: json).status == 401)
        #expect(
            try await world.post(body, headers: json + [("Authorization", "Bearer wrong-token-0123456789")]).status
                == 401
        )
        let accepted = try await world.post(body, headers: json + [("Authorization", "Bearer \(Self.token)")])
        // The example's SKU is none of ours: held before capture, nothing guessed.
        #expect(accepted.status == 202)
        #expect(try Self.object(accepted)["holds"].map { "\($0)" }?.contains("unmapped_sku") == true)
        #expect(try await world.count("orders") == 0)
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/channel-fixtures")

    static func fixture(_ path: String) throws -> [UInt8] {
        try #require(
            FileManager.default.contents(atPath: fixtures.appendingPathComponent(path).path).map { [UInt8]($0) }
        )
    }

    /// A published document's capture, field by field: what Orderly stores for Shopify's order
    /// 450789469 (two of its three lines refunded before import, paid then partly refunded).
    @Test func aPublishedShopifyOrderMapsToItsCapture() throws {
        let documents = try ChannelIngest.documents(
            try Self.fixture("shopify/admin-rest-2026-07-order-get-450789469.json"),
            platform: "shopify"
        )
        let order = try ShopifyImporter().importOrder(documents)
        let channel = SalesChannel(rawValue: "shop")!
        let capture = ChannelIngest.newOrder(
            order,
            channel: channel,
            externalID: order.externalID,
            shipTo: try #require(order.shipTo),
            codes: ["IPOD-NANO-RED"]
        )
        #expect(capture.channel == channel && capture.externalID == "450789469" && capture.currency == "USD")
        #expect(capture.lines == [NewOrderLine(skuCode: "IPOD-NANO-RED", quantity: 1, unitPriceMinor: 199_00)])
        #expect(capture.shipTo.line1 == "Chestnut Street 92" && capture.shipTo.postalCode == "40202")
        #expect(capture.billingCountry == "US" && capture.email == "bob.norman@mail.example.com")
        #expect(capture.shippingMinor == 0 && capture.taxMinor == 11_94 && capture.discountMinor == 10_00)
        #expect(
            capture.statedPayment
                == StatedPayment(
                    status: .captured,
                    amountMinor: nil,
                    currency: "USD",
                    provider: "shopify",
                    reference: "450789469"
                )
        )
    }

    /// Every published document maps to a capture whose lines, amounts and payment
    /// are the document's. (eBay publishes no order document, and Amazon's v0 pair prices yen in cents,
    /// which is refused: their hand-made documents are in OrderlyChannelsTests.)
    @Test func everyPublishedDocumentMapsToACapture() throws {
        let bodies: [(String, [UInt8])] = [
            ("shopify", try Self.fixture("shopify/admin-rest-2026-07-order-create-response-custom-lines-no-sku.json")),
            ("magento", try Self.fixture("magento2/adobe-docs-rest-GET-V1-orders-3-response.elisions-removed.json")),
            ("sfcc", try Self.fixture("sfcc/scapi-orders-admin-v1.5.2-getOrder-200-example.json")),
            ("amazon", try Self.fixture("amazon/orders-2026-01-01-getOrder-200-example.json")),
        ]
        for (platform, body) in bodies {
            let order = try #require(ChannelImporters.all[platform]).importOrder(
                try ChannelIngest.documents(body, platform: platform)
            )
            let codes = order.lines.map { $0.sku ?? "ALIAS" }
            let capture = ChannelIngest.newOrder(
                order,
                channel: .marketplace,
                externalID: order.externalID,
                shipTo: order.shipTo ?? PostalAddress(name: "-", line1: "-", city: "-", country: "DE"),
                codes: codes
            )
            #expect(capture.lines.map(\.skuCode) == codes, "\(platform)")
            #expect(capture.lines.map(\.quantity) == order.lines.map(\.quantity), "\(platform)")
            #expect(capture.lines.map(\.unitPriceMinor) == order.lines.map(\.unitPriceMinor), "\(platform)")
            #expect(capture.currency == order.currency.code, "\(platform)")
            #expect(
                [capture.shippingMinor, capture.taxMinor, capture.discountMinor]
                    == [order.shippingMinor, order.taxMinor, order.discountMinor],
                "\(platform)"
            )
            #expect(capture.statedPayment?.status == ChannelIngest.statedStatus(order.payment), "\(platform)")
            #expect(capture.statedPayment?.provider == platform && capture.statedPayment?.amountMinor == nil)
        }
        #expect(
            ChannelIngest.statedStatus(.paid) == .captured && ChannelIngest.statedStatus(.partiallyPaid) == .pending
        )
        #expect(ChannelIngest.statedStatus(.refunded) == .voided && ChannelIngest.statedStatus(.failed) == .failed)
    }

    /// The channel's stock feed: what each of our SKUs was published at, per `stock.updated` message
    /// written since `after` (the notification id).
    static func published(_ world: World, after: Int64 = 0) async throws -> (last: Int64, items: [[String: Int64]]) {
        let rows = try await world.pool.withConnection { connection in
            try connection.query(
                """
                SELECT id, body FROM notifications
                WHERE kind = 'stock_update' AND channel = 'webhook' AND body::jsonb ->> 'channel' = $1 AND id > $2
                ORDER BY id
                """,
                [world.channel.rawValue, after]
            ).map { (try $0.decode(Int64.self, at: 0), try $0.decode(String.self, at: 1)) }
        }
        var messages: [[String: Int64]] = []
        for (_, body) in rows {
            guard case .object(let message) = try JSONValue.parse(body), case .array(let items)? = message["items"]
            else {
                continue
            }
            var ours: [String: Int64] = [:]
            for case .object(let item) in items {
                if case .string(let sku)? = item["sku"], world.skus.contains(sku),
                    case .number(let n)? = item["available"]
                {
                    ours[sku] = Int64(n)
                }
            }
            messages.append(ours)
        }
        return (rows.last?.0 ?? after, messages)
    }

    @Test func theStockFeedPublishesWhatMovedEnoughAndEverythingOnAResync() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        try await world.ingest.connect(
            world.channel,
            platform: "shopify",
            secret: Self.secret,
            token: nil,
            webhookURL: "http://127.0.0.1:9/stock",
            stockFeed: StockFeed(buffer: 2, threshold: 5, minimumChange: 3)
        )
        let (a, b) = (world.skus[0], world.skus[1])
        // Never published: every SKU, 10 on hand less the buffer of 2.
        try await world.ingest.publishStock(world.channel)
        var feed = try await Self.published(world)
        #expect(feed.items.reduce(into: [:]) { $0.merge($1) { x, _ in x } } == [a: 8, b: 8])
        // 2 reserved: 6, a move of 2 < 3 and still above the threshold: not published.
        #expect(try await world.post(Self.shopify(id: 6001, sku: a, quantity: 2)).status == 201)
        try await world.ingest.publishStock(world.channel)
        feed = try await Self.published(world, after: feed.last)
        #expect(feed.items.allSatisfy { $0[a] == nil && $0[b] == nil })
        // 1 more: 5, at the threshold of 5: published.
        #expect(try await world.post(Self.shopify(id: 6002, sku: a, quantity: 1)).status == 201)
        try await world.ingest.publishStock(world.channel)
        feed = try await Self.published(world, after: feed.last)
        #expect(feed.items.compactMap { $0[a] } == [5] && feed.items.allSatisfy { $0[b] == nil })
        // A resync tells everything.
        try await world.ingest.publishStock(world.channel, full: true)
        feed = try await Self.published(world, after: feed.last)
        #expect(feed.items.reduce(into: [:]) { $0.merge($1) { x, _ in x } } == [a: 5, b: 8])
        // Each message is a webhook notification with its job (the worker sends it).
        let jobs = try await world.pool.withConnection { connection in
            try connection.query(
                """
                SELECT count(*) FROM notifications n JOIN jobs j ON j.unique_key = 'notify:' || n.id
                WHERE n.kind = 'stock_update' AND n.body::jsonb ->> 'channel' = $1
                """,
                [world.channel.rawValue]
            ).scalar(Int64.self)
        }
        #expect(jobs >= 3)
        // Nothing to resync for a channel without a webhook.
        await #expect(throws: OrderlyError.self) {
            try await world.ingest.connect(
                world.channel,
                platform: "shopify",
                secret: Self.secret,
                token: nil,
                webhookURL: nil
            )
            try await world.ingest.publishStock(world.channel, full: true)
        }
    }

    /// `orderly import` as a person runs it: the built binary, a file of documents, the summary, exit 1
    /// when one is refused (named by its line and field), and a second run that replays.
    @Test func orderlyImportSummarizesAndFailsOnARefusal() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-import-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let good = String(decoding: Self.shopify(id: 7001, sku: world.skus[0]), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ")
        let unmapped = String(decoding: Self.shopify(id: 7002, sku: "THEIRS-1"), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ")
        let bad = good.replacingOccurrences(of: "7001", with: "7003").replacingOccurrences(
            of: "\"12.50\"",
            with: "\"12.505\""
        )
        try [good, unmapped, "", bad].joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("orderly")
        let conninfo = try TestDatabase.require().conninfo
        let command = [
            binary.path, "import", "--database-url", conninfo, "--channel", world.channel.rawValue, file.path,
        ]
        let first = try await onThread { try ChildProcess.run(command) }
        #expect(first.status == 1, "\(first.output)")
        #expect(
            first.output.contains(
                "created 1, replayed 0, held (unmapped_sku 1), cancelled before capture 0, refused 1"
            ),
            "\(first.output)"
        )
        #expect(first.output.contains("line 4: refused: order.line_items[0].price:"), "\(first.output)")
        try good.write(to: file, atomically: true, encoding: .utf8)
        let second = try await onThread { try ChildProcess.run(command) }
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("created 0, replayed 1, held 0"), "\(second.output)")
        #expect(try await world.count("orders") == 1)
    }

    @Test func connectionsAreChecked() async throws {
        let world = try await World.make()
        defer { Task { await world.stop() } }
        let ingest = world.ingest
        await #expect(throws: OrderlyError.self) {
            try await ingest.connect(world.channel, platform: "woo", secret: Self.secret, token: nil, webhookURL: nil)
        }
        await #expect(throws: OrderlyError.self) {
            try await ingest.connect(
                world.channel,
                platform: "shopify",
                secret: nil,
                token: Self.token,
                webhookURL: nil
            )
        }
        await #expect(throws: OrderlyError.self) {
            try await ingest.connect(world.channel, platform: "ebay", secret: nil, token: "short", webhookURL: nil)
        }
        await #expect(throws: OrderlyError.self) {
            try await ingest.connect(
                world.channel,
                platform: "ebay",
                secret: nil,
                token: Self.token,
                webhookURL: "ftp://x"
            )
        }
        await #expect(throws: OrderlyError.self) {
            try await ingest.connect(
                SalesChannel(rawValue: "no_such_channel")!,
                platform: "ebay",
                secret: nil,
                token: Self.token,
                webhookURL: nil
            )
        }
        // Still connected as before.
        #expect(try await ingest.connection(world.channel)?.platform == "shopify")
    }
}

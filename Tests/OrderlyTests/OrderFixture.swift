import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport

/// Three German warehouses (north to south), two SKUs, and a way to build orders: all with a tag of
/// the test's own, so tests sharing a database never see each other's rows.
struct OrderFixture {
    let pool: PostgresPool
    let database: OrderlyDatabase
    let orders: OrderService
    var payments: PaymentService { PaymentService(database: database, actor: "test", components: orders.components) }
    let inventory: InventoryService
    let tag: String
    /// Hamburg-ish, Kassel-ish, Munich-ish.
    let warehouses: [Int64]
    let skus: [Int64]
    var skuCodes: [String] { (0..<skus.count).map { "SKU\($0)-\(tag)" } }

    static func make(
        _ pool: PostgresPool,
        policy: OrderPolicy = .standard,
        stock: [[Int64]] = [[10, 10], [10, 10], [10, 10]],
        gateway: any PaymentGateway = RecordingGateway()
    ) async throws -> OrderFixture {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
        let latitudes = [53.55, 51.31, 48.14]
        let (warehouses, skus) = try await pool.transaction { connection in
            let warehouses = try latitudes.enumerated().map { index, latitude in
                try CatalogBuilders.warehouse(connection, code: "W\(index)-\(tag)", latitude: latitude)
            }
            let skus = try (0..<stock[0].count).map { try CatalogBuilders.sku(connection, code: "SKU\($0)-\(tag)") }
            return (warehouses, skus)
        }
        let database = OrderlyDatabase(pool: pool)
        let inventory = InventoryService(database: database, actor: "test")
        for (w, row) in stock.enumerated() {
            for (s, units) in row.enumerated() where units > 0 {
                try await inventory.receive(warehouse: warehouses[w], sku: skus[s], quantity: units)
            }
        }
        return OrderFixture(
            pool: pool,
            database: database,
            orders: OrderService(
                database: database,
                actor: "test",
                components: {
                    var components = OrderlyComponents.standard
                    components.policy = policy
                    components.gateway = gateway
                    return components
                }()
            ),
            inventory: inventory,
            tag: tag,
            warehouses: warehouses,
            skus: skus
        )
    }

    /// A paid web order to Munich (or wherever `location` says).
    func newOrder(
        _ id: String,
        channel: SalesChannel = .web,
        lines: [(sku: Int, quantity: Int64)] = [(0, 1)],
        token: String? = "tok_authorized",
        location: GeoPoint = GeoPoint(latitude: 48.2, longitude: 11.6),
        edit: (inout NewOrder) -> Void = { _ in }
    ) -> NewOrder {
        var order = NewOrder(
            channel: channel,
            externalID: "\(id)-\(tag)",
            currency: "EUR",
            lines: lines.map { NewOrderLine(skuCode: skuCodes[$0.sku], quantity: $0.quantity, unitPriceMinor: 1_999) },
            shipTo: PostalAddress(
                name: "Ada Lovelace",
                line1: "Leopoldstr. 1",
                city: "München",
                postalCode: "80802",
                country: "DE",
                location: location
            ),
            email: "ada@example.com",
            shippingMinor: 490,
            payment: token.map { PaymentDetails(method: "card", token: $0) }
        )
        edit(&order)
        return order
    }

    func stock(_ warehouse: Int, _ sku: Int) async throws -> (onHand: Int64, reserved: Int64) {
        let rows = try await pool.query(
            "SELECT on_hand, reserved FROM inventory WHERE warehouse_id = $1 AND sku_id = $2",
            [warehouses[warehouse], skus[sku]]
        )
        return (try rows[0].decode(Int64.self, at: 0), try rows[0].decode(Int64.self, at: 1))
    }

    func count(_ sql: String, _ bindings: [any PostgresEncodable]) async throws -> Int64 {
        try await pool.query(sql, bindings).scalar(Int64.self)
    }

    /// A channel of the test's own (`<name>_<tag>`), created as a copy of `kind`'s channel with
    /// `settings` applied: tests that change a policy change their own channel, never a shared one.
    func channel(
        _ name: String,
        kind: ChannelKind = .web,
        components: OrderlyComponents? = nil,
        _ edit: (inout ChannelSettings) -> Void = { _ in }
    ) async throws -> SalesChannel {
        guard let channel = SalesChannel(rawValue: "\(name)_\(tag.lowercased())") else {
            throw OrderlyError(.badArgument, "not a channel name: \(name)")
        }
        var settings = ChannelSettings()
        settings.kind = kind
        edit(&settings)
        _ = try await ChannelService(database: database, actor: "test", components: components ?? orders.components)
            .set(channel, settings)
        return channel
    }

    /// The order's status moves, by event name (facts such as payments left out).
    func eventNames(_ order: Int64) async throws -> [String] {
        try await moves(order).map(\.event)
    }

    func moves(_ order: Int64) async throws -> [OrderEventRecord] {
        try await orders.events(order).filter { OrderFact(rawValue: $0.event) == nil }
    }
}

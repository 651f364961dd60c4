import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

/// Channel policies as rows: created from their kind, changed with an audit row, refused with nothing
/// changed, and read by the next order. Each test changes channels of its own.
@Suite(.migratedDatabase)
struct ChannelServiceTests {
    /// SKU 0 in stock, SKU 1 in none: an order of SKU 1 is short whatever ran before it.
    func fixture() async throws -> OrderFixture {
        try await OrderFixture.make(
            TestDatabase.require().makePool(PostgresPoolOptions(maxConnections: 4)),
            stock: [[10, 0], [10, 0], [10, 0]]
        )
    }

    func shown(_ f: OrderFixture, _ channel: SalesChannel) async throws -> (ChannelRecord, Int) {
        let (record, changes) = try await f.database.read(AdminReads.channel(channel, changes: 1000))
        return (record, changes.count)
    }

    @Test func aNewChannelStartsAsItsKindsChannelAndEveryChangeIsAudited() async throws {
        let f = try await fixture()
        let zalando = try await f.channel("zal", kind: .marketplace)
        let (record, changes) = try await shown(f, zalando)
        let (marketplace, _) = try await f.database.read(AdminReads.channel(.marketplace, changes: 1))
        var expected = marketplace.policy
        expected.channel = zalando
        #expect(record.policy == expected)
        #expect(record.updatedBy == "test" && changes == 1)

        let service = ChannelService(database: f.database, actor: "admin:ops")
        var settings = ChannelSettings()
        settings.onShortage = .backorder
        settings.highValueMinor = ["EUR": 50_000]
        let change = try await service.set(zalando, settings)
        #expect(!change.created && change.changed == ["on_shortage", "high_value"])
        let (after, count) = try await shown(f, zalando)
        #expect(after.policy.onShortage == .backorder && after.policy.holdLimits.highValueMinor == ["EUR": 50_000])
        #expect(after.updatedBy == "admin:ops" && count == 2)
        let audit = try await f.pool.query(
            """
            SELECT actor, before ->> 'on_shortage', after ->> 'on_shortage', after -> 'high_value_limits' ->> 'EUR'
            FROM channel_policy_changes WHERE channel = $1 ORDER BY id DESC LIMIT 1
            """,
            [zalando.rawValue]
        )
        #expect(
            try audit[0].decode((String, String, String, String).self) == ("admin:ops", "reject", "backorder", "50000")
        )
        // The history names what changed.
        let (_, history) = try await f.database.read(AdminReads.channel(zalando, changes: 1))
        let changed = history.first?.first { $0.0 == "changed" }?.1
        #expect(
            changed == .text("high_value_limits={\"EUR\": 50000} on_shortage=\"backorder\""),
            "\(String(describing: changed))"
        )
    }

    @Test func badSettingsAreRefusedAndChangeNothing() async throws {
        let f = try await fixture()
        let shop = try await f.channel("shop")
        let before = try await shown(f, shop)
        let service = ChannelService(database: f.database, actor: "test")
        func refused(_ code: OrderlyError.Code, _ edit: (inout ChannelSettings) -> Void) async throws -> String {
            var settings = ChannelSettings()
            edit(&settings)
            let settled = settings
            do {
                let change = try await service.set(shop, settled)
                Issue.record("refused nothing: \(change)")
                return ""
            } catch let error as OrderlyError {
                #expect(error.code == code, "\(error)")
                return error.message
            }
        }
        #expect(try await refused(.badArgument) { $0.routing = "fastest>split" }.contains("fastest"))
        #expect(try await refused(.badArgument) { $0.routing = "nearest>" }.hasPrefix("routing:"))
        #expect(try await refused(.badArgument) { $0.highValueMinor = ["XAU": 5] }.contains("XAU"))
        #expect(try await refused(.badArgument) { $0.kind = .pos }.contains("cannot change"))
        #expect(try await refused(.badArgument) { _ in }.contains("nothing to set"))
        #expect(try await refused(.badArgument) { $0.kind = .web }.contains("nothing to set"))
        let after = try await shown(f, shop)
        #expect(after.0 == before.0 && after.1 == before.1)
        // A channel that does not exist needs its kind to be created; nothing is created without it.
        var settings = ChannelSettings()
        settings.active = false
        let missing = SalesChannel(rawValue: "nope_\(f.tag.lowercased())")!
        let error = try await #require(throws: OrderlyError.self) { try await service.set(missing, settings) }
        #expect(error.code == .notFound && error.message.contains("kind="), "\(error)")
        await #expect(throws: OrderlyError.self) { try await f.database.read(AdminReads.channel(missing, changes: 1)) }
    }

    @Test func theNextOrderFollowsAChangedPolicy() async throws {
        let f = try await fixture()
        let shop = try await f.channel("next")
        let service = ChannelService(database: f.database, actor: "test")
        // Backordered while the channel backorders; cancelled once it rejects.
        let first = try await f.orders.place(f.newOrder("short1", channel: shop, lines: [(1, 1)]))
        #expect(first.status == .backordered)
        var reject = ChannelSettings()
        reject.onShortage = .reject
        _ = try await service.set(shop, reject)
        let second = try await f.orders.place(f.newOrder("short2", channel: shop, lines: [(1, 1)]))
        #expect(second.status == .cancelled)

        // Payment states: a pending order is refused, nothing stored; an authorized one is placed.
        var paid = ChannelSettings()
        paid.paymentStates = [.authorized, .captured]
        _ = try await service.set(shop, paid)
        let unpaid = try await #require(throws: OrderlyError.self) {
            try await f.orders.place(f.newOrder("unpaid", channel: shop, token: nil))
        }
        #expect(unpaid.code == .badArgument && unpaid.message.contains("pending"), "\(unpaid)")
        let stored = try await f.count(
            "SELECT count(*) FROM orders WHERE channel = $1 AND external_id = $2",
            [shop.rawValue, "unpaid-\(f.tag)"]
        )
        #expect(stored == 0)
        let placed = try await f.orders.place(f.newOrder("paid", channel: shop))
        #expect(placed.status == .reserved)

        // A risk limit of the channel's own holds what another channel lets through.
        var strict = ChannelSettings()
        strict.riskScoreLimit = 30
        _ = try await service.set(shop, strict)
        let risky = try await f.orders.place(f.newOrder("risky", channel: shop) { $0.riskScore = 40 })
        #expect(risky.status == .onHold && risky.holdReason == .highRisk)
        #expect(try await f.orders.place(f.newOrder("risky-web") { $0.riskScore = 40 }).status == .reserved)

        // Inactive: new orders refused; the order captured before is still its replay.
        var off = ChannelSettings()
        off.active = false
        _ = try await service.set(shop, off)
        let closed = try await #require(throws: OrderlyError.self) {
            try await f.orders.place(f.newOrder("late", channel: shop))
        }
        #expect(closed.message.contains("not active"), "\(closed)")
        let replay = try await f.orders.place(f.newOrder("paid", channel: shop))
        #expect(replay.replayed && replay.orderID == placed.orderID)
    }

    @Test func twoMarketplacesDecideByTheirOwnRows() async throws {
        let f = try await fixture()
        let strict = try await f.channel("mka", kind: .marketplace)
        let lenient = try await f.channel("mkb", kind: .marketplace) {
            $0.onShortage = .backorder
            $0.unpaidReservationSeconds = 600
        }
        let a = try await f.orders.place(f.newOrder("m", channel: strict, lines: [(1, 1)]))
        let b = try await f.orders.place(f.newOrder("m", channel: lenient, lines: [(1, 1)]))
        #expect(a.status == .cancelled && b.status == .backordered)
        // Unpaid: held on the one that reserves nothing for unpaid orders, reserved (expiring) on the other.
        let heldUnpaid = try await f.orders.place(f.newOrder("u", channel: strict, token: nil))
        #expect(heldUnpaid.status == .onHold && heldUnpaid.holdReason == .paymentPending)
        let reservedUnpaid = try await f.orders.place(f.newOrder("u", channel: lenient, token: nil))
        #expect(reservedUnpaid.status == .reserved)
        let expiring = try await f.count(
            "SELECT count(*) FROM reservations WHERE order_id = $1 AND expires_at IS NOT NULL",
            [reservedUnpaid.orderID]
        )
        #expect(expiring > 0)
        // An order on a channel that does not exist is refused, naming it.
        let unknown = try await #require(throws: OrderlyError.self) {
            try await f.orders.place(f.newOrder("x", channel: SalesChannel(rawValue: "nowhere")!))
        }
        #expect(unknown.code == .badArgument && unknown.message.contains("nowhere"), "\(unknown)")
    }
}

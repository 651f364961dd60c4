import LibPQ
import Orderly
import OrderlyCore
import OrderlyRouting
import OrderlyTestSupport
import Testing

/// Always the northernmost warehouse holding everything: a strategy of a library user's own.
private struct NorthernmostStrategy: RoutingStrategy {
    let name = "northernmost"
    func plan(_ input: RoutingInput) -> RoutingPlan? {
        let able = input.warehouses.filter { warehouse in
            input.lines.allSatisfy { (input.available[warehouse.id]?[$0.skuID] ?? 0) >= $0.quantity }
        }
        guard let north = able.max(by: { $0.location.latitude < $1.location.latitude }) else { return nil }
        return input.wholeOrderPlan(from: north, strategy: name, rule: "northernmost")
    }
}

/// Holds orders whose e-mail is at a given domain: a hold rule of a library user's own.
private struct DomainRule: HoldRule {
    let name = "domain_watch"
    let domain: String
    func evaluate(_ context: HoldContext) -> HoldFinding? {
        guard context.email?.hasSuffix("@" + domain) == true else { return nil }
        return HoldFinding(rule: name, reason: .highRisk, detail: "watched domain \(domain)")
    }
}

@Suite struct CompositionRootTests {
    @Test func strategiesRulesAndCarriersAreRegisteredOnceByName() throws {
        var components = OrderlyComponents.standard
        try components.register(NorthernmostStrategy())
        #expect(throws: RegistrationError.self) { try components.register(NorthernmostStrategy()) }
        #expect(throws: RegistrationError.self) { try components.register(holdRule: PaymentRule()) }
        // No carrier registered means the rate table; registering one (twice is refused) replaces it.
        try components.register(carrier: RateTableCarrier(rates: []))
        #expect(throws: RegistrationError.self) { try components.register(carrier: RateTableCarrier(rates: [])) }
        #expect(components.routing.names == ["cheapest", "nearest", "northernmost", "priority", "split"])
        #expect(try components.routing.strategy(named: "northernmost>split").name == "northernmost>split")
        #expect(throws: RegistrationError.self) { try components.holdPolicy(["payment", "nope"]) }
        try components.register(holdRule: DomainRule(domain: "example.org"))
        #expect(
            try components.holdPolicy(["domain_watch", "payment"]).rules.map(\.name) == ["domain_watch", "payment"]
        )
    }
}

@Suite(.migratedDatabase)
struct CompositionTests {
    @Test func aRegisteredStrategyAndRuleDecideRealOrders() async throws {
        let pool = try TestDatabase.require().makePool()
        defer { Task { await pool.close() } }
        let fixture = try await OrderFixture.make(pool)
        var components = OrderlyComponents.standard
        try components.register(NorthernmostStrategy())
        try components.register(holdRule: DomainRule(domain: "watched.example"))
        components.policy.holds = try components.holdPolicy(["domain_watch"] + HoldPolicy.standard.rules.map(\.name))
        // A process without the strategy refuses to set it; one with it may, and says nothing of it
        // when it starts; the standard process would warn about the channel.
        await #expect(throws: OrderlyError.self) {
            try await fixture.channel("north") { $0.routing = "northernmost" }
        }
        let north = try await fixture.channel("north", components: components) { $0.routing = "northernmost" }
        let unroutable = try await ChannelService(database: fixture.database, actor: "test").unroutable()
        #expect(unroutable.map(\.channel) == [north])
        #expect(unroutable.first?.error.name == "northernmost")
        #expect(
            try await ChannelService(database: fixture.database, actor: "test", components: components).unroutable()
                .isEmpty
        )
        let orders = OrderService(database: fixture.database, actor: "test", components: components)

        // Munich is nearest to the customer, but the channel routes north: Hamburg ships.
        let placed = try await orders.place(fixture.newOrder("north", channel: north))
        #expect(placed.status == .reserved)
        #expect(placed.plan?.strategy == "northernmost")
        #expect(placed.plan?.shipments.map(\.warehouseID) == [fixture.warehouses[0]])

        let held = try await orders.place(fixture.newOrder("watched") { $0.email = "eve@watched.example" })
        #expect(held.status == .onHold)
        #expect(held.holdFindings.first?.rule == "domain_watch")
    }
}

public import OrderlyCore
public import OrderlyRouting

/// The composition root: what a process decides once, at start-up, and hands to every service — the
/// order policy (currencies, hold rules), the routing strategies channels select by name,
/// the hold rules a policy may name, the carriers asked for quotes and the payment verifier. Nothing
/// below the services reads a `static` default; a library user registers a strategy, rule or carrier
/// of their own here and selects it by name (a channel's routing in `channel_policies` names it).
///
///     var components = OrderlyComponents.standard
///     try components.register(SameDayStrategy())          // routing "same_day>split"
///     try components.register(holdRule: VelocityRule())
///     components.policy.holds = try components.holdPolicy(["payment", "velocity", "high_value"])
public struct OrderlyComponents: Sendable {
    public var policy: OrderPolicy
    public private(set) var routing: RoutingRegistry
    public private(set) var holdRules: [String: any HoldRule]
    /// Carriers asked for label quotes, by name. None registered: the built-in rate-table carrier,
    /// over the `shipping_rates` rows.
    public private(set) var carriers: [String: any Carrier]
    public var payments: any PaymentVerifier
    /// The provider captures at shipment, voids and refunds go through. The recording gateway grants
    /// every request and leaves an instruction in the outbox for the business's own payment system.
    public var gateway: any PaymentGateway = RecordingGateway()
    /// How long a gateway request may go unanswered before it counts as failed (and is retried).
    public var gatewayTimeoutSeconds: Double = 30
    /// Where the services' counters and timers go (`OrderlyMetrics`); the process's `MetricsSystem` by
    /// default.
    public var metrics = OrderlyMetrics()

    public init(
        policy: OrderPolicy,
        routing: RoutingRegistry,
        holdRules: [any HoldRule],
        carriers: [any Carrier] = [],
        payments: any PaymentVerifier
    ) {
        self.policy = policy
        self.routing = routing
        self.holdRules = Dictionary(holdRules.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.carriers = Dictionary(carriers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.payments = payments
    }

    /// Orderly's own: `OrderPolicy.standard`, the four routing strategies, the standard hold rules,
    /// the rate-table carrier and the test-token payment verifier.
    public static var standard: OrderlyComponents {
        OrderlyComponents(
            policy: .standard,
            routing: .standard,
            holdRules: HoldPolicy.standard.rules,
            payments: BuiltinPaymentVerifier()
        )
    }

    public mutating func register(_ strategy: any RoutingStrategy) throws(RegistrationError) {
        try routing.register(strategy)
    }

    public mutating func register(holdRule rule: any HoldRule) throws(RegistrationError) {
        guard holdRules[rule.name] == nil else {
            throw RegistrationError("a hold rule named '\(rule.name)' is registered already")
        }
        holdRules[rule.name] = rule
    }

    public mutating func register(carrier: any Carrier) throws(RegistrationError) {
        guard carriers[carrier.name] == nil else {
            throw RegistrationError("a carrier named '\(carrier.name)' is registered already")
        }
        carriers[carrier.name] = carrier
    }

    /// A hold policy of registered rules, in precedence order (the first finding names the reason).
    public func holdPolicy(_ names: [String]) throws(RegistrationError) -> HoldPolicy {
        var rules: [any HoldRule] = []
        for name in names {
            guard let rule = holdRules[name] else {
                throw RegistrationError(
                    "unknown hold rule '\(name)' (known: \(holdRules.keys.sorted().joined(separator: ", ")))"
                )
            }
            rules.append(rule)
        }
        return HoldPolicy(rules: rules)
    }

    /// The carriers the label step asks, in name order; nil for the rate table.
    var labelCarriers: [any Carrier]? {
        carriers.isEmpty ? nil : carriers.keys.sorted().compactMap { carriers[$0] }
    }
}

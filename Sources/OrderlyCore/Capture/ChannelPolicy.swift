/// What a channel does when not every unit can be reserved.
public enum ShortagePolicy: String, Sendable, Hashable, CaseIterable {
    /// Reserve what there is; the rest waits as a backorder (the order shows it).
    case backorder
    /// Reserve nothing; the order is cancelled at once with the shortage as its reason.
    case reject
}

/// The thresholds of the value and fraud hold rules, per channel.
public struct HoldLimits: Hashable, Sendable {
    /// Currency code → minor units: an order at or over it is held (high_value). A currency not
    /// listed has no limit.
    public var highValueMinor: [String: Int64]
    /// A fraud score at or over it holds the order (high_risk); 101 never does.
    public var riskScore: Int

    public init(highValueMinor: [String: Int64] = [:], riskScore: Int = 80) {
        self.highValueMinor = highValueMinor
        self.riskScore = riskScore
    }

    /// `USD:1000000,EUR:900000` (or `none`) as `CHANNEL SET high_value=` gives it.
    public static func parseHighValue(_ text: String) throws(OrderlyError) -> [String: Int64] {
        guard text != "none" else { return [:] }
        var limits: [String: Int64] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2, let currency = CurrencyCode(String(fields[0])),
                fields[1].utf8.allSatisfy({ (48...57).contains($0) }), let minor = Int64(fields[1]), minor > 0
            else {
                throw OrderlyError(
                    .badArgument,
                    "high_value: '\(part)' is not CURRENCY:MINOR_UNITS (e.g. USD:1000000), or none"
                )
            }
            guard limits.updateValue(minor, forKey: currency.code) == nil else {
                throw OrderlyError(.badArgument, "high_value: \(currency) is given twice")
            }
        }
        return limits
    }

    /// The limits as `CHANNEL SHOW` prints them, by currency: `EUR:1000000,USD:1000000`.
    public var highValueText: String {
        highValueMinor.isEmpty
            ? "none" : highValueMinor.sorted { $0.key < $1.key }.map { "\($0):\($1)" }.joined(separator: ",")
    }
}

/// How orders from one channel are captured, routed, reserved, held and labelled: a row of
/// `channel_policies`, read in the transaction that acts on it.
public struct ChannelPolicy: Hashable, Sendable {
    public var channel: SalesChannel
    public var kind: ChannelKind
    /// An inactive channel captures no new orders.
    public var active: Bool
    /// A strategy name or chain for the routing registry, e.g. `nearest>split`.
    public var routing: String
    public var onShortage: ShortagePolicy
    /// How long stock stays reserved for an order whose payment is still pending; nil holds unpaid
    /// orders instead (`payment_pending`) and reserves nothing for them.
    public var unpaidReservationSeconds: Int64?
    /// How the label step chooses among carriers' quotes for this channel's parcels.
    public var carrierRule: CarrierRule
    public var holdLimits: HoldLimits
    /// The payment states an order may be captured in (stated by the storefront or the verifier's
    /// verdict); any other is refused at capture.
    public var paymentStates: Set<PaymentStatus>
    /// The priority of its orders when capture names none.
    public var priority: OrderPriority
    /// A short order this channel would reject is accepted as a backorder when what it lacks is
    /// expected (`STOCK EXPECT`) beyond what orders ahead of it wait for.
    public var promiseInbound: Bool
    /// What a claim on one of its parcels (lost, damaged, returned to sender) does by itself.
    public var claimAction: ClaimAction
    /// Days after delivery (or shipment, while not delivered) a return may be opened.
    public var returnWindowDays: Int
    /// Kept of a refunded return's goods, in percent.
    public var restockingFeePercent: Int
    /// Whether a return's refund includes the goods' share of shipping.
    public var refundShipping: Bool
    /// A return may keep items (refund without return) when each line's value is at most this many
    /// of the order's minor units; 0: never.
    public var keepItemLimitMinor: Int64

    /// What a channel's `payment_states` may name.
    public static let capturablePaymentStates: Set<PaymentStatus> = [.pending, .authorized, .captured, .failed]

    public init(
        channel: SalesChannel = .web,
        kind: ChannelKind = .web,
        active: Bool = true,
        routing: String,
        onShortage: ShortagePolicy,
        unpaidReservationSeconds: Int64?,
        carrierRule: CarrierRule = .cheapest,
        holdLimits: HoldLimits = HoldLimits(),
        paymentStates: Set<PaymentStatus> = ChannelPolicy.capturablePaymentStates,
        priority: OrderPriority = .normal,
        promiseInbound: Bool = false,
        claimAction: ClaimAction = .none,
        returnWindowDays: Int = 30,
        restockingFeePercent: Int = 0,
        refundShipping: Bool = false,
        keepItemLimitMinor: Int64 = 0
    ) {
        self.channel = channel
        self.kind = kind
        self.active = active
        self.routing = routing
        self.onShortage = onShortage
        self.unpaidReservationSeconds = unpaidReservationSeconds
        self.carrierRule = carrierRule
        self.holdLimits = holdLimits
        self.paymentStates = paymentStates
        self.priority = priority
        self.promiseInbound = promiseInbound
        self.claimAction = claimAction
        self.returnWindowDays = returnWindowDays
        self.restockingFeePercent = restockingFeePercent
        self.refundShipping = refundShipping
        self.keepItemLimitMinor = keepItemLimitMinor
    }

    /// May an order be captured on this channel with this payment verdict? BAD_ARG saying why not.
    public func admits(_ payment: PaymentStatus) throws(OrderlyError) {
        guard active else {
            throw OrderlyError(
                .badArgument,
                "channel \(channel) is not active (CHANNEL SET channel=\(channel) active=true)"
            )
        }
        guard paymentStates.contains(payment) else {
            throw OrderlyError(
                .badArgument,
                "channel \(channel) does not capture orders whose payment is \(payment.rawValue) "
                    + "(it allows: \(paymentStates.map(\.rawValue).sorted().joined(separator: ", ")))"
            )
        }
    }
}

/// What `CHANNEL SET` changes: each field given replaces the policy's, the rest stay.
public struct ChannelSettings: Hashable, Sendable {
    public var kind: ChannelKind?
    public var active: Bool?
    public var routing: String?
    public var onShortage: ShortagePolicy?
    /// Seconds; 0 holds unpaid orders instead of reserving for them.
    public var unpaidReservationSeconds: Int64?
    public var carrierRule: CarrierRule?
    public var highValueMinor: [String: Int64]?
    public var riskScoreLimit: Int?
    public var paymentStates: Set<PaymentStatus>?
    public var priority: OrderPriority?
    public var promiseInbound: Bool?
    public var claimAction: ClaimAction?
    public var returnWindowDays: Int?
    public var restockingFeePercent: Int?
    public var refundShipping: Bool?
    public var keepItemLimitMinor: Int64?

    public init() {}

    /// Nothing to change besides, perhaps, the kind a new channel is created as.
    public var changesNothing: Bool {
        active == nil && routing == nil && onShortage == nil && unpaidReservationSeconds == nil && carrierRule == nil
            && highValueMinor == nil && riskScoreLimit == nil && paymentStates == nil && priority == nil
            && promiseInbound == nil && claimAction == nil && returnWindowDays == nil && restockingFeePercent == nil
            && refundShipping == nil && keepItemLimitMinor == nil
    }

    /// `pending,authorized,…` as `CHANNEL SET payment_states=` gives it.
    public static func parsePaymentStates(_ text: String) throws(OrderlyError) -> Set<PaymentStatus> {
        var states = Set<PaymentStatus>()
        for word in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let state = PaymentStatus(rawValue: String(word)),
                ChannelPolicy.capturablePaymentStates.contains(state)
            else {
                let allowed = ChannelPolicy.capturablePaymentStates.map(\.rawValue).sorted().joined(separator: ", ")
                throw OrderlyError(.badArgument, "payment_states: '\(word)' is not one of \(allowed)")
            }
            states.insert(state)
        }
        return states
    }

    /// The policy with these settings applied.
    public func applied(to policy: ChannelPolicy) -> ChannelPolicy {
        var changed = policy
        if let kind { changed.kind = kind }
        if let active { changed.active = active }
        if let routing { changed.routing = routing }
        if let onShortage { changed.onShortage = onShortage }
        if let seconds = unpaidReservationSeconds { changed.unpaidReservationSeconds = seconds == 0 ? nil : seconds }
        if let carrierRule { changed.carrierRule = carrierRule }
        if let highValueMinor { changed.holdLimits.highValueMinor = highValueMinor }
        if let riskScoreLimit { changed.holdLimits.riskScore = riskScoreLimit }
        if let paymentStates { changed.paymentStates = paymentStates }
        if let priority { changed.priority = priority }
        if let promiseInbound { changed.promiseInbound = promiseInbound }
        if let claimAction { changed.claimAction = claimAction }
        if let returnWindowDays { changed.returnWindowDays = returnWindowDays }
        if let restockingFeePercent { changed.restockingFeePercent = restockingFeePercent }
        if let refundShipping { changed.refundShipping = refundShipping }
        if let keepItemLimitMinor { changed.keepItemLimitMinor = keepItemLimitMinor }
        return changed
    }
}

/// Everything capture and reservation decide by besides the channel's policy: currencies and the
/// hold rules in force.
public struct OrderPolicy: Sendable {
    public var validator: OrderValidator
    public var holds: HoldPolicy
    /// Attempts of the reservation transaction (serialization failures, deadlocks, a plan gone stale).
    public var reservationAttempts = 6

    public init(validator: OrderValidator, holds: HoldPolicy) {
        self.validator = validator
        self.holds = holds
    }

    /// The eight currencies Orderly prices in and the standard hold rules. Each channel's own policy
    /// (routing, shortage, unpaid lifetime, carriers, hold limits) is a row of `channel_policies`.
    public static let standard = OrderPolicy(
        validator: OrderValidator(supportedCurrencies: ["USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK"]),
        holds: .standard
    )
}

/// A channel's policy as stored, with who changed it last and when.
public struct ChannelRecord: Hashable, Sendable {
    public var policy: ChannelPolicy
    public var updatedBy: String
    /// As the database prints a timestamptz.
    public var updatedAt: String

    public init(policy: ChannelPolicy, updatedBy: String, updatedAt: String) {
        self.policy = policy
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }
}

/// How urgently an order is fulfilled, most urgent first: its fulfillment jobs (pick, pack, label,
/// capture, ship, reroute) are claimed in this order (`orderly_job_priority` in sql/migrations/0012
/// maps it to `jobs.priority`: 10, 50, 100, 150), so its parcels move before those of less urgent
/// orders waiting in the same queue.
public enum OrderPriority: String, CaseIterable, Sendable, Hashable {
    case urgent, high, normal, low
}

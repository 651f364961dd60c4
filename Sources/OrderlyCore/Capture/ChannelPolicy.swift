/// What a channel does when not every unit can be reserved.
public enum ShortagePolicy: String, Sendable, Hashable, CaseIterable {
    /// Reserve what there is; the rest waits as a backorder (the order shows it).
    case backorder
    /// Reserve nothing; the order is cancelled at once with the shortage as its reason.
    case reject
}

/// How orders from one channel are routed and reserved.
public struct ChannelPolicy: Hashable, Sendable {
    /// A strategy name or chain for the routing registry, e.g. `nearest>split`.
    public var routing: String
    public var onShortage: ShortagePolicy
    /// How long stock stays reserved for an order whose payment is still pending; nil holds unpaid
    /// orders instead (`payment_pending`) and reserves nothing for them.
    public var unpaidReservationSeconds: Int64?
    /// How the label step chooses among carriers' quotes for this channel's parcels.
    public var carrierRule: CarrierRule

    public init(
        routing: String,
        onShortage: ShortagePolicy,
        unpaidReservationSeconds: Int64?,
        carrierRule: CarrierRule = .cheapest
    ) {
        self.routing = routing
        self.onShortage = onShortage
        self.unpaidReservationSeconds = unpaidReservationSeconds
        self.carrierRule = carrierRule
    }
}

/// Everything capture and reservation decide by: channels, currencies and hold rules.
public struct OrderPolicy: Sendable {
    public var channels: [SalesChannel: ChannelPolicy]
    public var validator: OrderValidator
    public var holds: HoldPolicy
    /// Attempts of the reservation transaction (serialization failures, deadlocks, a plan gone stale).
    public var reservationAttempts = 6

    public init(channels: [SalesChannel: ChannelPolicy], validator: OrderValidator, holds: HoldPolicy) {
        self.channels = channels
        self.validator = validator
        self.holds = holds
    }

    public func channel(_ channel: SalesChannel) -> ChannelPolicy {
        channels[channel]
            ?? ChannelPolicy(routing: "nearest>split", onShortage: .backorder, unpaidReservationSeconds: nil)
    }

    /// Web and phone backorder and keep unpaid orders' stock for a while; POS and marketplaces
    /// reject what they cannot fill (a marketplace penalises late shipments); B2B routes for cost.
    public static let standard = OrderPolicy(
        channels: [
            .web: ChannelPolicy(routing: "nearest>split", onShortage: .backorder, unpaidReservationSeconds: 1800),
            .pos: ChannelPolicy(
                routing: "priority>split",
                onShortage: .reject,
                unpaidReservationSeconds: nil,
                carrierRule: .fastest
            ),
            .marketplace: ChannelPolicy(
                routing: "nearest>split",
                onShortage: .reject,
                unpaidReservationSeconds: nil,
                carrierRule: .fastest
            ),
            .phone: ChannelPolicy(routing: "nearest>split", onShortage: .backorder, unpaidReservationSeconds: 86_400),
            .b2b: ChannelPolicy(routing: "cheapest>split", onShortage: .backorder, unpaidReservationSeconds: 604_800),
        ],
        validator: OrderValidator(supportedCurrencies: ["USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK"]),
        holds: .standard
    )
}

import LibPQ
public import OrderlyCore
public import OrderlyRouting
import OrderlyStore

/// Changes to the channels' policies (`channel_policies`; `AdminReads.channels` and `.channel` list
/// and show them). A change is checked against what this process knows (its routing strategies, the
/// currencies it prices in) and written with its audit row in one transaction; every process reads
/// the policy in the transaction that acts on it, so the next order anywhere sees the change.
public struct ChannelService: Sendable {
    public let database: OrderlyDatabase
    public let actor: String
    public let components: OrderlyComponents

    public init(database: OrderlyDatabase, actor: String, components: OrderlyComponents = .standard) {
        self.database = database
        self.actor = actor
        self.components = components
    }

    /// Applies `settings` to the channel's policy, or creates the channel (given its kind) as a copy
    /// of its kind's channel with the settings applied. BAD_ARG, with nothing changed, for a routing
    /// this process cannot run, a currency it does not price in, or nothing to change.
    public func set(
        _ channel: SalesChannel,
        _ settings: ChannelSettings,
        alongside: CommitAlongside<ChannelChange>? = nil
    ) async throws -> ChannelChange {
        try check(settings)
        let actor = self.actor
        return try await database.write(alongside: alongside) { tx in
            let (current, template) = try tx.run(ChannelStore.lockForChange(channel, kind: settings.kind))
            let created = current == nil
            var base: ChannelPolicy
            if let current {
                if let kind = settings.kind, kind != current.kind {
                    throw OrderlyError(
                        .badArgument,
                        "kind: channel \(channel) is a \(current.kind.rawValue) channel; its kind cannot change"
                    )
                }
                guard !settings.changesNothing else {
                    throw OrderlyError(.badArgument, "nothing to set: name at least one setting (HELP CHANNEL SET)")
                }
                base = current
            } else {
                guard let kind = settings.kind else {
                    throw OrderlyError(
                        .notFound,
                        "there is no channel '\(channel)'; give kind= to create it (CHANNEL LIST names the channels)"
                    )
                }
                guard let template else {
                    throw OrderlyError(.notFound, "the \(kind.rawValue) channel a new one copies does not exist")
                }
                base = template
                base.channel = channel
            }
            let after = settings.applied(to: base)
            guard try tx.run(ChannelStore.save(after, created: created, actor: actor)) == 1 else {
                throw OrderlyError(.conflict, "channel \(channel) was created concurrently; try again")
            }
            return ChannelChange(policy: after, created: created, changed: created ? [] : base.differences(to: after))
        }
    }

    /// What only this process can judge: its strategies and currencies.
    func check(_ settings: ChannelSettings) throws(OrderlyError) {
        if let routing = settings.routing {
            do {
                _ = try components.routing.strategy(named: routing)
            } catch {
                throw OrderlyError(.badArgument, "routing: \(error.description)")
            }
        }
        let supported = components.policy.validator.supportedCurrencies
        for currency in (settings.highValueMinor ?? [:]).keys.sorted() where !supported.contains(currency) {
            throw OrderlyError(
                .badArgument,
                "high_value: Orderly does not price in \(currency) (it does in \(supported.sorted().joined(separator: ", ")))"
            )
        }
    }

    /// Channels whose routing this process cannot run (a strategy registered only elsewhere): what a
    /// server or worker warns about when it starts. Their orders fail with UNKNOWN_STRATEGY here.
    public func unroutable() async throws -> [(channel: SalesChannel, error: UnknownStrategy)] {
        let routing = components.routing
        return try await database.read(AdminReads.channels()).compactMap {
            record -> (channel: SalesChannel, error: UnknownStrategy)? in
            do throws(UnknownStrategy) {
                _ = try routing.strategy(named: record.policy.routing)
                return nil
            } catch {
                return (record.policy.channel, error)
            }
        }
    }
}

/// What `CHANNEL SET` did: the policy now, whether the channel is new, and the settings it changed.
public struct ChannelChange: Hashable, Sendable {
    public var policy: ChannelPolicy
    public var created: Bool
    /// The names of the settings whose values changed (empty for a new channel).
    public var changed: [String]
}

extension ChannelPolicy {
    /// The protocol's names of the settings that differ between the two, in the protocol's order.
    func differences(to other: ChannelPolicy) -> [String] {
        [
            ("active", active != other.active), ("routing", routing != other.routing),
            ("on_shortage", onShortage != other.onShortage),
            ("unpaid_reservation_s", unpaidReservationSeconds != other.unpaidReservationSeconds),
            ("carrier_rule", carrierRule != other.carrierRule),
            ("high_value", holdLimits.highValueMinor != other.holdLimits.highValueMinor),
            ("risk_limit", holdLimits.riskScore != other.holdLimits.riskScore),
            ("payment_states", paymentStates != other.paymentStates),
            ("priority", priority != other.priority),
            ("promise_inbound", promiseInbound != other.promiseInbound),
            ("claim_action", claimAction != other.claimAction),
            ("return_window_days", returnWindowDays != other.returnWindowDays),
            ("restocking_fee_percent", restockingFeePercent != other.restockingFeePercent),
            ("refund_shipping", refundShipping != other.refundShipping),
            ("keep_item_limit", keepItemLimitMinor != other.keepItemLimitMinor),
        ].filter(\.1).map(\.0)
    }
}

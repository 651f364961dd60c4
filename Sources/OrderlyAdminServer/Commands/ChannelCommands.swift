import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// CHANNEL: the sales channels and their policies (`channel_policies`).
extension AdminCommandRegistry {
    mutating func registerChannelCommands() {
        read("CHANNEL LIST") { _ in
            AdminReads.channels().map { records in .rows(records.map(AdminReplies.channelFields)) }
        }
        read("CHANNEL SHOW") { c throws(AdminError) in
            let channel = try AdminCall.channel(c)
            return AdminReads.channel(channel, changes: try c.int(optional: "changes") ?? 20).map { record, changes in
                guard case .rows(let rows) = AdminReplies.rows(changes) else {
                    return .rows([AdminReplies.channelFields(record)])
                }
                return .rows([AdminReplies.channelFields(record)] + rows)
            }
        }
        read("CHANNEL DOCUMENTS") { c throws(AdminError) in
            let channel = try AdminCall.channel(c)
            let state = try c.text(optional: "state").flatMap(ChannelDocumentState.init(rawValue:))
            return AdminReads.channelDocuments(channel, state: state, limit: try c.int(optional: "limit") ?? 100)
                .map(AdminReplies.rows)
        }
        call("CHANNEL SET") { call in
            let c = call.command
            let channel = try AdminCall.channel(c)
            let settings = try AdminCall.channelSettings(c)
            let reply: @Sendable (ChannelChange) -> AdminReply = { change in
                .ok(
                    [
                        AdminField("created", change.created),
                        AdminField("changed", change.changed.joined(separator: ",")),
                    ]
                        + AdminReplies.policyFields(change.policy)
                )
            }
            return reply(
                try await ChannelService(
                    database: call.database,
                    actor: call.actor,
                    components: call.executor.components
                ).set(channel, settings, alongside: call.storing(reply))
            )
        }
    }
}

extension AdminCall {
    static func channel(_ c: BoundCommand) throws(AdminError) -> SalesChannel {
        guard let channel = SalesChannel(rawValue: try c.text(required: "channel")) else {
            throw AdminError(.internal, "the name type allowed a channel SalesChannel refuses")
        }
        return channel
    }

    /// `CHANNEL SET`'s settings, each parsed and checked; what the table's types already checked
    /// (ranges, words) is taken as given.
    static func channelSettings(_ c: BoundCommand) throws -> ChannelSettings {
        var settings = ChannelSettings()
        settings.kind = try c.text(optional: "kind").flatMap(ChannelKind.init(rawValue:))
        settings.active = try c.bool(optional: "active")
        settings.routing = try c.text(optional: "routing")
        settings.onShortage = try c.text(optional: "on_shortage").flatMap(ShortagePolicy.init(rawValue:))
        settings.unpaidReservationSeconds = try c.int(optional: "unpaid_reservation_s")
        settings.carrierRule = try c.text(optional: "carrier_rule").flatMap(CarrierRule.init(rawValue:))
        settings.highValueMinor = try c.text(optional: "high_value").map(HoldLimits.parseHighValue)
        settings.riskScoreLimit = try c.int(optional: "risk_limit").map { Int($0) }
        settings.paymentStates = try c.text(optional: "payment_states").map(ChannelSettings.parsePaymentStates)
        settings.priority = try c.text(optional: "priority").flatMap(OrderPriority.init(rawValue:))
        settings.promiseInbound = try c.bool(optional: "promise_inbound")
        settings.claimAction = try c.text(optional: "claim_action").flatMap(ClaimAction.init(rawValue:))
        settings.returnWindowDays = try c.int(optional: "return_window_days").map { Int($0) }
        settings.restockingFeePercent = try c.int(optional: "restocking_fee_percent").map { Int($0) }
        settings.refundShipping = try c.bool(optional: "refund_shipping")
        settings.keepItemLimitMinor = try c.int(optional: "keep_item_limit")
        return settings
    }
}

extension AdminReplies {
    /// A channel's policy in the names `CHANNEL SET` takes.
    static func policyFields(_ policy: ChannelPolicy) -> [AdminField] {
        [
            AdminField("channel", policy.channel.rawValue), AdminField("kind", policy.kind.rawValue),
            AdminField("active", policy.active), AdminField("routing", policy.routing),
            AdminField("on_shortage", policy.onShortage.rawValue),
            AdminField("unpaid_reservation_s", policy.unpaidReservationSeconds ?? 0),
            AdminField("carrier_rule", policy.carrierRule.rawValue),
            AdminField("high_value", policy.holdLimits.highValueText),
            AdminField("risk_limit", Int64(policy.holdLimits.riskScore)),
            AdminField("payment_states", policy.paymentStates.map(\.rawValue).sorted().joined(separator: ",")),
            AdminField("priority", policy.priority.rawValue),
            AdminField("promise_inbound", policy.promiseInbound),
            AdminField("claim_action", policy.claimAction.rawValue),
            AdminField("return_window_days", Int64(policy.returnWindowDays)),
            AdminField("restocking_fee_percent", Int64(policy.restockingFeePercent)),
            AdminField("refund_shipping", policy.refundShipping),
            AdminField("keep_item_limit", policy.keepItemLimitMinor),
        ]
    }

    @Sendable static func channelFields(_ record: ChannelRecord) -> [AdminField] {
        policyFields(record.policy) + [
            AdminField("updated_by", record.updatedBy), AdminField("updated_at", record.updatedAt),
        ]
    }
}

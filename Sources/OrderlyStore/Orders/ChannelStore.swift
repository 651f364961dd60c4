public import LibPQ
public import OrderlyCore

/// `channel_policies` and its audit table `channel_policy_changes` (sql/migrations/0010). A policy is
/// read in the transaction that acts on it (with the routing snapshot, in the same round trip), so
/// there is no cache to keep fresh: a change is seen by the next transaction of every process.
public enum ChannelStore {
    static let columns = """
        name, kind, active, routing, on_shortage, unpaid_reservation_seconds, carrier_rule,
        high_value_limits, risk_score_limit, payment_states, priority, promise_inbound, claim_action,
        return_window_days, restocking_fee_percent, refund_shipping, keep_item_limit_minor, updated_by,
        updated_at::text
        """

    /// The policy of `channel`; nil when there is no such channel.
    public static func policy(_ channel: SalesChannel) -> PostgresQuery<ChannelPolicy?> {
        .first("SELECT \(unescaped: columns) FROM channel_policies WHERE name = \(channel)") { try decode($0).policy }
    }

    /// The policy of order `orderID`'s channel.
    public static func policy(orderID: Int64) -> PostgresQuery<ChannelPolicy?> {
        .first(
            """
            SELECT \(unescaped: columns) FROM channel_policies
            WHERE name = (SELECT channel FROM orders WHERE id = \(orderID))
            """
        ) { try decode($0).policy }
    }

    /// Every channel, by name.
    public static func list() -> PostgresQuery<[ChannelRecord]> {
        .rows("SELECT \(unescaped: columns) FROM channel_policies ORDER BY name", decode)
    }

    /// The channel and its last changes, newest first, in one round trip.
    public static func show(
        _ channel: SalesChannel,
        changes limit: Int64
    ) -> PostgresQuery<(ChannelRecord?, [ReportRow])> {
        PostgresQuery<ChannelRecord?>
            .first("SELECT \(unescaped: columns) FROM channel_policies WHERE name = \(channel)", decode)
            .and(
                PostgresQuery(
                    """
                    SELECT id AS change, actor, changed_at::text,
                           (SELECT string_agg(key || '=' || coalesce(after -> key, 'null'::jsonb)::text, ' ' ORDER BY key)
                            FROM jsonb_object_keys(after) AS key
                            WHERE before IS NULL OR before -> key IS DISTINCT FROM after -> key) AS changed
                    FROM channel_policy_changes WHERE channel = \(channel) ORDER BY id DESC LIMIT \(limit)
                    """,
                    decode: AdminQueries.rows
                )
            ) { ($0, $1) }
    }

    /// For a change: the channel's row locked (FOR UPDATE), or, when there is none yet, the row of
    /// the channel named after `kind` (what a new channel starts as), unlocked.
    public static func lockForChange(
        _ channel: SalesChannel,
        kind: ChannelKind?
    ) -> PostgresQuery<(ChannelPolicy?, ChannelPolicy?)> {
        PostgresQuery<ChannelPolicy?>
            .first("SELECT \(unescaped: columns) FROM channel_policies WHERE name = \(channel) FOR UPDATE") {
                try decode($0).policy
            }
            .and(policy(kind?.channel ?? channel)) { ($0, $1) }
    }

    /// Writes the whole policy (creating the channel when `created`) and its audit row, which holds
    /// the policy before and after, in one statement.
    public static func save(_ policy: ChannelPolicy, created: Bool, actor: String) throws -> PostgresQuery<Int> {
        let limits = try PostgresJSON(encoding: policy.holdLimits.highValueMinor)
        let states = policy.paymentStates.map(\.rawValue).sorted()
        let unpaid = policy.unpaidReservationSeconds ?? 0
        return .command(
            """
            WITH before AS (
                SELECT to_jsonb(p) - 'updated_by' - 'updated_at' AS policy FROM channel_policies p WHERE name = \(policy.channel)
            ), saved AS (
                INSERT INTO channel_policies AS p
                    (name, kind, active, routing, on_shortage, unpaid_reservation_seconds, carrier_rule,
                     high_value_limits, risk_score_limit, payment_states, priority, promise_inbound, claim_action,
                     return_window_days, restocking_fee_percent, refund_shipping, keep_item_limit_minor, updated_by,
                     updated_at)
                VALUES (\(policy.channel), \(policy.kind.rawValue), \(policy.active), \(policy.routing),
                        \(policy.onShortage.rawValue), \(unpaid)::int4, \(policy.carrierRule.rawValue), \(limits),
                        \(policy.holdLimits.riskScore)::int4, \(states)::text[], \(policy.priority.rawValue),
                        \(policy.promiseInbound), \(policy.claimAction.rawValue),
                        \(Int64(policy.returnWindowDays))::int4, \(Int64(policy.restockingFeePercent))::int4,
                        \(policy.refundShipping), \(policy.keepItemLimitMinor), \(actor),
                        orderly_now())
                ON CONFLICT (name) DO UPDATE SET
                    kind = EXCLUDED.kind, active = EXCLUDED.active, routing = EXCLUDED.routing,
                    on_shortage = EXCLUDED.on_shortage, unpaid_reservation_seconds = EXCLUDED.unpaid_reservation_seconds,
                    carrier_rule = EXCLUDED.carrier_rule, high_value_limits = EXCLUDED.high_value_limits,
                    risk_score_limit = EXCLUDED.risk_score_limit, payment_states = EXCLUDED.payment_states,
                    priority = EXCLUDED.priority, promise_inbound = EXCLUDED.promise_inbound,
                    claim_action = EXCLUDED.claim_action, return_window_days = EXCLUDED.return_window_days,
                    restocking_fee_percent = EXCLUDED.restocking_fee_percent, refund_shipping = EXCLUDED.refund_shipping,
                    keep_item_limit_minor = EXCLUDED.keep_item_limit_minor,
                    updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
                WHERE \(!created)
                RETURNING to_jsonb(p) - 'updated_by' - 'updated_at' AS policy
            )
            INSERT INTO channel_policy_changes (channel, actor, before, after)
            SELECT \(policy.channel), \(actor), (SELECT policy FROM before), policy FROM saved
            """
        )
    }

    static func decode(_ row: PostgresRow) throws -> ChannelRecord {
        func parse<T: RawRepresentable<String>>(_ type: T.Type, _ column: String) throws -> T {
            let raw = try row.decode(String.self, column)
            guard let value = T(rawValue: raw) else {
                throw PostgresError(code: .decoding, message: "unknown \(column) '\(raw)'")
            }
            return value
        }
        let unpaid = Int64(try row.decode(Int32.self, "unpaid_reservation_seconds"))
        let states = try row.decode([String].self, "payment_states").map { raw in
            guard let state = PaymentStatus(rawValue: raw) else {
                throw PostgresError(code: .decoding, message: "unknown payment state '\(raw)'")
            }
            return state
        }
        return ChannelRecord(
            policy: ChannelPolicy(
                channel: try parse(SalesChannel.self, "name"),
                kind: try parse(ChannelKind.self, "kind"),
                active: try row.decode(Bool.self, "active"),
                routing: try row.decode(String.self, "routing"),
                onShortage: try parse(ShortagePolicy.self, "on_shortage"),
                unpaidReservationSeconds: unpaid == 0 ? nil : unpaid,
                carrierRule: try parse(CarrierRule.self, "carrier_rule"),
                holdLimits: HoldLimits(
                    highValueMinor: try row.decode(PostgresJSON.self, "high_value_limits").decode([String: Int64].self),
                    riskScore: Int(try row.decode(Int32.self, "risk_score_limit"))
                ),
                paymentStates: Set(states),
                priority: try parse(OrderPriority.self, "priority"),
                promiseInbound: try row.decode(Bool.self, "promise_inbound"),
                claimAction: try parse(ClaimAction.self, "claim_action"),
                returnWindowDays: Int(try row.decode(Int32.self, "return_window_days")),
                restockingFeePercent: Int(try row.decode(Int32.self, "restocking_fee_percent")),
                refundShipping: try row.decode(Bool.self, "refund_shipping"),
                keepItemLimitMinor: try row.decode(Int64.self, "keep_item_limit_minor")
            ),
            updatedBy: try row.decode(String.self, "updated_by"),
            updatedAt: try row.decode(String.self, "updated_at")
        )
    }
}

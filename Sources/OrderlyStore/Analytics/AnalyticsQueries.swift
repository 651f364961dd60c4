public import LibPQ
public import OrderlyCore

/// The analytics schema from Orderly's side: refreshing its materialized views and the fixed reports
/// `orderly demo` and `orderly report` print (analysts write their own SQL against the views).
public enum AnalyticsQueries {
    /// The materialized views, in the order they must be refreshed.
    public static func materializedViews(_ connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT unnest(analytics.materialized_views())").map { try $0.decode(String.self, at: 0) }
    }

    /// Refreshes one view concurrently (readers never wait) and logs it; returns milliseconds.
    public static func refresh(_ connection: PostgresConnection, view: String) throws -> Double {
        try connection.query("SELECT analytics.refresh_view(\(view))").scalar(Double.self)
    }

    /// Seconds since the stalest view was refreshed; nil when one never was.
    public static func stalestAge(_ connection: PostgresConnection) throws -> Double? {
        try connection.query(
            "SELECT CASE WHEN bool_or(age_s IS NULL) THEN NULL ELSE max(age_s) END FROM analytics.refresh_status"
        ).scalar(Double?.self)
    }

    /// A fixed report's rows.
    public static func report(_ connection: PostgresConnection, _ report: AnalyticsReport) throws -> [ReportRow] {
        try AdminQueries.rows(connection.query(PostgresStatement(stringLiteral: report.sql)))
    }
}

extension AnalyticsReport {
    /// The report's SQL: over the analytics views only, as an analyst would write it.
    public var sql: String {
        switch self {
        case .refreshes:
            """
            SELECT view_name AS view, to_char(last_refreshed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS refreshed,
                   round(duration_ms::numeric, 1)::text AS ms, row_count AS rows
            FROM analytics.refresh_status
            """
        case .funnel:
            """
            SELECT channel, sum(captured)::int8 AS captured, sum(held)::int8 AS held, sum(backordered)::int8 AS backordered,
                   sum(shipped)::int8 AS shipped, sum(delivered)::int8 AS delivered, sum(cancelled)::int8 AS cancelled,
                   sum(returned)::int8 AS returned, sum(open_now)::int8 AS open
            FROM analytics.order_funnel GROUP BY channel ORDER BY sum(captured) DESC
            """
        case .ordersPerDay:
            """
            SELECT day::text AS day, channel, captured FROM analytics.order_funnel ORDER BY day, channel
            """
        case .cycleTimes:
            """
            SELECT warehouse, count(*)::int8 AS parcels,
                   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY analytics.hours_between(captured_at, shipped_at)))::numeric, 1)::text
                       AS ship_p50_h,
                   round((percentile_cont(0.9) WITHIN GROUP (ORDER BY analytics.hours_between(captured_at, shipped_at)))::numeric, 1)::text
                       AS ship_p90_h,
                   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY analytics.hours_between(captured_at, delivered_at)))::numeric, 1)::text
                       AS door_p50_h,
                   round((percentile_cont(0.9) WITHIN GROUP (ORDER BY analytics.hours_between(captured_at, delivered_at)))::numeric, 1)::text
                       AS door_p90_h
            FROM analytics.shipment_facts WHERE shipped_at IS NOT NULL GROUP BY warehouse ORDER BY warehouse
            """
        case .cycleTimeDistribution:
            """
            SELECT warehouse, least(floor(analytics.hours_between(captured_at, shipped_at) / 6), 12)::int8 * 6 AS from_h,
                   count(*)::int8 AS parcels
            FROM analytics.shipment_facts WHERE shipped_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
            """
        case .onTime:
            """
            SELECT warehouse, sum(ship_due)::int8 AS ship_due,
                   round((100.0 * sum(shipped_on_time) / nullif(sum(ship_due), 0))::numeric, 1)::text AS shipped_on_time_pct,
                   sum(delivery_due)::int8 AS delivery_due,
                   round((100.0 * sum(delivered_on_time) / nullif(sum(delivery_due), 0))::numeric, 1)::text
                       AS delivered_on_time_pct
            FROM analytics.on_time GROUP BY warehouse ORDER BY warehouse
            """
        case .returnReasons:
            """
            SELECT reason, sum(returns)::int8 AS returns, sum(units)::int8 AS units, sum(refund_minor)::int8 AS refund_minor,
                   sum(fraud_review)::int8 AS fraud_review
            FROM analytics.returns_summary GROUP BY reason ORDER BY sum(returns) DESC
            """
        case .stockCover:
            """
            SELECT sku, sum(on_hand)::int8 AS on_hand, sum(available)::int8 AS available, sum(inbound)::int8 AS inbound,
                   max(sku_backordered)::int8 AS backordered, round(sum(units_per_day)::numeric, 2)::text AS per_day,
                   round((sum(available) / nullif(sum(units_per_day), 0))::numeric, 1)::text AS days_of_cover
            FROM analytics.inventory_position GROUP BY sku ORDER BY sum(units_per_day) DESC, sku LIMIT 12
            """
        case .backlog:
            """
            SELECT warehouse, to_char(created_hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00') AS hour,
                   sum(pick_lists)::int8 AS pick_lists, sum(units_to_pick)::int8 AS units
            FROM analytics.pick_backlog GROUP BY 1, 2 ORDER BY 2, 1
            """
        case .queue:
            """
            SELECT queue, sum(due)::int8 AS due, sum(running)::int8 AS running, sum(retrying)::int8 AS retrying,
                   sum(dead)::int8 AS dead, sum(completed_1h)::int8 AS completed_1h,
                   round(max(oldest_due_age_s)::numeric, 1)::text AS oldest_due_s
            FROM analytics.job_queue_health GROUP BY queue ORDER BY queue
            """
        }
    }
}

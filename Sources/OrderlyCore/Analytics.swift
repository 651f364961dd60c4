/// The fixed reports over the analytics views that `orderly demo` prints and `orderly report` draws
/// (the SQL is the store's; analysts query the views themselves).
public enum AnalyticsReport: String, CaseIterable, Sendable {
    /// Each materialized view's last refresh.
    case refreshes
    /// Orders per channel through each stage.
    case funnel
    /// Orders captured per day and channel.
    case ordersPerDay = "orders_per_day"
    /// Captured → shipped and → delivered, p50 and p90 hours, per warehouse.
    case cycleTimes = "cycle_times"
    /// Parcels by hours from capture to shipping, in six-hour buckets, per warehouse.
    case cycleTimeDistribution = "cycle_time_distribution"
    /// Promises kept per warehouse.
    case onTime = "on_time"
    /// Returns by reason, with refunds and fraud flags.
    case returnReasons = "return_reasons"
    /// The fastest-moving SKUs' stock and days of cover.
    case stockCover = "stock_cover"
    /// Open pick lists by the hour they were made.
    case backlog
    /// The job queue per queue.
    case queue
}

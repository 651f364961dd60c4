import Foundation
import LibPQ
import OrderlyTestSupport
import Testing

/// Each analytics view against figures worked out by hand on `AnalyticsWorld` (its table says what
/// happened to each order, at which hour of day D).
@Suite(.migratedDatabase)
struct AnalyticsViewTests {
    /// A fresh world, with every materialized view refreshed over it.
    func world() throws -> (AnalyticsWorld, AnalyticsWorld.Built, PostgresConnection) {
        let connection = try TestDatabase.require().connect()
        let world = AnalyticsWorld(connection)
        let built = try world.build()
        _ = try connection.query("SELECT * FROM analytics.refresh()", [])
        return (world, built, connection)
    }

    /// The only row `sql` returns.
    func row(_ connection: PostgresConnection, _ sql: String, _ bindings: [any PostgresEncodable]) throws -> PostgresRow
    {
        let rows = try connection.query(sql, bindings)
        try #require(rows.count == 1, "\(rows.count) rows for \(sql)")
        return rows[0]
    }

    func expectClose(_ actual: Double?, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual else {
            Issue.record("nil, expected \(expected)", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(actual - expected) < 1e-9, "\(actual) ≠ \(expected)", sourceLocation: sourceLocation)
    }

    @Test func theFunnelCountsEachStageOncePerOrder() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let d = try row(
            connection,
            "SELECT * FROM analytics.order_funnel WHERE channel = $1 AND day = '2025-03-10'",
            [world.channel]
        )
        // Captured on D: O1, O2, O3, O5, O6. Reserved, wholly or partly: all five. Short: O3 and O6.
        // Shipped: O1, O2, O5; delivered the same; cancelled: O3; returned: O2 and O5 (O1's return was
        // cancelled, and moved nothing); still open: O6.
        #expect(try d.decode(Int.self, "captured") == 5)
        #expect(try d.decode(Int.self, "held") == 0)
        #expect(try d.decode(Int.self, "reserved") == 5)
        #expect(try d.decode(Int.self, "backordered") == 2)
        #expect(try d.decode(Int.self, "shipped") == 3)
        #expect(try d.decode(Int.self, "delivered") == 3)
        #expect(try d.decode(Int.self, "cancelled") == 1)
        #expect(try d.decode(Int.self, "returned") == 2)
        #expect(try d.decode(Int.self, "open_now") == 1)
        let next = try row(
            connection,
            "SELECT * FROM analytics.order_funnel WHERE channel = $1 AND day = '2025-03-11'",
            [world.channel]
        )
        // D+1: O4 held, O7 reserved and shipped, nothing delivered yet.
        #expect(try next.decode(Int.self, "captured") == 2)
        #expect(try next.decode(Int.self, "held") == 1)
        #expect(try next.decode(Int.self, "reserved") == 1)
        #expect(try next.decode(Int.self, "shipped") == 1)
        #expect(try next.decode(Int.self, "delivered") == 0)
        #expect(try next.decode(Int.self, "open_now") == 2)
        // A day with no orders has no row.
        let empty = try connection.query(
            "SELECT 1 FROM analytics.order_funnel WHERE channel = $1 AND day = '2025-03-12'",
            [world.channel]
        )
        #expect(empty.count == 0)
    }

    @Test func cycleTimePercentilesInterpolateBetweenParcels() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let a = try row(
            connection,
            "SELECT * FROM analytics.fulfillment_cycle_times WHERE warehouse = $1 AND day = '2025-03-10'",
            [world.warehouseA]
        )
        // A's parcels of D: S1 (O1), S2 (O2), S5a (O5), S6 (O6, not picked yet).
        #expect(try a.decode(Int.self, "parcels") == 4)
        #expect(try a.decode(Int.self, "shipped") == 3)
        #expect(try a.decode(Int.self, "delivered") == 3)
        // Captured → reserved: 1, 0.5, 0.5, 0.5 h. Sorted [0.5, 0.5, 0.5, 1]; p90 at rank 2.7: 0.5 + 0.7 × 0.5.
        expectClose(try a.decode(Double?.self, "reserve_p50_h"), 0.5)
        expectClose(try a.decode(Double?.self, "reserve_p90_h"), 0.85)
        expectClose(try a.decode(Double?.self, "reserve_p99_h"), 0.985)
        // Reserved → picked: 2, 2.5, 1 h (S6 not yet). Sorted [1, 2, 2.5]; p90 at rank 1.8: 2 + 0.8 × 0.5.
        expectClose(try a.decode(Double?.self, "pick_p50_h"), 2)
        expectClose(try a.decode(Double?.self, "pick_p90_h"), 2.4)
        expectClose(try a.decode(Double?.self, "pick_p99_h"), 2.49)
        // Packed → shipped: 1, 21, 1 h.
        expectClose(try a.decode(Double?.self, "ship_p50_h"), 1)
        expectClose(try a.decode(Double?.self, "ship_p90_h"), 17)
        expectClose(try a.decode(Double?.self, "ship_p99_h"), 20.6)
        // Shipped → delivered: 48, 72, 21 h. Sorted [21, 48, 72]; p90: 48 + 0.8 × 24.
        expectClose(try a.decode(Double?.self, "transit_p50_h"), 48)
        expectClose(try a.decode(Double?.self, "transit_p90_h"), 67.2)
        expectClose(try a.decode(Double?.self, "transit_p99_h"), 71.52)
        // Captured → delivered: 53, 97, 24 h.
        expectClose(try a.decode(Double?.self, "click_to_door_p50_h"), 53)
        expectClose(try a.decode(Double?.self, "click_to_door_p90_h"), 88.2)
        // No deliveries yet: B's only parcel of D+1 (S7) is in transit, so its transit percentiles are NULL.
        let b = try row(
            connection,
            "SELECT * FROM analytics.fulfillment_cycle_times WHERE warehouse = $1 AND day = '2025-03-11'",
            [world.warehouseB]
        )
        #expect(try b.decode(Int.self, "parcels") == 1)
        #expect(try b.decode(Int.self, "delivered") == 0)
        #expect(try b.decode(Double?.self, "transit_p50_h") == nil)
        expectClose(try b.decode(Double?.self, "click_to_ship_p50_h"), 4)
    }

    @Test func onTimeCountsAPromiseOnceItIsDue() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        // A, labelled by the carrier: S1 on time both ways, S2 late both ways, S5a on time.
        let labelled = try row(
            connection,
            "SELECT * FROM analytics.on_time WHERE warehouse = $1 AND carrier = $2 AND day = '2025-03-10'",
            [world.warehouseA, world.carrier]
        )
        #expect(try labelled.decode(Int.self, "promised") == 3)
        #expect(try labelled.decode(Int.self, "shipped_on_time") == 2)
        expectClose(try labelled.decode(Double?.self, "ship_on_time_rate"), 2.0 / 3)
        expectClose(try labelled.decode(Double?.self, "delivery_on_time_rate"), 2.0 / 3)
        // S6 was never labelled and its ship-by (D 15:00) passed: due and late both ways.
        let unlabelled = try row(
            connection,
            "SELECT * FROM analytics.on_time WHERE warehouse = $1 AND carrier IS NULL",
            [world.warehouseA]
        )
        #expect(try unlabelled.decode(Int.self, "ship_due") == 1)
        #expect(try unlabelled.decode(Int.self, "shipped_on_time") == 0)
        expectClose(try unlabelled.decode(Double?.self, "delivery_on_time_rate"), 0)
        // S7 shipped on time; its promised day (2099) has not come: nothing is due for delivery yet.
        let inTransit = try row(
            connection,
            "SELECT * FROM analytics.on_time WHERE warehouse = $1 AND day = '2025-03-11'",
            [world.warehouseB]
        )
        expectClose(try inTransit.decode(Double?.self, "ship_on_time_rate"), 1)
        #expect(try inTransit.decode(Int.self, "delivery_due") == 0)
        #expect(try inTransit.decode(Double?.self, "delivery_on_time_rate") == nil)
    }

    @Test func fillRateIsWhatTheFirstRoutingReserved() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let d = try row(
            connection,
            "SELECT * FROM analytics.fill_rate WHERE channel = $1 AND day = '2025-03-10'",
            [world.channel]
        )
        // Routed on D: O1 (2 of 2), O2 (1 of 1), O3 (1 of 3, then cancelled), O5 (2 of 2), O6 (1 of 2).
        #expect(try d.decode(Int.self, "routed_orders") == 5)
        #expect(try d.decode(Int.self, "units_ordered") == 10)
        #expect(try d.decode(Int.self, "units_reserved_first") == 7)
        expectClose(try d.decode(Double?.self, "fill_rate"), 0.7)
        #expect(try d.decode(Int.self, "filled_whole") == 3)
        expectClose(try d.decode(Double?.self, "order_fill_rate"), 0.6)
        // D+1: O4 was held and never routed, so only O7 counts.
        let next = try row(
            connection,
            "SELECT * FROM analytics.fill_rate WHERE channel = $1 AND day = '2025-03-11'",
            [world.channel]
        )
        #expect(try next.decode(Int.self, "routed_orders") == 1)
        expectClose(try next.decode(Double?.self, "fill_rate"), 1)
        // What still waits: O6's one Y.
        let waiting = try row(connection, "SELECT * FROM analytics.backorder_age WHERE channel = $1", [world.channel])
        #expect(try waiting.decode(String.self, "sku") == world.skuY)
        #expect(try waiting.decode(Int.self, "units") == 1)
        #expect(try waiting.decode(Double.self, "age_days") > 1)
    }

    @Test func routingOutcomesCompareWithTheNearestAndCheapest() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let nearest = try row(
            connection,
            "SELECT * FROM analytics.routing_outcomes WHERE day = '2025-03-10' AND channel = $1 AND strategy = 'nearest'",
            [world.channel]
        )
        // O1, O2, O3, O6; none split; O3 and O6 short. Distances 100, 100, 300, 100. Planned cost 2200;
        // only O1 and O2 had a single warehouse able to ship whole, cheapest 450 each (B) against 500 (A).
        #expect(try nearest.decode(Int.self, "decisions") == 4)
        expectClose(try nearest.decode(Double?.self, "split_rate"), 0)
        #expect(try nearest.decode(Int.self, "short_decisions") == 2)
        expectClose(try nearest.decode(Double?.self, "avg_distance_km"), 150)
        expectClose(try nearest.decode(Double?.self, "avg_km_over_nearest"), 0)
        #expect(try nearest.decode(Int.self, "cost_minor") == 2200)
        #expect(try nearest.decode(Int.self, "cheapest_cost_minor") == 900)
        expectClose(try nearest.decode(Double?.self, "cost_over_cheapest"), 1000.0 / 900 - 1)
        let split = try row(
            connection,
            "SELECT * FROM analytics.routing_facts WHERE channel = $1 AND strategy = 'split'",
            [world.channel]
        )
        #expect(try split.decode(Int.self, "parcels") == 2)
        #expect(try split.decode([String].self, "warehouses") == [world.warehouseA, world.warehouseB])
        expectClose(try split.decode(Double?.self, "distance_km"), 400)
        #expect(try split.decode(Int?.self, "cost_minor") == 1200)
        #expect(try split.decode(Int?.self, "cheapest_whole_cost_minor") == nil)
        let choices = try connection.query(
            """
            SELECT warehouse, parcels FROM analytics.routing_choices
            WHERE strategy = 'nearest' AND day = '2025-03-10' AND warehouse IN ($1, $2) ORDER BY warehouse
            """,
            [world.warehouseA, world.warehouseB]
        )
        #expect(try choices[0].decode(Int.self, "parcels") == 3)
        #expect(try choices[1].decode(Int.self, "parcels") == 1)
    }

    @Test func shippingCostsArePerParcelAndPerOrder() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let d = try row(
            connection,
            "SELECT * FROM analytics.shipping_costs WHERE carrier = $1 AND day = '2025-03-10'",
            [world.carrier]
        )
        // Shipped on D: S1 (500, 2 kg), S5a (500, 1 kg), S5b (700, 1.5 kg): two orders.
        #expect(try d.decode(Int.self, "parcels") == 3)
        #expect(try d.decode(Int.self, "orders") == 2)
        #expect(try d.decode(Int.self, "cost_minor") == 1700)
        #expect(try d.decode(String.self, "currency") == "EUR")
        expectClose(try d.decode(Double?.self, "cost_per_order_minor"), 850)
        expectClose(try d.decode(Double?.self, "cost_per_kg_minor"), 1700 / 4.5)
        let next = try row(
            connection,
            "SELECT * FROM analytics.shipping_costs WHERE carrier = $1 AND day = '2025-03-11'",
            [world.carrier]
        )
        #expect(try next.decode(Int.self, "cost_minor") == 1150)
    }

    @Test func perfectOrdersAreCompleteOnTimeUndamagedAndNotSentBack() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let d = try row(
            connection,
            "SELECT * FROM analytics.perfect_orders WHERE channel = $1 AND day = '2025-03-10'",
            [world.channel]
        )
        // Delivered in full: O1 (perfect), O2 (late, returned defective), O5 (on time, claimed damaged).
        // O3 (cancelled) and O6 (open) are not finished.
        #expect(try d.decode(Int.self, "finished") == 3)
        #expect(try d.decode(Int.self, "perfect") == 1)
        expectClose(try d.decode(Double?.self, "perfect_rate"), 1.0 / 3)
        #expect(try d.decode(Int.self, "late") == 1)
        #expect(try d.decode(Int.self, "damaged") == 1)
        #expect(try d.decode(Int.self, "returned_faulty") == 1)
        #expect(try d.decode(Int.self, "incomplete") == 0)
    }

    @Test func stockPositionTurnoverAndAccuracy() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let x = try row(
            connection,
            "SELECT * FROM analytics.inventory_position WHERE sku = $1 AND warehouse = $2",
            [world.skuX, world.warehouseA]
        )
        // 50 on hand, 4 reserved, 2 safety: 44 available; 14 shipped in 28 days: 0.5 a day, 88 days.
        #expect(try x.decode(Int.self, "available") == 44)
        #expect(try x.decode(Int.self, "inbound") == 20)
        #expect(try x.decode(Bool.self, "at_reorder_point"))
        expectClose(try x.decode(Double?.self, "units_per_day"), 0.5)
        expectClose(try x.decode(Double?.self, "days_of_cover"), 88)
        let y = try row(
            connection,
            "SELECT * FROM analytics.inventory_position WHERE sku = $1 AND warehouse = $2",
            [world.skuY, world.warehouseB]
        )
        #expect(try y.decode(Int.self, "sku_backordered") == 1)
        #expect(try y.decode(Double?.self, "days_of_cover") == nil)

        let turnover = try row(connection, "SELECT * FROM analytics.inventory_turnover WHERE sku = $1", [world.skuX])
        // A year ago: 50 − (−10 − 20 − 14 − 6) = 100. Shipped in the year 44, over a mean of 75 on hand.
        #expect(try turnover.decode(Int.self, "on_hand_365d_ago") == 100)
        #expect(try turnover.decode(Int.self, "shipped_90d") == 34)
        #expect(try turnover.decode(Int.self, "shipped_365d") == 44)
        expectClose(try turnover.decode(Double?.self, "turnover_365d"), 44.0 / 75)
        expectClose(try turnover.decode(Double?.self, "days_on_hand"), 50 / (34.0 / 90))

        let accuracy = try row(
            connection,
            "SELECT *, month::text AS month_text FROM analytics.inventory_accuracy WHERE warehouse = $1",
            [world.warehouseA]
        )
        // Counts 10/10, 18/20, 6/5: one exact of three; |variance| 3 over 35 expected.
        #expect(try accuracy.decode(String.self, "month_text") == "2025-03-01")
        expectClose(try accuracy.decode(Double?.self, "accuracy_rate"), 1.0 / 3)
        #expect(try accuracy.decode(Int.self, "net_variance_units") == -1)
        expectClose(try accuracy.decode(Double?.self, "unit_accuracy_rate"), 1 - 3.0 / 35)
        let reasons = try connection.query(
            "SELECT reason, net_variance_units FROM analytics.count_variances WHERE warehouse = $1 ORDER BY reason",
            [world.warehouseA]
        )
        #expect(
            try (0..<reasons.count).map { try reasons[$0].decode(String.self, "reason") } == ["found", "lost", "none"]
        )
        #expect(try reasons[1].decode(Int.self, "net_variance_units") == -2)

        let sales = try row(
            connection,
            "SELECT * FROM analytics.sales_trend WHERE sku = $1 AND day = '2025-03-10'",
            [world.skuX]
        )
        // X on D: O1 (2), O2, O5, O6 (1 each) at 1000.
        #expect(try sales.decode(Int.self, "orders") == 4)
        #expect(try sales.decode(Int.self, "units_ordered") == 5)
        #expect(try sales.decode(Int.self, "revenue_minor") == 5000)
    }

    @Test func returnRatesAndReasons() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        let x = try row(
            connection,
            "SELECT * FROM analytics.returns_by_sku WHERE sku = $1 AND channel = $2",
            [world.skuX, world.channel]
        )
        // X shipped: O1 2, O2 1, O5 1. Returned: O2 (defective), O5 (not as described, fraud review); O1's
        // return was cancelled and does not count.
        #expect(try x.decode(Int.self, "units_shipped") == 4)
        #expect(try x.decode(Int.self, "units_returned") == 2)
        expectClose(try x.decode(Double?.self, "return_rate"), 0.5)
        #expect(try x.decode(Int.self, "defective") == 1)
        #expect(try x.decode(Int.self, "not_as_described") == 1)
        #expect(try x.decode(Int.self, "size_fit") == 0)
        #expect(try x.decode(Int.self, "fraud_review") == 1)
        let y = try row(
            connection,
            "SELECT * FROM analytics.returns_by_sku WHERE sku = $1 AND channel = $2",
            [world.skuY, world.channel]
        )
        expectClose(try y.decode(Double?.self, "return_rate"), 0)
        let money = try connection.query(
            "SELECT reason, refund_minor, fraud_review FROM analytics.returns_summary WHERE channel = $1 ORDER BY reason",
            [world.channel]
        )
        #expect(money.count == 2)
        #expect(try money[0].decode(String.self, "reason") == "defective")
        #expect(try money[0].decode(Int.self, "refund_minor") == 1000)
        #expect(try money[1].decode(Int.self, "fraud_review") == 1)
    }

    @Test func backlogAndQueueHealthAreLive() throws {
        let (world, _, connection) = try world()
        defer { connection.close() }
        // S6's pick list, open since D 13:00.
        let backlog = try row(
            connection,
            "SELECT * FROM analytics.pick_backlog WHERE warehouse = $1",
            [world.warehouseA]
        )
        #expect(try backlog.decode(Int.self, "pick_lists") == 1)
        #expect(try backlog.decode(Int.self, "units_to_pick") == 1)
        #expect(try backlog.decode(Date.self, "created_hour") == AnalyticsWorld.dayD.addingTimeInterval(13 * 3600))
        let queue = try row(
            connection,
            "SELECT * FROM analytics.job_queue_health WHERE kind = $1",
            ["analytics_\(world.tag.lowercased())"]
        )
        #expect(try queue.decode(Int.self, "due") == 2)
        #expect(try queue.decode(Int.self, "scheduled") == 1)
        #expect(try queue.decode(Int.self, "retrying") == 1)
        #expect(try queue.decode(Int.self, "dead") == 1)
        #expect(try queue.decode(Int.self, "completed_1h") == 1)
        #expect(try queue.decode(Int.self, "failed_attempts") == 4)
        #expect(try queue.decode(Double.self, "oldest_due_age_s") >= 600)
    }

    @Test func refreshesAreLoggedAndOnlyOfMaterializedViews() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let took = try connection.query("SELECT analytics.refresh_view('analytics.order_facts')", []).scalar(
            Double.self
        )
        #expect(took >= 0)
        let status = try row(
            connection,
            "SELECT * FROM analytics.refresh_status WHERE view_name = 'analytics.order_facts'",
            []
        )
        #expect(try status.decode(Double?.self, "duration_ms") != nil)
        let error = try #require(throws: PostgresError.self) {
            try connection.query("SELECT analytics.refresh_view('public.orders')", [])
        }
        #expect(error.sqlState == "22023")
        #expect(error.message.contains("not one of analytics' materialized views"))
    }
}

import ArgumentParser
import Foundation
import LibPQ
import OrderlyCommands
import OrderlyTestSupport
import Testing

/// `orderly seed` through the real services: the invariants hold after a simulated year, the views
/// see what was seeded, and the same seed places the same orders.
@Suite
struct SeedCommandTests {
    func run(_ arguments: [String]) async throws { try await runOrderly(arguments) }

    @Test func aSeededYearKeepsEveryInvariantAndFillsTheViews() async throws {
        let database = try await TestDatabase.create(label: "cli_seed", migrated: true)
        defer { try? database.drop() }
        try await run(["seed", "--orders", "2000", "--database-url", database.conninfo])
        // `orderly check` throws ExitCode(1) on any violation.
        try await run(["check", "--database-url", database.conninfo])

        let connection = try database.connect()
        defer { connection.close() }
        func count(_ sql: String) throws -> Int { try connection.query(sql, []).scalar(Int.self) }
        // The 2000 drawn orders, plus the exchanges' replacement orders.
        let orders = try count("SELECT count(*) FROM orders")
        #expect(orders >= 2000)
        #expect(try count("SELECT coalesce(sum(captured), 0)::int FROM analytics.order_funnel") == orders)
        // A year of simulated time, every channel, and the whole life of an order.
        #expect(try count("SELECT (max(placed_at)::date - min(placed_at)::date) FROM orders") >= 360)
        #expect(try count("SELECT count(DISTINCT channel) FROM orders") == 7)
        for sql in [
            "SELECT count(*) FROM shipments WHERE status = 'delivered'",
            "SELECT count(*) FROM orders WHERE status = 'cancelled'",
            "SELECT count(*) FROM order_events WHERE to_status = 'on_hold'",
            "SELECT count(*) FROM order_events WHERE to_status IN ('backordered', 'partially_reserved')",
            "SELECT count(*) FROM analytics.order_facts WHERE warehouses > 1",
            "SELECT count(*) FROM returns WHERE status IN ('refunded', 'credited', 'exchanged')",
            "SELECT count(*) FROM cycle_counts WHERE counted <> expected",
            "SELECT count(*) FROM shipments WHERE status IN ('delayed', 'lost', 'damaged') OR delivered_at IS NOT NULL AND status <> 'delivered'",
            "SELECT count(*) FROM stock_expectations WHERE received = quantity",
        ] {
            #expect(try count(sql) > 0, "\(sql)")
        }
        // The Black-Friday peak is the busiest day.
        let peak = try connection.query(
            "SELECT extract(month FROM day)::int FROM analytics.order_funnel GROUP BY day ORDER BY sum(captured) DESC LIMIT 1",
            []
        ).scalar(Int.self)
        #expect(peak == 11)

        // The report: every chart drawn, and its numbers are the views'.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("orderly-report-\(database.name).html")
        defer { try? FileManager.default.removeItem(at: file) }
        try await run(["report", "--out", file.path, "--no-refresh", "--database-url", database.conninfo])
        let page = try String(contentsOf: file, encoding: .utf8)
        for chart in ["orders-per-day", "cycle-times", "on-time", "return-reasons", "stock-cover", "backlog", "queue"] {
            #expect(page.contains("id=\"\(chart)\""), "no section \(chart)")
        }
        for chart in ["orders-per-day", "cycle-times", "on-time", "return-reasons", "stock-cover", "queue"] {
            #expect(page.contains("data-chart=\"\(chart)\""), "no chart \(chart)")
        }
        #expect(!page.contains("<script"), "the page runs no script")
        #expect(!page.contains("http://") && !page.contains("https://"), "the page fetches nothing")
        // Orders per day: the bars of each day add up to the day's captured orders.
        var drawn = [String: Int]()
        for match in page.matches(of: /data-day="([0-9-]+)" data-series="[^"]*" data-value="([0-9]+)"/) {
            drawn[String(match.1), default: 0] += Int(match.2) ?? 0
        }
        let days = try connection.query(
            "SELECT day::text, sum(captured)::int FROM analytics.order_funnel GROUP BY day",
            []
        )
        var expected = [String: Int]()
        for index in 0..<days.count {
            expected[try days[index].decode(String.self, at: 0)] = try days[index].decode(Int.self, at: 1)
        }
        #expect(drawn == expected)
        // Return reasons: one bar per reason, its length the returns opened for it.
        let reasons = try connection.query(
            "SELECT replace(reason, '_', ' '), sum(returns)::int FROM analytics.returns_summary GROUP BY reason",
            []
        )
        for index in 0..<reasons.count {
            let (reason, returns) = (
                try reasons[index].decode(String.self, at: 0), try reasons[index].decode(Int.self, at: 1)
            )
            #expect(
                page.contains("data-key=\"\(reason)\" data-series=\"returns\" data-value=\"\(returns)\""),
                "\(reason)"
            )
        }
    }

    @Test func theSameSeedPlacesTheSameOrders() async throws {
        var digests = [String]()
        for label in ["cli_seed_a", "cli_seed_b"] {
            let database = try await TestDatabase.create(label: label, migrated: true)
            defer { try? database.drop() }
            try await run(
                [
                    "seed", "--orders", "150", "--days", "7", "--clients", "1", "--until", "2026-11-30T12:00:00Z",
                    "--database-url", database.conninfo,
                ]
            )
            let connection = try database.connect()
            defer { connection.close() }
            digests.append(
                try connection.query(
                    """
                    SELECT md5(string_agg(o.channel || o.external_id || o.email || o.ship_city || o.total_minor
                                          || to_char(o.placed_at AT TIME ZONE 'UTC', 'HH24:MI') || l.sku || l.quantity,
                                          ',' ORDER BY o.external_id))
                    FROM orders o
                    JOIN LATERAL (SELECT string_agg(k.code, '+' ORDER BY ol.line_no) AS sku,
                                         string_agg(ol.quantity::text, '+' ORDER BY ol.line_no) AS quantity
                                  FROM order_lines ol JOIN skus k ON k.id = ol.sku_id WHERE ol.order_id = o.id) l ON true
                    WHERE o.external_id NOT LIKE '%-EX-%'
                    """,
                    []
                ).scalar(String.self)
            )
            // A database with orders is not seeded again.
            let refused = await #expect(throws: ValidationError.self) {
                try await run(["seed", "--orders", "10", "--database-url", database.conninfo])
            }
            #expect(refused?.message.contains("orders already") == true)
        }
        #expect(digests[0] == digests[1])
    }

    @Test func theDemoRunsEndToEndAndAgain() async throws {
        let database = try await TestDatabase.create(label: "cli_demo", migrated: false)
        defer { try? database.drop() }
        // The schema, three simulated weeks and the report; then, on a database with orders, the report alone.
        try await run(["demo", "--database-url", database.conninfo])
        try await run(["check", "--database-url", database.conninfo])
        let connection = try database.connect()
        defer { connection.close() }
        let before = try connection.query("SELECT count(*) FROM orders", []).scalar(Int.self)
        #expect(before >= 600)
        #expect(
            try connection.query("SELECT count(*) FROM shipments WHERE status = 'delivered'", []).scalar(Int.self) > 0
        )
        #expect(try connection.query("SELECT count(*) FROM returns", []).scalar(Int.self) > 0)
        try await run(["demo", "--database-url", database.conninfo])
        #expect(try connection.query("SELECT count(*) FROM orders", []).scalar(Int.self) == before)
    }
}

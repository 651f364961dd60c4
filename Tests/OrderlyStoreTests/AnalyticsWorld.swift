import Foundation
import LibPQ

/// A small world written straight into the tables, every instant chosen, so each analytics view can be
/// checked against figures worked out by hand (AnalyticsViewTests has the arithmetic). Codes carry a
/// tag of their own, so worlds of tests running side by side never meet in a view's group.
///
/// Day D is 2025-03-10 (UTC); `at(h)` is h hours after its midnight. Warehouses A (100 km from the
/// customer) and B (300 km); SKUs X and Y at 1000 minor units (EUR) each; one channel.
///
/// | order | placed | lines | path |
/// |---|---|---|---|
/// | O1 | D 08:00 | X×2 | reserved 09, A: picked 11, packed 12, shipped 13, delivered D+2 13:00; a cancelled return |
/// | O2 | D 09:00 | X×1 | reserved 09:30, A: picked 12, packed 13, shipped D+1 10:00 (late), delivered D+4 10:00 (late); 1 returned defective, refunded 1000 |
/// | O3 | D 10:00 | Y×3 | first routing reserved 1 at B (2 short), cancelled 12:00 |
/// | O4 | D+1 10:00 | X×1 | held at capture, never routed |
/// | O5 | D 11:00 | X×1, Y×1 | split: A shipped 14:00, B shipped 16:00 (late); both delivered D+1; claimed damaged; X returned not as described, in fraud review |
/// | O6 | D 12:00 | X×1, Y×1 | X reserved at A (pick list open since 13:00), Y backordered |
/// | O7 | D+1 09:00 | Y×1 | B: picked 11, packed 12, shipped 13, in transit (promised for 2099) |
struct AnalyticsWorld {
    let connection: PostgresConnection
    let tag: String
    var channel: String { "c\(tag.lowercased())" }
    var warehouseA: String { "A\(tag)" }
    var warehouseB: String { "B\(tag)" }
    var skuX: String { "X\(tag)" }
    var skuY: String { "Y\(tag)" }
    var carrier: String { "K\(tag)" }

    static let dayD = Date(timeIntervalSince1970: 1_741_564_800)  // 2025-03-10T00:00:00Z

    /// The instant h hours after day D's midnight, as PostgreSQL reads it.
    func at(_ hours: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Self.dayD.addingTimeInterval(hours * 3600))
    }

    init(_ connection: PostgresConnection) {
        self.connection = connection
        self.tag = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
    }

    @discardableResult
    func id(_ sql: String, _ bindings: [any PostgresEncodable] = []) throws -> Int {
        try connection.query(sql + " RETURNING id", bindings).scalar(Int.self)
    }

    func run(_ sql: String, _ bindings: [any PostgresEncodable] = []) throws {
        _ = try connection.execute(sql, bindings)
    }

    struct Built {
        var warehouses: [String: Int] = [:]
        var skus: [String: Int] = [:]
        var orders: [String: Int] = [:]
        var lines: [String: Int] = [:]
        var shipments: [String: Int] = [:]
    }

    func build() throws -> Built {
        var b = Built()
        try run(
            """
            INSERT INTO channel_policies (name, kind, routing, on_shortage, unpaid_reservation_seconds, carrier_rule)
            VALUES ($1, 'web', 'nearest', 'backorder', 0, 'cheapest')
            """,
            [channel]
        )
        let carrierID = try id(
            "INSERT INTO carriers (code, name, tracking_prefix) VALUES ($1, 'Carrier', 'TT')",
            [carrier]
        )
        for code in [warehouseA, warehouseB] {
            b.warehouses[code] = try id(
                """
                INSERT INTO warehouses (code, name, latitude, longitude, address_line1, city, country)
                VALUES ($1, 'Warehouse', 52.5, 13.4, 'Street 1', 'Berlin', 'DE')
                """,
                [code]
            )
        }
        for code in [skuX, skuY] {
            b.skus[code] = try id(
                """
                INSERT INTO skus (code, name, weight_grams, length_mm, width_mm, height_mm)
                VALUES ($1, 'Thing', 1000, 10, 10, 10)
                """,
                [code]
            )
        }
        let (a, bw) = (b.warehouses[warehouseA]!, b.warehouses[warehouseB]!)
        let (x, y) = (b.skus[skuX]!, b.skus[skuY]!)
        // Stock now: X at A 50 on hand (4 reserved, 2 safety, reorder at 50); Y at B 1.
        try run(
            """
            INSERT INTO inventory (warehouse_id, sku_id, on_hand, reserved, safety_stock, reorder_point)
            VALUES ($1, $2, 50, 4, 2, 50), ($1, $3, 0, 0, 0, 0), ($4, $3, 1, 0, 0, 0)
            """,
            [a, x, y, bw]
        )

        // Orders: (name, placed, status, lines [(sku, qty, reserved, backordered, shipped, cancelled, returned)])
        typealias Line = (
            sku: Int, qty: Int, reserved: Int, backordered: Int, shipped: Int, cancelled: Int, returned: Int
        )
        let orders: [(String, Double, String, [Line])] = [
            ("O1", 8, "delivered", [(x, 2, 0, 0, 2, 0, 0)]),
            ("O2", 9, "partially_returned", [(x, 1, 0, 0, 1, 0, 1)]),
            ("O3", 10, "cancelled", [(y, 3, 0, 0, 0, 3, 0)]),
            ("O4", 34, "on_hold", [(x, 1, 0, 0, 0, 0, 0)]),
            ("O5", 11, "partially_returned", [(x, 1, 0, 0, 1, 0, 1), (y, 1, 0, 0, 1, 0, 0)]),
            ("O6", 12, "picking", [(x, 1, 1, 0, 0, 0, 0), (y, 1, 0, 1, 0, 0, 0)]),
            ("O7", 33, "shipped", [(y, 1, 0, 0, 1, 0, 0)]),
        ]
        for (name, placed, status, lines) in orders {
            let subtotal = lines.reduce(0) { $0 + $1.qty * 1000 }
            let orderID = try id(
                """
                INSERT INTO orders (channel, external_id, status, hold_reason, currency, subtotal_minor, total_minor,
                                    email, ship_name, ship_line1, ship_city, ship_postal_code, ship_country,
                                    routing_strategy, placed_at, created_at)
                VALUES ($1, $2, $3, $4, 'EUR', $5, $5, 'someone@example.com', 'Some One', 'Secret Street 9',
                        'Berlin', '10 115', 'DE', $6, $7::timestamptz, $7::timestamptz)
                """,
                [
                    channel, name, status, status == "on_hold" ? "manual" : nil, subtotal,
                    name == "O5" ? "split" : "nearest", at(placed),
                ]
            )
            b.orders[name] = orderID
            for (n, line) in lines.enumerated() {
                b.lines["\(name)/\(line.sku == x ? "X" : "Y")"] = try id(
                    """
                    INSERT INTO order_lines (order_id, line_no, sku_id, quantity, unit_price_minor, line_total_minor,
                                             quantity_reserved, quantity_backordered, quantity_shipped,
                                             quantity_cancelled, quantity_returned)
                    VALUES ($1, $2, $3, $4, 1000, $4 * 1000, $5, $6, $7, $8, $9)
                    """,
                    [
                        orderID, n + 1, line.sku, line.qty, line.reserved, line.backordered, line.shipped,
                        line.cancelled, line.returned,
                    ]
                )
            }
        }

        // Status changes: (order, from, to, hour). Facts that move nothing (from = to) are ignored by the views.
        let moves: [(String, String?, String, Double)] = [
            ("O1", nil, "received", 8), ("O1", "received", "reserved", 9), ("O1", "reserved", "picking", 10),
            ("O1", "picking", "packed", 12), ("O1", "packed", "shipped", 13), ("O1", "shipped", "delivered", 61),
            ("O1", "delivered", "delivered", 70),
            ("O2", nil, "received", 9), ("O2", "received", "reserved", 9.5), ("O2", "reserved", "picking", 10),
            ("O2", "picking", "packed", 13), ("O2", "packed", "shipped", 34), ("O2", "shipped", "delivered", 106),
            ("O2", "delivered", "partially_returned", 130),
            ("O3", nil, "received", 10), ("O3", "received", "partially_reserved", 10.5),
            ("O3", "partially_reserved", "cancelled", 12),
            ("O4", nil, "received", 34), ("O4", "received", "on_hold", 34),
            ("O5", nil, "received", 11), ("O5", "received", "reserved", 11.5), ("O5", "reserved", "picking", 12),
            ("O5", "picking", "partially_shipped", 14), ("O5", "partially_shipped", "shipped", 16),
            ("O5", "shipped", "delivered", 40), ("O5", "delivered", "partially_returned", 60),
            ("O6", nil, "received", 12), ("O6", "received", "partially_reserved", 12.5),
            ("O6", "partially_reserved", "picking", 13),
            ("O7", nil, "received", 33), ("O7", "received", "reserved", 33.5), ("O7", "reserved", "picking", 34),
            ("O7", "picking", "packed", 36), ("O7", "packed", "shipped", 37),
        ]
        for (order, from, to, hour) in moves {
            try run(
                """
                INSERT INTO order_events (order_id, event, from_status, to_status, actor, created_at)
                VALUES ($1, 'test', $2, $3, 'test', $4::timestamptz)
                """,
                [b.orders[order]!, from, to, at(hour)]
            )
        }

        // First routing decisions and what they reserved.
        func candidate(_ warehouse: Int, _ km: Int, whole: Bool, cost: Int?) -> String {
            let price = cost.map { ", \"whole_order_cost_minor\": \($0)" } ?? ""
            return "{\"warehouse_id\": \(warehouse), \"can_ship_whole\": \(whole), \"distance_km\": \(km)\(price)}"
        }
        func shipment(_ warehouse: Int, _ km: Int, cost: Int) -> String {
            "{\"warehouse_id\": \(warehouse), \"distance_km\": \(km), \"weight_grams\": 1000, \"cost_minor\": \(cost), \"units\": {}}"
        }
        let wholeCandidates =
            "[\(candidate(a, 100, whole: true, cost: 500)), \(candidate(bw, 300, whole: true, cost: 450))]"
        let partCandidates =
            "[\(candidate(a, 100, whole: false, cost: nil)), \(candidate(bw, 300, whole: false, cost: nil))]"
        let decisions: [(String, String, String, String, Double, [(Int, Int, Int)])] = [
            // (order, strategy, candidates, plan, hour, reservations [(line key index, warehouse, qty)])
            ("O1", "nearest", wholeCandidates, "{\"shipments\": [\(shipment(a, 100, cost: 500))]}", 9, [(0, a, 2)]),
            ("O2", "nearest", wholeCandidates, "{\"shipments\": [\(shipment(a, 100, cost: 500))]}", 9.5, [(0, a, 1)]),
            (
                "O3", "nearest", partCandidates,
                "{\"shipments\": [\(shipment(bw, 300, cost: 700))], \"shortage\": {\"\(y)\": 2}}", 10.5, [(0, bw, 1)]
            ),
            (
                "O5", "split", partCandidates,
                "{\"shipments\": [\(shipment(a, 100, cost: 500)), \(shipment(bw, 300, cost: 700))]}", 11.5,
                [(0, a, 1), (1, bw, 1)]
            ),
            (
                "O6", "nearest", partCandidates,
                "{\"shipments\": [\(shipment(a, 100, cost: 500))], \"shortage\": {\"\(y)\": 1}}", 12.5, [(0, a, 1)]
            ),
            (
                "O7", "nearest", wholeCandidates, "{\"shipments\": [\(shipment(bw, 300, cost: 650))]}", 33.5,
                [(0, bw, 1)]
            ),
        ]
        for (order, strategy, candidates, plan, hour, reservations) in decisions {
            let decision = try id(
                """
                INSERT INTO routing_decisions (order_id, strategy, rule, candidates, plan, decided_at)
                VALUES ($1, $2, 'test', $3::jsonb, $4::jsonb, $5::timestamptz)
                """,
                [b.orders[order]!, strategy, candidates, plan, at(hour)]
            )
            let lineIDs = try connection.query(
                "SELECT id, sku_id FROM order_lines WHERE order_id = $1 ORDER BY line_no",
                [b.orders[order]!]
            )
            for (index, warehouse, quantity) in reservations {
                try run(
                    """
                    INSERT INTO reservations (order_id, order_line_id, warehouse_id, sku_id, quantity, status,
                                              decision_id, created_at, closed_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz,
                            CASE WHEN $6 <> 'active' THEN $8::timestamptz + interval '1 day' END)
                    """,
                    [
                        b.orders[order]!, try lineIDs[index].decode(Int.self, at: 0), warehouse,
                        try lineIDs[index].decode(Int.self, at: 1), quantity,
                        order == "O6" ? "active" : order == "O3" ? "released" : "consumed", decision, at(hour),
                    ]
                )
            }
        }

        // Parcels: (name, order, warehouse, status, allocated, picked, packed, shipped, delivered, cost, weight, ship_by, deliver_by)
        let parcels:
            [(String, String, Int, String, Double, Double?, Double?, Double?, Double?, Int?, Int, Double, String)] = [
                ("S1", "O1", a, "delivered", 10, 11, 12, 13, 61, 500, 2000, 15, "2025-03-12"),
                ("S2", "O2", a, "delivered", 10, 12, 13, 34, 106, 500, 1000, 15, "2025-03-12"),
                ("S5a", "O5", a, "delivered", 12, 12.5, 13, 14, 35, 500, 1000, 15, "2025-03-12"),
                ("S5b", "O5", bw, "delivered", 12, 13, 15, 16, 40, 700, 1500, 15, "2025-03-12"),
                ("S6", "O6", a, "picking", 13, nil, nil, nil, nil, nil, 1000, 15, "2025-03-12"),
                ("S7", "O7", bw, "shipped", 34, 35, 36, 37, nil, 650, 1000, 39, "2099-01-01"),
            ]
        for (
            name, order, warehouse, status, allocated, picked, packed, shipped, delivered, cost, weight, shipBy,
            deliverBy
        )
            in parcels
        {
            let labelled = shipped != nil
            let shipmentID = try id(
                """
                INSERT INTO shipments (order_id, warehouse_id, status, carrier_id, service, cost_minor, currency,
                                       weight_grams, created_at, packed_at, shipped_at, delivered_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::timestamptz, $11::timestamptz,
                        $12::timestamptz)
                """,
                [
                    b.orders[order]!, warehouse, status, labelled ? carrierID : nil, labelled ? "parcel" : nil, cost,
                    labelled ? "EUR" : nil, weight, at(allocated), packed.map(at), shipped.map(at), delivered.map(at),
                ]
            )
            b.shipments[name] = shipmentID
            let decision = try connection.query(
                "SELECT min(id) FROM routing_decisions WHERE order_id = $1",
                [b.orders[order]!]
            ).scalar(Int.self)
            try run(
                """
                INSERT INTO delivery_promises (order_id, warehouse_id, decision_id, promised_at, ship_date, ship_by,
                                               deliver_by, carrier, service)
                VALUES ($1, $2, $3, $7::timestamptz, ($4::timestamptz AT TIME ZONE 'UTC')::date, $4::timestamptz,
                        $5::date, $6, 'parcel')
                """,
                [b.orders[order]!, warehouse, decision, at(shipBy), deliverBy, carrier, at(allocated)]
            )
            // One shipment line per order line placed here, with a pick list line.
            let lines = try connection.query(
                "SELECT r.order_line_id, r.sku_id, r.quantity, r.id FROM reservations r WHERE r.order_id = $1 AND r.warehouse_id = $2",
                [b.orders[order]!, warehouse]
            )
            let pickList = try id(
                """
                INSERT INTO pick_lists (warehouse_id, method, status, created_at, completed_at)
                VALUES ($1, 'single', $2, $3::timestamptz, $4::timestamptz)
                """,
                [warehouse, picked == nil ? "open" : "completed", at(allocated), picked.map(at)]
            )
            for row in 0..<lines.count {
                let quantity = try lines[row].decode(Int.self, at: 2)
                let shipmentLine = try id(
                    """
                    INSERT INTO shipment_lines (shipment_id, order_line_id, sku_id, reservation_id, quantity,
                                                quantity_picked, quantity_packed)
                    VALUES ($1, $2, $3, $4, $5, $6, $6)
                    """,
                    [
                        shipmentID, try lines[row].decode(Int.self, at: 0), try lines[row].decode(Int.self, at: 1),
                        try lines[row].decode(Int.self, at: 3), quantity, picked == nil ? 0 : quantity,
                    ]
                )
                try run(
                    """
                    INSERT INTO pick_list_lines (pick_list_id, shipment_line_id, sku_id, walk_sequence, quantity,
                                                 quantity_picked)
                    VALUES ($1, $2, $3, 1, $4, $5)
                    """,
                    [
                        pickList, shipmentLine, try lines[row].decode(Int.self, at: 1), quantity,
                        picked == nil ? 0 : quantity,
                    ]
                )
            }
        }
        try run(
            """
            INSERT INTO claims (order_id, shipment_id, kind, status, opened_by, opened_at)
            VALUES ($1, $2, 'damaged', 'open', 'test', $3::timestamptz)
            """,
            [b.orders["O5"]!, b.shipments["S5a"]!, at(41)]
        )

        // Returns: (order, line, reason, status, qty, refund)
        let returns: [(String, String, String, String, Int, Int)] = [
            ("O1", "O1/X", "size_fit", "cancelled", 1, 0),
            ("O2", "O2/X", "defective", "refunded", 1, 1000),
            ("O5", "O5/X", "not_as_described", "fraud_review", 1, 0),
        ]
        for (order, line, reason, status, quantity, refund) in returns {
            let returnID = try id(
                """
                INSERT INTO returns (rma_number, order_id, status, reason, opened_by, refund_minor, created_at)
                VALUES ($1, $2, $3, $4, 'test', $5, $6::timestamptz)
                """,
                ["RMA-\(tag)-\(order)", b.orders[order]!, status, reason, refund, at(120)]
            )
            try run(
                "INSERT INTO return_lines (return_id, order_line_id, sku_id, quantity) VALUES ($1, $2, $3, $4)",
                [returnID, b.lines[line]!, x, quantity]
            )
        }

        // Cycle counts at A in March 2025: exact, 2 lost, 1 found.
        for (expected, counted, reason) in [(10, 10, nil), (20, 18, "lost"), (5, 6, "found")] as [(Int, Int, String?)] {
            try run(
                """
                INSERT INTO cycle_counts (warehouse_id, sku_id, expected, counted, variance_reason, actor, counted_at)
                VALUES ($1, $2, $3, $4, $5, 'test', $6::timestamptz)
                """,
                [a, x, expected, counted, reason, at(20)]
            )
        }

        // The ledger of X at A relative to now: +100 (400 days ago), then shipping 10, 20 and
        // 14 (200, 60 and 10 days ago) and a count of −6 (5 days ago): 50 on hand.
        for (delta, reason, daysAgo) in [
            (100, "receive", 400), (-10, "ship", 200), (-20, "ship", 60), (-14, "ship", 10), (-6, "count", 5),
        ] {
            try run(
                """
                INSERT INTO inventory_ledger (warehouse_id, sku_id, on_hand_delta, reason, actor, created_at)
                VALUES ($1, $2, $3, $4, 'test', now() - make_interval(days => $5::int))
                """,
                [a, x, delta, reason, daysAgo]
            )
        }
        try run(
            """
            INSERT INTO stock_expectations (warehouse_id, sku_id, reference, quantity, received, expected_on,
                                            created_by, updated_by)
            VALUES ($1, $2, 'PO-1', 30, 10, '2099-02-01', 'test', 'test')
            """,
            [a, x]
        )

        // The job queue, in a queue no worker drains: two due (10 and 5 minutes late), one later, one dead
        // after 3 failed attempts, one completed 10 minutes ago after 1 failure.
        let kind = "analytics_\(tag.lowercased())"
        for (state, runAt, errors, completed) in [
            ("available", "-10 minutes", 0, false), ("retryable", "-5 minutes", 0, false),
            ("scheduled", "+1 hour", 0, false), ("discarded", "-2 hours", 3, true),
            ("completed", "-20 minutes", 1, true),
        ] {
            let errorList = "[" + Array(repeating: "{\"error\": \"boom\"}", count: errors).joined(separator: ",") + "]"
            try run(
                """
                INSERT INTO jobs (queue, kind, state, run_at, errors, completed_at)
                VALUES ($1, $2, $3, now() + $4::interval, $5::jsonb, CASE WHEN $6 THEN now() - interval '10 minutes' END)
                """,
                ["q\(tag.lowercased())", kind, state, runAt, errorList, completed]
            )
        }
        return b
    }
}

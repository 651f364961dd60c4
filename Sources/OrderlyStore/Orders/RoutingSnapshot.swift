public import Foundation
public import LibPQ
public import OrderlyCore

/// What routing reads without locks (step 1 of the reservation protocol): the order's SKUs, every
/// warehouse holding them with its available-to-promise and shipping calendar, the rates to the
/// destination country, and the database's clock (what delivery promises are made from).
public struct RoutingSnapshot: Sendable {
    /// SKU code → catalogue entry, for the SKUs that exist.
    public var catalog: [String: CatalogEntry]
    public var warehouses: [RoutingWarehouse]
    /// Warehouse id → SKU id → units available to promise.
    public var available: [Int64: [Int64: Int64]]
    public var rates: [ShippingRate]
    /// Orderly's clock (`orderly_now()`, the database's now unless simulated) when it was read.
    public var readAt: Date
    /// SKU id → units orders ahead wait for (`BackorderQueue`).
    public var queued: [Int64: Int64]
    /// SKU id → units expected by day (`inbound_stock`).
    public var inbound: [Int64: [ExpectedArrival.Arrival]]

    static let stockQuery = """
        SELECT s.id, s.code, s.weight_grams, s.active,
               w.id AS warehouse_id, w.code AS warehouse_code, w.latitude, w.longitude, w.priority,
               w.active AS warehouse_active, w.ships_to,
               greatest(i.on_hand - i.reserved - i.safety_stock, 0) AS available
        FROM skus s
        LEFT JOIN inventory i ON i.sku_id = s.id
        LEFT JOIN warehouses w ON w.id = i.warehouse_id
        """

    static let rateQuery = """
        SELECT c.code AS carrier, r.service, r.origin_warehouse_id, r.destination_country,
               r.destination_zone, r.min_weight_grams, r.max_weight_grams, r.price_minor, r.transit_days
        FROM shipping_rates r JOIN carriers c ON c.id = r.carrier_id
        WHERE r.active AND c.active
        """

    /// The stock, the rates, the calendars of the warehouses holding the SKUs (once each), the clock
    /// and the queue, sent as one pipeline (one round trip, one implicit transaction, so all see the
    /// same moment).
    /// `ahead`: the queue this order is behind (by default every waiting unit: a new order's).
    public static func query(
        skuCodes: [String],
        country: String,
        ahead: PostgresStatement? = nil
    ) -> PostgresQuery<RoutingSnapshot> {
        let skus: PostgresStatement = "s.code = ANY(\(skuCodes)::text[])"
        return PostgresQuery(
            statements: [
                "\(unescaped: stockQuery)\nWHERE \(skus)",
                "\(unescaped: rateQuery)\nAND r.destination_country = \(country)",
                calendars(of: skus),
                "SELECT orderly_now()",
                ahead ?? BackorderQueue.ahead(skuCodes: skuCodes),
                inbound(of: skus),
            ],
            decode: decode
        )
    }

    /// The same, for an order already stored: its SKUs and its shipping country.
    public static func query(orderID: Int64) -> PostgresQuery<RoutingSnapshot> {
        let skus: PostgresStatement = "s.id IN (SELECT sku_id FROM order_lines WHERE order_id = \(orderID))"
        return PostgresQuery(
            statements: [
                "\(unescaped: stockQuery)\nWHERE \(skus)",
                """
                \(unescaped: rateQuery)
                AND r.destination_country = (SELECT ship_country FROM orders WHERE id = \(orderID))
                """,
                calendars(of: skus),
                "SELECT orderly_now()",
                BackorderQueue.ahead(of: orderID),
                inbound(of: skus),
            ],
            decode: decode
        )
    }

    /// The calendars of the warehouses holding the SKUs `skus` selects (it reads skus as `s`), with
    /// the holidays a promise can reach (`WarehouseCalendar.shipBy` looks two years ahead at most).
    static func calendars(of skus: PostgresStatement) -> PostgresStatement {
        CatalogStore.calendars(
            where: "w.id IN (SELECT i.warehouse_id FROM inventory i JOIN skus s ON s.id = i.sku_id WHERE \(skus))",
            horizonDays: 800
        )
    }

    /// What is expected of the SKUs `skus` selects, by day.
    static func inbound(of skus: PostgresStatement) -> PostgresStatement {
        """
        SELECT b.sku_id, b.expected_on::text, b.units FROM inbound_stock b
        WHERE b.sku_id IN (SELECT s.id FROM skus s WHERE \(skus)) ORDER BY b.sku_id, b.expected_on
        """
    }

    static func decode(_ results: [PostgresRows]) throws -> RoutingSnapshot {
        var snapshot = RoutingSnapshot(
            catalog: [:],
            warehouses: [],
            available: [:],
            rates: [],
            readAt: try results[3].scalar(Date.self),
            queued: try BackorderQueue.decode(results[4]),
            inbound: [:]
        )
        for row in results[5] {
            let (sku, text, units) = try row.decode((Int64, String, Int64).self)
            guard let date = LocalDate(text) else {
                throw PostgresError(code: .decoding, message: "expected_on '\(text)' is not a date")
            }
            snapshot.inbound[sku, default: []].append(ExpectedArrival.Arrival(date: date, units: units))
        }
        let calendars = Dictionary(
            try results[2].map(CatalogStore.calendar),
            uniquingKeysWith: { first, _ in first }
        )
        var seenWarehouses = Set<Int64>()
        for row in results[0] {
            let sku = CatalogEntry(
                id: try row.decode(Int64.self, "id"),
                code: try row.decode(String.self, "code"),
                weightGrams: Int64(try row.decode(Int32.self, "weight_grams")),
                active: try row.decode(Bool.self, "active")
            )
            snapshot.catalog[sku.code] = sku
            guard let warehouseID = try row.decode(Int64?.self, "warehouse_id") else { continue }
            if seenWarehouses.insert(warehouseID).inserted {
                snapshot.warehouses.append(
                    RoutingWarehouse(
                        id: warehouseID,
                        code: try row.decode(String.self, "warehouse_code"),
                        location: GeoPoint(
                            latitude: try row.decode(Double.self, "latitude"),
                            longitude: try row.decode(Double.self, "longitude")
                        ),
                        priority: Int(try row.decode(Int32.self, "priority")),
                        active: try row.decode(Bool.self, "warehouse_active"),
                        shipsTo: Set(try row.decode([String].self, "ships_to")),
                        calendar: calendars[warehouseID] ?? .standard
                    )
                )
            }
            snapshot.available[warehouseID, default: [:]][sku.id] = try row.decode(Int64.self, "available")
        }
        snapshot.rates = try results[1].map { row in
            ShippingRate(
                carrier: try row.decode(String.self, "carrier"),
                service: try row.decode(String.self, "service"),
                originWarehouseID: try row.decode(Int64?.self, "origin_warehouse_id"),
                destinationCountry: try row.decode(String.self, "destination_country"),
                destinationZone: try row.decode(String?.self, "destination_zone"),
                minWeightGrams: Int64(try row.decode(Int32.self, "min_weight_grams")),
                maxWeightGrams: Int64(try row.decode(Int32.self, "max_weight_grams")),
                priceMinor: try row.decode(Int64.self, "price_minor"),
                transitDays: Int(try row.decode(Int32.self, "transit_days"))
            )
        }
        return snapshot
    }
}

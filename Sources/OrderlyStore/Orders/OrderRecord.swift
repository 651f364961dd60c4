import Foundation
import LibPQ
import OrderlyCore

extension OrderRecord {
    static let columns = """
        id, channel, external_id, status, hold_reason, payment_status, currency, subtotal_minor, total_minor,
        cancelled_minor, email, ship_name, ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_country,
        ship_latitude, ship_longitude, billing_country, risk_score, review_requested, routing_strategy,
        service_level, priority
        """

    /// The order `id`, locked (FOR UPDATE) when `lock` says so.
    static func read(_ id: Int64, lock: Bool) -> PostgresStatement {
        "SELECT \(unescaped: columns) FROM orders WHERE id = \(id)\(unescaped: lock ? " FOR UPDATE" : "")"
    }

    /// The lines of order `id`, in line order.
    static func lines(_ id: Int64) -> PostgresStatement {
        """
        SELECT l.id, l.line_no, l.sku_id, s.code, s.weight_grams, l.quantity, l.unit_price_minor,
               l.quantity_reserved, l.quantity_backordered, l.quantity_shipped, l.quantity_cancelled
        FROM order_lines l JOIN skus s ON s.id = l.sku_id
        WHERE l.order_id = \(id) ORDER BY l.line_no
        """
    }

    static func decode(_ row: PostgresRow, lines: PostgresRows) throws -> OrderRecord {
        func parse<T: RawRepresentable<String>>(_ type: T.Type, _ column: String) throws -> T {
            let raw = try row.decode(String.self, column)
            guard let value = T(rawValue: raw) else {
                throw PostgresError(code: .decoding, message: "unknown \(column) '\(raw)'")
            }
            return value
        }
        let latitude = try row.decode(Double?.self, "ship_latitude")
        let longitude = try row.decode(Double?.self, "ship_longitude")
        let currency = try row.decode(String.self, "currency")
        guard let currencyCode = CurrencyCode(currency) else {
            throw PostgresError(code: .decoding, message: "bad currency '\(currency)'")
        }
        return OrderRecord(
            id: try row.decode(Int64.self, "id"),
            channel: try parse(SalesChannel.self, "channel"),
            externalID: try row.decode(String.self, "external_id"),
            status: try parse(OrderStatus.self, "status"),
            holdReason: try row.decode(String?.self, "hold_reason").flatMap(HoldReason.init(rawValue:)),
            paymentStatus: try parse(PaymentStatus.self, "payment_status"),
            currency: currencyCode,
            subtotalMinor: try row.decode(Int64.self, "subtotal_minor"),
            totalMinor: try row.decode(Int64.self, "total_minor"),
            cancelledMinor: try row.decode(Int64.self, "cancelled_minor"),
            shipTo: PostalAddress(
                name: try row.decode(String.self, "ship_name"),
                line1: try row.decode(String.self, "ship_line1"),
                line2: try row.decode(String?.self, "ship_line2"),
                city: try row.decode(String.self, "ship_city"),
                region: try row.decode(String?.self, "ship_region"),
                postalCode: try row.decode(String?.self, "ship_postal_code"),
                country: try row.decode(String.self, "ship_country"),
                location: latitude.flatMap { lat in longitude.map { GeoPoint(latitude: lat, longitude: $0) } }
            ),
            billingCountry: try row.decode(String?.self, "billing_country"),
            email: try row.decode(String?.self, "email"),
            riskScore: try row.decode(Int16?.self, "risk_score").map(Int.init),
            reviewRequested: try row.decode(Bool.self, "review_requested"),
            routingStrategy: try row.decode(String?.self, "routing_strategy"),
            serviceLevel: try row.decode(String?.self, "service_level"),
            priority: try parse(OrderPriority.self, "priority"),
            lines: try lines.map { line in
                OrderLineRecord(
                    id: try line.decode(Int64.self, at: 0),
                    lineNo: Int(try line.decode(Int32.self, at: 1)),
                    skuID: try line.decode(Int64.self, at: 2),
                    skuCode: try line.decode(String.self, at: 3),
                    unitWeightGrams: Int64(try line.decode(Int32.self, at: 4)),
                    quantity: Int64(try line.decode(Int32.self, at: 5)),
                    unitPriceMinor: try line.decode(Int64.self, at: 6),
                    reserved: Int64(try line.decode(Int32.self, at: 7)),
                    backordered: Int64(try line.decode(Int32.self, at: 8)),
                    shipped: Int64(try line.decode(Int32.self, at: 9)),
                    cancelled: Int64(try line.decode(Int32.self, at: 10))
                )
            }
        )
    }
}

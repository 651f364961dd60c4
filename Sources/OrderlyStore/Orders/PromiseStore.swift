public import Foundation
public import LibPQ
public import OrderlyCore

/// The SQL of delivery promises: reading an order's, and the sweep that marks those at risk (the
/// reservation writes them, `OrderStore.reservationCTEs`).
public enum PromiseStore {
    /// The order's promises, by warehouse.
    public static func promises(orderID: Int64) -> PostgresQuery<[PromiseRecord]> {
        .rows(
            """
            SELECT warehouse_id, promised_at, ship_date::text, ship_by, deliver_by::text, carrier, service, at_risk_at
            FROM delivery_promises WHERE order_id = \(orderID) ORDER BY warehouse_id
            """
        ) { row in
            func day(_ text: String) throws -> LocalDate {
                guard let date = LocalDate(text) else {
                    throw PostgresError(code: .decoding, message: "a date '\(text)' that is not YYYY-MM-DD")
                }
                return date
            }
            return PromiseRecord(
                promise: DeliveryPromise(
                    warehouseID: try row.decode(Int64.self, "warehouse_id"),
                    promisedAt: try row.decode(Date.self, "promised_at"),
                    shipDate: try day(row.decode(String.self, "ship_date")),
                    shipBy: try row.decode(Date.self, "ship_by"),
                    deliverBy: try row.decode(String?.self, "deliver_by").map(day),
                    carrier: try row.decode(String?.self, "carrier"),
                    service: try row.decode(String?.self, "service")
                ),
                atRiskAt: try row.decode(Date?.self, "at_risk_at")
            )
        }
    }

    /// An order that is not finished (shipped, delivered, cancelled or returned), for `status`: only
    /// those can miss a promise.
    static func unfinished(_ status: String) -> String {
        "\(status) NOT IN ('shipped', 'delivered', 'cancelled', 'returned', 'partially_returned')"
    }

    /// What "not picked" means for a promise's parcel: the order still holds stock there and no
    /// shipment from there has been picked yet.
    static let notPicked = """
        EXISTS (SELECT 1 FROM reservations r
                WHERE r.order_id = p.order_id AND r.warehouse_id = p.warehouse_id AND r.status = 'active')
        AND NOT EXISTS (SELECT 1 FROM shipments s
                        WHERE s.order_id = p.order_id AND s.warehouse_id = p.warehouse_id
                          AND s.status IN ('picked', 'packed', 'labelled', 'shipped', 'delivered'))
        """

    static let enqueueAlerts = JobQueue.enqueueSQL(
        Jobs.PromiseAtRisk.self,
        argsSQL: """
            array_agg(jsonb_build_object('order_id', order_id, 'warehouse_id', warehouse_id) \
            ORDER BY order_id, warehouse_id)
            """,
        keysSQL: """
            array_agg('promise_at_risk:order:' || order_id || ':warehouse:' || warehouse_id \
            ORDER BY order_id, warehouse_id)
            """
    )

    /// Marks at risk, once, up to `limit` promises whose ship-by is before `asOf` (the database's
    /// clock when nil) with their parcel not picked and their order not finished, and enqueues a
    /// `promise_at_risk` alert for each, in one statement. Promises another sweep is marking are
    /// skipped. Row: how many were marked.
    public static func markAtRisk(asOf: Date?, limit: Int) -> PostgresQuery<Int64> {
        .scalar(
            """
            WITH due AS (
                SELECT p.order_id, p.warehouse_id
                FROM delivery_promises p JOIN orders o ON o.id = p.order_id
                WHERE p.at_risk_at IS NULL AND p.ship_by < coalesce(\(asOf)::timestamptz, orderly_now())
                  AND \(unescaped: unfinished("o.status")) AND \(unescaped: notPicked)
                ORDER BY p.ship_by
                LIMIT \(Int64(limit))
                FOR UPDATE OF p SKIP LOCKED
            ), marked AS (
                UPDATE delivery_promises p SET at_risk_at = orderly_now()
                FROM due WHERE p.order_id = due.order_id AND p.warehouse_id = due.warehouse_id
                RETURNING p.order_id, p.warehouse_id
            ), alert AS (
                SELECT \(unescaped: enqueueAlerts) FROM marked
            )
            SELECT count(*) FROM marked WHERE (SELECT count(*) FROM alert) >= 0
            """
        )
    }

    /// The operations alert for an at-risk promise, once per order and warehouse (its dedupe key);
    /// nothing if the parcel was picked (or the order finished) since it was marked.
    public static func atRiskAlert(
        orderID: Int64,
        warehouseID: Int64,
        recipient: String,
        channel: String
    ) -> PostgresStatement {
        """
        INSERT INTO notifications (order_id, kind, channel, recipient, subject, body, dedupe_key)
        SELECT p.order_id, 'promise_at_risk', \(channel), \(recipient),
               'Promise at risk: order ' || o.external_id || ' at ' || w.code,
               'Order ' || p.order_id || ' (' || o.channel || ' ' || o.external_id || ') was promised to leave '
                   || w.code || ' by ' || to_char(p.ship_by AT TIME ZONE w.time_zone, 'YYYY-MM-DD HH24:MI')
                   || ' ' || w.time_zone || coalesce(' and arrive by ' || p.deliver_by, '')
                   || ', and is not picked yet.',
               'promise_at_risk:order:' || p.order_id || ':warehouse:' || p.warehouse_id
        FROM delivery_promises p JOIN orders o ON o.id = p.order_id JOIN warehouses w ON w.id = p.warehouse_id
        WHERE p.order_id = \(orderID) AND p.warehouse_id = \(warehouseID) AND p.at_risk_at IS NOT NULL
          AND \(unescaped: unfinished("o.status")) AND \(unescaped: notPicked)
        ON CONFLICT (dedupe_key) DO NOTHING
        """
    }
}

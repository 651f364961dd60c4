public import LibPQ
public import OrderlyCore

/// The SQL behind the admin protocol's listing and job commands. Each is one statement; rows come
/// back as (column, text or integer) pairs for the reply writer, in the order the SELECT names them.
public enum AdminQueries {

    /// Reads every column of every row by its type: int2/4/8 as integers, bool as flags, the rest as text.
    public static func rows(_ result: PostgresRows) throws -> [ReportRow] {
        try result.map { row in
            try result.columns.enumerated().map { index, column in
                if try row.isNull(at: index) { return (column.name, .null) }
                switch column.type {
                case PostgresType.int2: return (column.name, .int(Int64(try row.decode(Int16.self, at: index))))
                case PostgresType.int4: return (column.name, .int(Int64(try row.decode(Int32.self, at: index))))
                case PostgresType.int8: return (column.name, .int(try row.decode(Int64.self, at: index)))
                case PostgresType.bool: return (column.name, .bool(try row.decode(Bool.self, at: index)))
                default: return (column.name, .text(try row.rawText(at: index)))
                }
            }
        }
    }

    public static func warehouses(_ connection: PostgresConnection) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT id, code, name, latitude::text, longitude::text, city, country, priority, active, pick_method,
                       array_to_string(ships_to, ',') AS ships_to
                FROM warehouses ORDER BY id
                """
            )
        )
    }

    /// SKUs whose code starts with `prefix` (compared as text, not a pattern), by code.
    public static func skus(_ connection: PostgresConnection, prefix: String, limit: Int64) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT id, code, name, weight_grams AS weight_g, length_mm, width_mm, height_mm, active FROM skus
                WHERE left(code, length(\(same: prefix))) = \(same: prefix) ORDER BY code LIMIT \(limit)
                """ as PostgresStatement
            )
        )
    }

    public static func addRate(
        _ connection: PostgresConnection,
        carrier: String,
        service: String,
        country: String,
        zone: String?,
        origin: Int64?,
        minGrams: Int64,
        maxGrams: Int64,
        priceMinor: Int64,
        currency: String,
        transitDays: Int64
    ) throws -> (id: Int64, carrier: String, service: String) {
        guard maxGrams > minGrams else { throw OrderlyError(.badArgument, "max_g must be above min_g") }
        guard CurrencyCode(currency) != nil else {
            throw OrderlyError(.badArgument, "currency '\(currency)' is not ISO 4217")
        }
        let (carrier, service) = (carrierCode(carrier), serviceName(service))
        do {
            let id = try connection.query(
                """
                WITH carrier AS (
                    INSERT INTO carriers (code, name, tracking_prefix) VALUES (\(same: carrier), \(same: carrier), upper(left(\(same: carrier) || 'XX', 2)))
                    ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code
                    RETURNING id
                )
                INSERT INTO shipping_rates (carrier_id, service, origin_warehouse_id, destination_country,
                    destination_zone, min_weight_grams, max_weight_grams, price_minor, currency, transit_days)
                SELECT id, \(service), \(origin), \(country), \(zone), \(minGrams), \(maxGrams), \(priceMinor), \(currency), \(transitDays) FROM carrier
                RETURNING id
                """ as PostgresStatement
            ).scalar(Int64.self)
            return (id, carrier, service)
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            throw OrderlyError(
                .notFound,
                "warehouse \(origin.map(String.init) ?? "?") does not exist (WAREHOUSE LIST shows them)"
            )
        } catch let error as PostgresError where error.code == .checkViolation {
            throw OrderlyError(.badArgument, "the rate breaks \(error.constraint ?? "a check"): \(error.message)")
        }
    }

    /// Carrier codes and service names are case-insensitive: codes are stored upper-case (as the
    /// `carriers` CHECK wants, like every other code), services lower-case; RATE ADD echoes both.
    static func carrierCode(_ text: String) -> String { text.uppercased() }
    static func serviceName(_ text: String) -> String { text.lowercased() }

    public static func rates(_ connection: PostgresConnection, country: String?) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT r.id, c.code AS carrier, r.service, r.destination_country AS country, r.destination_zone AS zone,
                       r.origin_warehouse_id AS origin, r.min_weight_grams AS min_g, r.max_weight_grams AS max_g,
                       r.price_minor AS price, r.currency, r.transit_days AS days
                FROM shipping_rates r JOIN carriers c ON c.id = r.carrier_id
                WHERE r.active AND (\(same: country)::text IS NULL OR r.destination_country = \(same: country))
                ORDER BY r.destination_country, r.min_weight_grams, r.price_minor, r.id
                """ as PostgresStatement
            )
        )
    }

    /// Orders newest first, keyset-paged by id.
    public static func orders(
        _ connection: PostgresConnection,
        status: String?,
        channel: String?,
        atRisk: Bool?,
        before: Int64?,
        limit: Int64
    ) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT id, channel, external_id, status, hold_reason, payment_status, currency, total_minor,
                       to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS placed_at
                FROM orders
                WHERE (\(same: status)::text IS NULL OR status = \(same: status)) AND (\(same: channel)::text IS NULL OR channel = \(same: channel))
                  AND (\(same: before)::int8 IS NULL OR id < \(same: before))
                  AND (\(same: atRisk)::bool IS NULL OR \(same: atRisk) = (
                      \(unescaped: PromiseStore.unfinished("status"))
                      AND EXISTS (SELECT 1 FROM delivery_promises p WHERE p.order_id = orders.id AND p.at_risk_at IS NOT NULL)))
                ORDER BY id DESC LIMIT \(limit)
                """ as PostgresStatement
            )
        )
    }

    public static func shipments(
        _ connection: PostgresConnection,
        order: Int64?,
        status: String?,
        limit: Int64
    ) throws
        -> [ReportRow]
    {
        try rows(
            connection.query(
                """
                \(unescaped: shipmentSelect)
                WHERE (\(same: order)::int8 IS NULL OR s.order_id = \(same: order)) AND (\(same: status)::text IS NULL OR s.status = \(same: status))
                ORDER BY s.id DESC LIMIT \(limit)
                """ as PostgresStatement
            )
        )
    }

    static let shipmentSelect = """
        SELECT s.id, s.order_id, s.warehouse_id, s.status, c.code AS carrier, s.service, s.tracking_number,
               s.weight_grams, s.cost_minor, s.currency
        FROM shipments s LEFT JOIN carriers c ON c.id = s.carrier_id
        """

    /// The shipment (first row) and its lines (the rest); NOT_FOUND if it does not exist.
    public static func shipment(_ connection: PostgresConnection, id: Int64) throws -> [ReportRow] {
        let shipment = try rows(
            connection.query("\(unescaped: shipmentSelect)\nWHERE s.id = \(id)" as PostgresStatement)
        )
        guard !shipment.isEmpty else { throw OrderlyError(.notFound, "shipment \(id) does not exist") }
        let lines = try rows(
            connection.query(
                """
                SELECT sl.order_line_id AS line, k.code AS sku, sl.quantity AS qty, sl.quantity_picked AS picked,
                       sl.quantity_packed AS packed
                FROM shipment_lines sl JOIN skus k ON k.id = sl.sku_id WHERE sl.shipment_id = \(id) ORDER BY sl.id
                """ as PostgresStatement
            )
        )
        return shipment + lines
    }

    public static func pickLists(
        _ connection: PostgresConnection,
        warehouse: Int64?,
        status: String?,
        id: Int64? = nil,
        limit: Int
    ) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT p.id, w.code AS warehouse, p.method, p.zone, p.status,
                       (SELECT count(DISTINCT sl.shipment_id) FROM pick_list_lines pl
                        JOIN shipment_lines sl ON sl.id = pl.shipment_line_id WHERE pl.pick_list_id = p.id) AS shipments,
                       (SELECT coalesce(sum(quantity), 0) FROM pick_list_lines WHERE pick_list_id = p.id)::int8 AS units,
                       to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at
                FROM pick_lists p JOIN warehouses w ON w.id = p.warehouse_id
                WHERE (\(same: warehouse)::int8 IS NULL OR p.warehouse_id = \(same: warehouse)) AND (\(same: status)::text IS NULL OR p.status = \(same: status))
                  AND (\(same: id)::int8 IS NULL OR p.id = \(same: id))
                ORDER BY p.id DESC LIMIT \(Int64(limit))
                """ as PostgresStatement
            )
        )
    }

    /// The list, then its lines in walk order.
    public static func pickList(_ connection: PostgresConnection, id: Int64) throws -> [ReportRow] {
        let list = try pickLists(connection, warehouse: nil, status: nil, id: id, limit: 1)
        guard !list.isEmpty else { throw OrderlyError(.notFound, "pick list \(id) does not exist") }
        let lines = try rows(
            connection.query(
                """
                SELECT pl.walk_sequence AS seq, pl.bin_location AS bin, k.code AS sku, pl.quantity AS qty,
                       pl.quantity_picked AS picked, sl.shipment_id AS shipment
                FROM pick_list_lines pl
                JOIN shipment_lines sl ON sl.id = pl.shipment_line_id
                JOIN skus k ON k.id = pl.sku_id
                WHERE pl.pick_list_id = \(id) AND pl.quantity > 0 ORDER BY pl.walk_sequence, pl.id
                """ as PostgresStatement
            )
        )
        return list + lines
    }

    /// Claims on parcels that went wrong, newest first.
    public static func claims(
        _ connection: PostgresConnection,
        order: Int64?,
        status: String?,
        limit: Int
    ) throws
        -> [ReportRow]
    {
        try rows(
            connection.query(
                """
                SELECT c.id, c.order_id AS "order", c.shipment_id AS shipment, s.tracking_number AS tracking, c.kind,
                       c.status, c.resolution, c.units, c.refund_minor, c.note, c.opened_by,
                       to_char(c.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS opened_at, c.resolved_by,
                       to_char(c.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS resolved_at
                FROM claims c JOIN shipments s ON s.id = c.shipment_id
                WHERE (\(same: order)::int8 IS NULL OR c.order_id = \(same: order))
                  AND (\(same: status)::text IS NULL OR c.status = \(same: status))
                ORDER BY c.id DESC LIMIT \(Int64(limit))
                """ as PostgresStatement
            )
        )
    }

    /// Returns, newest first, with their money.
    public static func returns(
        _ connection: PostgresConnection,
        order: Int64?,
        status: String?,
        id: Int64?,
        limit: Int
    ) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT r.id, r.rma_number AS rma, r.order_id AS "order", r.status, r.reason, r.note, w.code AS warehouse,
                       r.tracking_number AS tracking, (SELECT sum(quantity) FROM return_lines WHERE return_id = r.id)::int8 AS units,
                       r.refund_minor, r.restocking_fee_minor, r.opened_by,
                       to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS opened_at
                FROM returns r LEFT JOIN warehouses w ON w.id = r.warehouse_id
                WHERE (\(same: order)::int8 IS NULL OR r.order_id = \(same: order))
                  AND (\(same: status)::text IS NULL OR r.status = \(same: status))
                  AND (\(same: id)::int8 IS NULL OR r.id = \(same: id))
                ORDER BY r.id DESC LIMIT \(Int64(limit))
                """ as PostgresStatement
            )
        )
    }

    /// A return, then a row per line, then a row per inspection.
    public static func returned(_ connection: PostgresConnection, id: Int64) throws -> [ReportRow] {
        let head = try returns(connection, order: nil, status: nil, id: id, limit: 1)
        guard !head.isEmpty else { throw OrderlyError(.notFound, "return \(id) does not exist") }
        let lines = try rows(
            connection.query(
                """
                SELECT 'line' AS entry, k.code AS sku, rl.quantity AS qty, NULL::text AS condition,
                       NULL::text AS disposition, NULL::text AS serial, l.unit_price_minor AS price
                FROM return_lines rl JOIN skus k ON k.id = rl.sku_id JOIN order_lines l ON l.id = rl.order_line_id
                WHERE rl.return_id = \(same: id)
                UNION ALL
                SELECT 'inspection', k.code, i.quantity, i.condition, i.disposition, i.serial, NULL
                FROM return_inspections i JOIN return_lines rl ON rl.id = i.return_line_id JOIN skus k ON k.id = rl.sku_id
                WHERE i.return_id = \(same: id)
                ORDER BY 1 DESC, 2
                """ as PostgresStatement
            )
        )
        return head + lines
    }

    /// Put-back tasks, newest first: units cancelled after a picker or packer took them.
    public static func putBacks(
        _ connection: PostgresConnection,
        warehouse: Int64?,
        order: Int64?,
        status: String?,
        limit: Int
    ) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT b.id, w.code AS warehouse, k.code AS sku, b.bin_location AS bin, b.quantity AS qty,
                       b.source, b.order_id AS "order", b.shipment_id AS shipment, b.pick_list_id AS pick_list,
                       b.status, to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
                       b.done_by
                FROM put_backs b JOIN warehouses w ON w.id = b.warehouse_id JOIN skus k ON k.id = b.sku_id
                WHERE (\(same: warehouse)::int8 IS NULL OR b.warehouse_id = \(same: warehouse))
                  AND (\(same: order)::int8 IS NULL OR b.order_id = \(same: order))
                  AND (\(same: status)::text IS NULL OR b.status = \(same: status))
                ORDER BY b.id DESC LIMIT \(Int64(limit))
                """ as PostgresStatement
            )
        )
    }

    /// Everything that happened to an order, oldest first: its events, its shipments' milestones, its
    /// jobs (with their state and last error) and its notifications. Empty for an order that does not
    /// exist (`OrderStore.waitFacts`, read with it, says which).
    public static func timeline(orderID: Int64) -> PostgresQuery<[ReportRow]> {
        PostgresQuery(
            """
            SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, source, what, detail
            FROM (
                SELECT created_at AS at, 'event' AS source, 1 AS rank, id,
                       event || ': ' || coalesce(from_status, '-') || ' -> ' || to_status AS what,
                       coalesce(reason || ' ', '') || '(' || actor || ')' AS detail
                FROM order_events WHERE order_id = \(same: orderID)
                UNION ALL
                SELECT m.at, 'shipment', 2, s.id, 'shipment ' || s.id || ' ' || m.what,
                       CASE m.what WHEN 'created' THEN 'warehouse ' || w.code
                                   WHEN 'packed' THEN coalesce(s.weight_grams || ' g', '')
                                   WHEN 'shipped' THEN coalesce(c.code || ' ' || s.service || ' ', '')
                                                       || coalesce(s.tracking_number, '')
                                   ELSE '' END
                FROM shipments s JOIN warehouses w ON w.id = s.warehouse_id
                LEFT JOIN carriers c ON c.id = s.carrier_id
                CROSS JOIN LATERAL (VALUES ('created', s.created_at), ('packed', s.packed_at),
                                           ('shipped', s.shipped_at), ('delivered', s.delivered_at),
                                           ('handed over', s.handed_over_at),
                                           (s.status, CASE WHEN s.status IN ('delayed', 'lost', 'damaged', 'returned',
                                                                             'cancelled')
                                                           THEN s.updated_at END)) AS m(what, at)
                WHERE s.order_id = \(same: orderID) AND m.at IS NOT NULL
                UNION ALL
                SELECT created_at, 'job', 3, id, kind || ' job ' || id || ': ' || state,
                       'attempt ' || attempt || '/' || max_attempts || coalesce(' by ' || attempted_by, '')
                           || coalesce(', last error: ' || last_error, '')
                FROM jobs WHERE args ? 'order_id' AND (args->>'order_id')::bigint = \(same: orderID)
                UNION ALL
                SELECT created_at, 'notification', 4, id, kind || ' to ' || recipient, status
                       || coalesce(' at ' || to_char(sent_at AT TIME ZONE 'UTC', 'HH24:MI:SS'), '')
                FROM notifications WHERE order_id = \(same: orderID)
                UNION ALL
                SELECT m.at, 'claim', 5, c.id, 'claim ' || c.id || ' on shipment ' || c.shipment_id || ' ' || m.what,
                       CASE m.what WHEN 'opened' THEN c.kind || ' (' || c.opened_by || ')'
                            ELSE c.resolution || ': ' || c.units || ' units' || coalesce(', refund ' || nullif(c.refund_minor, 0), '')
                                 || coalesce(' — ' || c.note, '') || ' (' || c.resolved_by || ')' END
                FROM claims c CROSS JOIN LATERAL (VALUES ('opened', c.opened_at), ('resolved', c.resolved_at)) AS m(what, at)
                WHERE c.order_id = \(same: orderID) AND m.at IS NOT NULL
                UNION ALL
                SELECT b.created_at, 'put_back', 6, b.id,
                       'put back ' || b.quantity || ' × ' || k.code || coalesce(' to ' || b.bin_location, ''),
                       b.source || ', shipment ' || b.shipment_id || ', ' || b.status || coalesce(' by ' || b.done_by, '')
                FROM put_backs b JOIN skus k ON k.id = b.sku_id WHERE b.order_id = \(same: orderID)
                UNION ALL
                SELECT m.at, 'return', 7, r.id, 'return ' || r.rma_number || ' ' || m.what,
                       CASE m.what WHEN 'opened' THEN r.reason || coalesce(', tracking ' || r.tracking_number, '')
                                   WHEN 'refunded' THEN r.refund_minor || ' (fee ' || r.restocking_fee_minor || ')'
                                   ELSE '' END
                FROM returns r CROSS JOIN LATERAL (VALUES ('opened', r.created_at), ('received', r.received_at),
                                                          ('inspected', r.inspected_at), ('refunded', r.refunded_at)) AS m(what, at)
                WHERE r.order_id = \(same: orderID) AND m.at IS NOT NULL
            ) t
            ORDER BY t.at, t.rank, t.id
            """,
            decode: rows
        )
    }

    public static func notifications(
        _ connection: PostgresConnection,
        order: Int64?,
        status: String?,
        limit: Int
    ) throws
        -> [ReportRow]
    {
        try rows(
            connection.query(
                """
                SELECT id, order_id AS "order", kind, channel, recipient, status, attempts, last_error AS error,
                       subject,
                       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
                       to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS sent_at
                FROM notifications
                WHERE (\(same: order)::int8 IS NULL OR order_id = \(same: order)) AND (\(same: status)::text IS NULL OR status = \(same: status))
                ORDER BY id DESC LIMIT \(Int64(limit))
                """ as PostgresStatement
            )
        )
    }

    static let resendJob = JobQueue.enqueueSQL(
        Jobs.Notify.self,
        argsSQL: """
            array_agg(jsonb_build_object('notification_id', id) \
            || CASE WHEN order_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('order_id', order_id) END)
            """,
        keysSQL: "array_agg('notify:' || id)"
    )

    /// Sends a failed notification again: pending, with a new notify job. Returns its status.
    public static func resendNotification(_ connection: PostgresConnection, id: Int64) throws -> String {
        let rows = try connection.query(
            """
            WITH again AS (
                UPDATE notifications SET status = 'pending', last_error = NULL
                WHERE id = \(id) AND status = 'failed'
                RETURNING id, order_id
            ), job AS (
                SELECT \(unescaped: resendJob) FROM again
            )
            SELECT 'pending' FROM again WHERE (SELECT count(*) FROM job) >= 0
            """ as PostgresStatement
        )
        if let row = rows.first { return try row.decode(String.self, at: 0) }
        let current = try connection.query("SELECT status FROM notifications WHERE id = \(id)" as PostgresStatement)
        guard let status = try current.first?.decode(String.self, at: 0) else {
            throw OrderlyError(.notFound, "notification \(id) does not exist")
        }
        throw OrderlyError(.conflict, "notification \(id) is \(status); only a failed one is sent again")
    }

    public static func jobStats(_ connection: PostgresConnection) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                WITH drained AS (
                    SELECT q.queue, count(*) FILTER (WHERE w.state = 'running') AS workers,
                           count(*) FILTER (WHERE w.state = 'dead') AS dead_workers
                    FROM (SELECT queues, \(unescaped: workerState) AS state FROM worker_processes) w
                    CROSS JOIN LATERAL unnest(w.queues) AS q(queue)
                    GROUP BY q.queue
                )
                SELECT j.queue, j.state, count(*) AS jobs,
                       to_char(min(j.run_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS oldest_run_at,
                       coalesce(max(d.workers), 0) AS workers, coalesce(max(d.dead_workers), 0) AS dead_workers
                FROM jobs j LEFT JOIN drained d ON d.queue = j.queue
                GROUP BY j.queue, j.state ORDER BY j.queue, j.state
                """ as PostgresStatement
            )
        )
    }

    /// A worker's state: `running` (beat within three heartbeats), `dead` (silent for longer: killed,
    /// hung, or cut off), `stopped` (shut down cleanly).
    static let workerState = """
        CASE WHEN stopped_at IS NOT NULL THEN 'stopped'
             WHEN last_seen_at < now() - make_interval(secs => 3 * heartbeat_seconds) THEN 'dead'
             ELSE 'running' END
        """

    /// `WORKER LIST`: every worker process with a row, newest first.
    public static func workers(_ connection: PostgresConnection) throws -> [ReportRow] {
        try rows(
            connection.query(
                """
                SELECT id, host, pid, array_to_string(queues, ',') AS queues, concurrency, jobs_running,
                       \(unescaped: workerState) AS state,
                       to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started_at,
                       to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_seen_at,
                       round(extract(epoch FROM now() - last_seen_at)::numeric, 1)::text AS silent_s
                FROM worker_processes ORDER BY started_at DESC, id
                """ as PostgresStatement
            )
        )
    }

    public static func jobs(
        _ connection: PostgresConnection,
        state: String?,
        kind: String?,
        limit: Int64
    ) throws
        -> [ReportRow]
    {
        try rows(
            connection.query(
                """
                SELECT id, queue, kind, state, attempt, max_attempts, priority, args::text AS args,
                       to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS run_at, last_error
                FROM jobs
                WHERE (\(same: state)::text IS NULL OR state = \(same: state)) AND (\(same: kind)::text IS NULL OR kind = \(same: kind))
                ORDER BY id DESC LIMIT \(limit)
                """ as PostgresStatement
            )
        )
    }

    /// Makes a discarded, retryable or scheduled job available now. Returns its new state.
    public static func retryJob(_ connection: PostgresConnection, id: Int64) throws -> String {
        let rows = try connection.query(
            """
            UPDATE jobs SET state = 'available', run_at = now(),
                max_attempts = greatest(max_attempts, attempt + 1), completed_at = NULL
            WHERE id = \(id) AND state IN ('discarded', 'retryable', 'scheduled', 'cancelled')
            RETURNING state
            """ as PostgresStatement
        )
        if let row = rows.first { return try row.decode(String.self, at: 0) }
        try explainJob(connection, id: id, action: "retried")
    }

    /// Discards a job that has not completed (a running job keeps running; its lease decides).
    public static func discardJob(_ connection: PostgresConnection, id: Int64) throws -> String {
        let rows = try connection.query(
            """
            UPDATE jobs SET state = 'discarded', completed_at = now()
            WHERE id = \(id) AND state IN ('available', 'scheduled', 'retryable')
            RETURNING state
            """ as PostgresStatement
        )
        if let row = rows.first { return try row.decode(String.self, at: 0) }
        try explainJob(connection, id: id, action: "discarded")
    }

    private static func explainJob(_ connection: PostgresConnection, id: Int64, action: String) throws -> Never {
        let rows = try connection.query("SELECT state FROM jobs WHERE id = \(id)" as PostgresStatement)
        guard let row = rows.first else { throw OrderlyError(.notFound, "job \(id) does not exist") }
        throw OrderlyError(.conflict, "job \(id) is \(try row.decode(String.self, at: 0)) and cannot be \(action)")
    }
}

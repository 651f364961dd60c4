import LibPQ
import OrderlyCore

/// The SQL behind the admin protocol's listing and job commands. Each is one statement; rows come
/// back as (column, text or integer) pairs for the reply writer, in the order the SELECT names them.
public enum AdminQueries {
    /// A row as the admin protocol prints it.
    public typealias Row = [(String, AdminCell)]

    /// One cell: text, an integer, a flag, or NULL.
    public enum AdminCell: Sendable, Hashable {
        case text(String)
        case int(Int64)
        case bool(Bool)
        case null
    }

    /// Reads every column of every row by its type: int2/4/8 as integers, bool as flags, the rest as text.
    public static func rows(_ result: PostgresRows) throws -> [Row] {
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

    public static func warehouses(_ connection: PostgresConnection) throws -> [Row] {
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
    public static func skus(_ connection: PostgresConnection, prefix: String, limit: Int64) throws -> [Row] {
        try rows(
            connection.query(
                """
                SELECT id, code, name, weight_grams, length_mm, width_mm, height_mm, active FROM skus
                WHERE left(code, length($1)) = $1 ORDER BY code LIMIT $2
                """,
                [prefix, limit]
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
    ) throws -> Int64 {
        guard maxGrams > minGrams else { throw OrderlyError(.badArgument, "max_g must be above min_g") }
        guard CurrencyCode(currency) != nil else {
            throw OrderlyError(.badArgument, "currency '\(currency)' is not ISO 4217")
        }
        do {
            return try connection.query(
                """
                WITH carrier AS (
                    INSERT INTO carriers (code, name, tracking_prefix) VALUES ($1, $1, upper(left($1 || 'XX', 2)))
                    ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code
                    RETURNING id
                )
                INSERT INTO shipping_rates (carrier_id, service, origin_warehouse_id, destination_country,
                    destination_zone, min_weight_grams, max_weight_grams, price_minor, currency, transit_days)
                SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM carrier
                RETURNING id
                """,
                [
                    carrier.uppercased(), service.lowercased(), origin, country, zone, minGrams, maxGrams, priceMinor,
                    currency, transitDays,
                ]
            ).scalar(Int64.self)
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            throw OrderlyError(.notFound, "warehouse \(origin.map(String.init) ?? "?") does not exist")
        } catch let error as PostgresError where error.code == .checkViolation {
            throw OrderlyError(.badArgument, "the rate breaks \(error.constraint ?? "a check"): \(error.message)")
        }
    }

    public static func rates(_ connection: PostgresConnection, country: String?) throws -> [Row] {
        try rows(
            connection.query(
                """
                SELECT r.id, c.code AS carrier, r.service, r.destination_country AS country, r.destination_zone AS zone,
                       r.origin_warehouse_id AS origin, r.min_weight_grams AS min_g, r.max_weight_grams AS max_g,
                       r.price_minor AS price, r.currency, r.transit_days AS days
                FROM shipping_rates r JOIN carriers c ON c.id = r.carrier_id
                WHERE r.active AND ($1::text IS NULL OR r.destination_country = $1)
                ORDER BY r.destination_country, r.min_weight_grams, r.price_minor, r.id
                """,
                [country]
            )
        )
    }

    /// Orders newest first, keyset-paged by id.
    public static func orders(
        _ connection: PostgresConnection,
        status: String?,
        channel: String?,
        before: Int64?,
        limit: Int64
    ) throws -> [Row] {
        try rows(
            connection.query(
                """
                SELECT id, channel, external_id, status, hold_reason, payment_status, currency, total_minor,
                       to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS placed_at
                FROM orders
                WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)
                  AND ($3::int8 IS NULL OR id < $3)
                ORDER BY id DESC LIMIT $4
                """,
                [status, channel, before, limit]
            )
        )
    }

    public static func shipments(
        _ connection: PostgresConnection,
        order: Int64?,
        status: String?,
        limit: Int64
    ) throws
        -> [Row]
    {
        try rows(
            connection.query(
                shipmentSelect + "\nWHERE ($1::int8 IS NULL OR s.order_id = $1) AND ($2::text IS NULL OR s.status = $2)"
                    + "\nORDER BY s.id DESC LIMIT $3",
                [order, status, limit]
            )
        )
    }

    static let shipmentSelect = """
        SELECT s.id, s.order_id, s.warehouse_id, s.status, c.code AS carrier, s.service, s.tracking_number,
               s.weight_grams, s.cost_minor, s.currency
        FROM shipments s LEFT JOIN carriers c ON c.id = s.carrier_id
        """

    /// The shipment (first row) and its lines (the rest); NOT_FOUND if it does not exist.
    public static func shipment(_ connection: PostgresConnection, id: Int64) throws -> [Row] {
        let shipment = try rows(connection.query(shipmentSelect + "\nWHERE s.id = $1", [id]))
        guard !shipment.isEmpty else { throw OrderlyError(.notFound, "shipment \(id) does not exist") }
        let lines = try rows(
            connection.query(
                """
                SELECT sl.order_line_id AS line, k.code AS sku, sl.quantity AS qty, sl.quantity_picked AS picked,
                       sl.quantity_packed AS packed
                FROM shipment_lines sl JOIN skus k ON k.id = sl.sku_id WHERE sl.shipment_id = $1 ORDER BY sl.id
                """,
                [id]
            )
        )
        return shipment + lines
    }

    public static func jobStats(_ connection: PostgresConnection) throws -> [Row] {
        try rows(
            connection.query(
                """
                SELECT queue, state, count(*) AS jobs,
                       to_char(min(run_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS oldest_run_at
                FROM jobs GROUP BY queue, state ORDER BY queue, state
                """
            )
        )
    }

    public static func jobs(
        _ connection: PostgresConnection,
        state: String?,
        kind: String?,
        limit: Int64
    ) throws
        -> [Row]
    {
        try rows(
            connection.query(
                """
                SELECT id, queue, kind, state, attempt, max_attempts, priority, args::text AS args,
                       to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS run_at, last_error
                FROM jobs
                WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)
                ORDER BY id DESC LIMIT $3
                """,
                [state, kind, limit]
            )
        )
    }

    /// Makes a discarded, retryable or scheduled job available now. Returns its new state.
    public static func retryJob(_ connection: PostgresConnection, id: Int64) throws -> String {
        let rows = try connection.query(
            """
            UPDATE jobs SET state = 'available', run_at = now(),
                max_attempts = greatest(max_attempts, attempt + 1), completed_at = NULL
            WHERE id = $1 AND state IN ('discarded', 'retryable', 'scheduled', 'cancelled')
            RETURNING state
            """,
            [id]
        )
        if let row = rows.first { return try row.decode(String.self, at: 0) }
        try explainJob(connection, id: id, action: "retried")
    }

    /// Discards a job that has not completed (a running job keeps running; its lease decides).
    public static func discardJob(_ connection: PostgresConnection, id: Int64) throws -> String {
        let rows = try connection.query(
            """
            UPDATE jobs SET state = 'discarded', completed_at = now()
            WHERE id = $1 AND state IN ('available', 'scheduled', 'retryable')
            RETURNING state
            """,
            [id]
        )
        if let row = rows.first { return try row.decode(String.self, at: 0) }
        try explainJob(connection, id: id, action: "discarded")
    }

    private static func explainJob(_ connection: PostgresConnection, id: Int64, action: String) throws -> Never {
        let rows = try connection.query("SELECT state FROM jobs WHERE id = $1", [id])
        guard let row = rows.first else { throw OrderlyError(.notFound, "job \(id) does not exist") }
        throw OrderlyError(.conflict, "job \(id) is \(try row.decode(String.self, at: 0)) and cannot be \(action)")
    }
}

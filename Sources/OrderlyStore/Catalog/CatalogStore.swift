public import LibPQ
public import OrderlyCore

/// Warehouses and SKUs. The schema's CHECKs validate codes and ranges; a duplicate code is a
/// `UNIQUE_VIOLATION` from the database, reported as CONFLICT.
public enum CatalogStore {
    public static func createWarehouse(_ connection: PostgresConnection, _ warehouse: NewWarehouse) throws -> Int64 {
        try mapConflicts("warehouse \(warehouse.code)") {
            let w = warehouse
            return try connection.run(
                .scalar(
                    """
                    INSERT INTO warehouses
                        (code, name, latitude, longitude, address_line1, city, country, priority, pick_method, ships_to)
                    VALUES (\(w.code), \(w.name), \(w.location.latitude), \(w.location.longitude), \(w.addressLine1),
                            \(w.city), \(w.country), \(w.priority), \(w.pickMethod), \(w.shipsTo))
                    RETURNING id
                    """
                )
            )
        }
    }

    public static func createSKU(_ connection: PostgresConnection, _ sku: NewSKU) throws -> Int64 {
        try mapConflicts("SKU \(sku.code)") {
            let size = sku.dimensionsMillimetres
            return try connection.run(
                .scalar(
                    """
                    INSERT INTO skus (code, name, weight_grams, length_mm, width_mm, height_mm, serial_tracked)
                    VALUES (\(sku.code), \(sku.name), \(sku.weightGrams), \(size.length), \(size.width), \(size.height),
                            \(sku.serialTracked))
                    RETURNING id
                    """
                )
            )
        }
    }

    private static func mapConflicts<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw OrderlyError(.conflict, "\(what) already exists")
        } catch let error as PostgresError where error.code == .checkViolation {
            throw OrderlyError(.badArgument, "\(what): \(error.constraint ?? "a check") refused the values")
        }
    }
}

extension CatalogStore {
    /// The warehouse's id; NOT_FOUND (pointing at `WAREHOUSE LIST`) when there is none.
    public static func warehouseID(_ connection: PostgresConnection, _ reference: CatalogReference) throws -> Int64 {
        let statement: PostgresStatement =
            switch reference {
            case .id(let id): "SELECT id FROM warehouses WHERE id = \(id)"
            case .code(let code): "SELECT id FROM warehouses WHERE code = \(code)"
            }
        return try found(connection.query(statement), reference, "warehouse", listing: "WAREHOUSE LIST")
    }

    /// The SKU's id; NOT_FOUND (pointing at `SKU LIST`) when there is none.
    public static func skuID(_ connection: PostgresConnection, _ reference: CatalogReference) throws -> Int64 {
        let statement: PostgresStatement =
            switch reference {
            case .id(let id): "SELECT id FROM skus WHERE id = \(id)"
            case .code(let code): "SELECT id FROM skus WHERE code = \(code)"
            }
        return try found(connection.query(statement), reference, "SKU", listing: "SKU LIST")
    }

    private static func found(
        _ rows: PostgresRows,
        _ reference: CatalogReference,
        _ what: String,
        listing: String
    ) throws
        -> Int64
    {
        guard let row = rows.first else {
            let name =
                switch reference {
                case .id(let id): "\(id)"
                case .code(let code): code
                }
            throw OrderlyError(.notFound, "\(what) \(name) does not exist (\(listing) shows them)")
        }
        return try row.decode(Int64.self, at: 0)
    }
}

extension CatalogStore {
    /// The shipping calendars of the warehouses `filter` selects (it reads warehouses as `w`), one row
    /// each, `(id, calendar)` as `calendar(_:)` decodes it; holidays from yesterday on, up to
    /// `horizonDays` ahead when given (what a promise can reach).
    static func calendars(where filter: PostgresStatement, horizonDays: Int? = nil) -> PostgresStatement {
        """
        SELECT w.id, w.time_zone, (extract(epoch FROM w.cutoff_time) / 60)::int4 AS cutoff_minutes,
               w.working_days::int8[] AS working_days, w.lead_time_minutes,
               ARRAY(SELECT h.day::text FROM warehouse_holidays h
                     WHERE h.warehouse_id = w.id AND h.day >= orderly_now()::date - 1
                       AND (\(same: horizonDays.map(Int64.init))::int4 IS NULL
                            OR h.day <= orderly_now()::date + \(same: horizonDays.map(Int64.init))::int4)
                     ORDER BY h.day) AS holidays
        FROM warehouses w WHERE \(filter)
        """
    }

    static func calendar(_ row: PostgresRow) throws -> (id: Int64, calendar: WarehouseCalendar) {
        (
            try row.decode(Int64.self, "id"),
            WarehouseCalendar(
                timeZone: try row.decode(String.self, "time_zone"),
                cutoffMinutes: Int(try row.decode(Int32.self, "cutoff_minutes")),
                workingDays: Set(try row.decode([Int64].self, "working_days").map { Int($0) }),
                holidays: Set(try row.decode([String].self, "holidays").compactMap(LocalDate.init)),
                leadTimeMinutes: Int(try row.decode(Int32.self, "lead_time_minutes"))
            )
        )
    }

    /// Changes a warehouse's shipping calendar: each setting given (nil keeps it), holidays added and
    /// removed, then the calendar as it is now, in one round trip of the caller's transaction. A zone
    /// PostgreSQL does not know (it writes local times into alerts) is BAD_ARG, and the caller's
    /// transaction rolls the rest back.
    public static func setCalendar(
        _ connection: PostgresConnection,
        warehouseID: Int64,
        timeZone: String?,
        cutoffMinutes: Int?,
        workingDays: Set<Int>?,
        leadTimeMinutes: Int?,
        addHolidays: [LocalDate],
        removeHolidays: [LocalDate]
    ) throws -> WarehouseCalendar {
        let update: PostgresStatement = """
            UPDATE warehouses
            SET time_zone = coalesce(\(same: timeZone), time_zone),
                cutoff_time = coalesce(make_time(\(cutoffMinutes.map { Int64($0 / 60) })::int4,
                                                 \(cutoffMinutes.map { Int64($0 % 60) })::int4, 0), cutoff_time),
                working_days = coalesce(\(workingDays.map { $0.sorted().map { Int64($0) } })::int2[], working_days),
                lead_time_minutes = coalesce(\(leadTimeMinutes.map { Int64($0) })::int4, lead_time_minutes),
                updated_at = orderly_now()
            WHERE id = \(warehouseID)
              AND (\(same: timeZone)::text IS NULL OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = \(same: timeZone)))
            """
        let (updated, _, _, now) = try connection.pipeline(
            PostgresQuery<Int>.command(update),
            PostgresQuery<Int>.command(
                """
                INSERT INTO warehouse_holidays (warehouse_id, day)
                SELECT \(warehouseID), d::date FROM unnest(\(addHolidays.map(\.description))::text[]) AS d
                ON CONFLICT DO NOTHING
                """
            ),
            PostgresQuery<Int>.command(
                """
                DELETE FROM warehouse_holidays
                WHERE warehouse_id = \(warehouseID) AND day = ANY(\(removeHolidays.map(\.description))::date[])
                """
            ),
            PostgresQuery<WarehouseCalendar?>.first(calendars(where: "w.id = \(warehouseID)")) {
                try Self.calendar($0).calendar
            }
        )
        guard updated == 1, let now else {
            throw OrderlyError(.badArgument, "time_zone: PostgreSQL does not know the zone '\(timeZone ?? "")'")
        }
        return now
    }
}

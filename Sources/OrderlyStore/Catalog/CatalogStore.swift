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

import LibPQ
import OrderlyCore
import OrderlyStore

/// Catalogue rows for tests, with plausible defaults; only what a test cares about is an argument.
public enum CatalogBuilders {
    /// A German warehouse called `code` at (latitude, 10.0).
    public static func warehouse(_ connection: PostgresConnection, code: String, latitude: Double = 52) throws -> Int64
    {
        try CatalogStore.createWarehouse(
            connection,
            NewWarehouse(
                code: code,
                name: "Warehouse \(code)",
                location: GeoPoint(latitude: latitude, longitude: 10),
                addressLine1: "Dock 1",
                city: "Somewhere",
                country: "DE"
            )
        )
    }

    /// A 250 g SKU called `code`.
    public static func sku(_ connection: PostgresConnection, code: String) throws -> Int64 {
        try CatalogStore.createSKU(
            connection,
            NewSKU(code: code, name: "Widget \(code)", weightGrams: 250, dimensionsMillimetres: (100, 50, 20))
        )
    }
}

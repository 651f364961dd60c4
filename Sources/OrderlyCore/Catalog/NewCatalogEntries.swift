/// A new warehouse.
public struct NewWarehouse: Sendable {
    public var code: String
    public var name: String
    public var location: GeoPoint
    public var addressLine1: String
    public var city: String
    public var country: String
    public var priority: Int
    public var pickMethod: String
    public var shipsTo: [String]

    public init(
        code: String,
        name: String,
        location: GeoPoint,
        addressLine1: String,
        city: String,
        country: String,
        priority: Int = 100,
        pickMethod: String = "single",
        shipsTo: [String] = []
    ) {
        self.code = code
        self.name = name
        self.location = location
        self.addressLine1 = addressLine1
        self.city = city
        self.country = country
        self.priority = priority
        self.pickMethod = pickMethod
        self.shipsTo = shipsTo
    }
}

/// A new SKU.
public struct NewSKU: Sendable {
    public var code: String
    public var name: String
    public var weightGrams: Int
    public var dimensionsMillimetres: (length: Int, width: Int, height: Int)
    public var serialTracked: Bool

    public init(
        code: String,
        name: String,
        weightGrams: Int,
        dimensionsMillimetres: (Int, Int, Int),
        serialTracked: Bool = false
    ) {
        self.code = code
        self.name = name
        self.weightGrams = weightGrams
        self.dimensionsMillimetres = dimensionsMillimetres
        self.serialTracked = serialTracked
    }
}

/// What an admin names a catalogue row (a warehouse, a SKU) by: its id, or its code.
public enum CatalogReference: Hashable, Sendable {
    case id(Int64)
    case code(String)
}

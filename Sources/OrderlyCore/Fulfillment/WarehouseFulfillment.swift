/// A warehouse's fulfillment settings.
public struct WarehouseFulfillment: Hashable, Sendable {
    public var id: Int64
    public var code: String
    public var country: String
    public var addressLines: [String]
    public var pickMethod: PickMethod
    /// True when a picker confirms lists (`PICKLIST CONFIRM`); false confirms full picks at once.
    public var scannerConfirmation: Bool
    public var batchSize: Int
    public var batchWindowSeconds: Int

    public init(
        id: Int64,
        code: String,
        country: String,
        addressLines: [String],
        pickMethod: PickMethod,
        scannerConfirmation: Bool,
        batchSize: Int,
        batchWindowSeconds: Int
    ) {
        self.id = id
        self.code = code
        self.country = country
        self.addressLines = addressLines
        self.pickMethod = pickMethod
        self.scannerConfirmation = scannerConfirmation
        self.batchSize = batchSize
        self.batchWindowSeconds = batchWindowSeconds
    }
}

/// Why stock moved, as `inventory_ledger.reason` stores it.
public enum StockReason: String, CaseIterable, Sendable {
    case receive, adjust, count, damaged, lost, found, correction
    case transferOut = "transfer_out"
    case transferIn = "transfer_in"
}

/// One inventory row as the services see it.
public struct InventoryRow: Hashable, Sendable {
    public var warehouseID: Int64
    public var skuID: Int64
    public var onHand: Int64
    public var reserved: Int64
    public var reorderPoint: Int64
    public var safetyStock: Int64

    /// Available to promise: on hand, less reserved, less safety stock, never below zero.
    public var availableToPromise: Int64 { max(0, onHand - reserved - safetyStock) }

    public init(
        warehouseID: Int64,
        skuID: Int64,
        onHand: Int64,
        reserved: Int64,
        reorderPoint: Int64,
        safetyStock: Int64
    ) {
        self.warehouseID = warehouseID
        self.skuID = skuID
        self.onHand = onHand
        self.reserved = reserved
        self.reorderPoint = reorderPoint
        self.safetyStock = safetyStock
    }
}

/// A line of a pick list waiting for its picker, as a simulation's pick wave reads it.
public struct WaitingPickLine: Hashable, Sendable {
    public var listID: Int64
    public var orderID: Int64
    public var skuCode: String
    public var units: Int64
    public var serialTracked: Bool

    public init(listID: Int64, orderID: Int64, skuCode: String, units: Int64, serialTracked: Bool) {
        self.listID = listID
        self.orderID = orderID
        self.skuCode = skuCode
        self.units = units
        self.serialTracked = serialTracked
    }
}

/// A stock row as a simulation's purchasing sees it: on hand, reserved, and still expected.
public struct StockPosition: Hashable, Sendable {
    public var warehouseID: Int64
    public var skuID: Int64
    public var onHand: Int64
    public var reserved: Int64
    public var expected: Int64

    public init(warehouseID: Int64, skuID: Int64, onHand: Int64, reserved: Int64, expected: Int64) {
        self.warehouseID = warehouseID
        self.skuID = skuID
        self.onHand = onHand
        self.reserved = reserved
        self.expected = expected
    }
}

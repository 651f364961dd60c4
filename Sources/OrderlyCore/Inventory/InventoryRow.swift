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

/// Units on their way to a warehouse (`STOCK EXPECT`, a purchase order's arrival): what is still
/// expected under a reference, and by when.
public struct StockExpectation: Hashable, Sendable {
    public var id: Int64
    public var reference: String
    /// Units still expected (receipts take them off).
    public var expected: Int64
    public var received: Int64
    public var date: LocalDate

    public init(id: Int64, reference: String, expected: Int64, received: Int64, date: LocalDate) {
        self.id = id
        self.reference = reference
        self.expected = expected
        self.received = received
        self.date = date
    }
}

/// When units a backorder waits for are expected: arrivals serve the backorder queue in its order, so
/// an order waiting for `units` behind `ahead` units of orders before it is served by the arrival
/// that brings the running total of expected units to `ahead + units`. Nil when what is expected
/// does not get that far.
public enum ExpectedArrival {
    /// Units expected on a day (all active warehouses).
    public struct Arrival: Hashable, Sendable {
        public var date: LocalDate
        public var units: Int64
        public init(date: LocalDate, units: Int64) { (self.date, self.units) = (date, units) }
    }

    public static func date(ahead: Int64, units: Int64, inbound: [Arrival]) -> LocalDate? {
        var arrived: Int64 = 0
        for arrival in inbound.sorted(by: { $0.date < $1.date }) {
            arrived += arrival.units
            if arrived >= ahead + units { return arrival.date }
        }
        return nil
    }
}

/// How a warehouse turns shipments into pick lists. Raw values are what `warehouses.pick_method` stores.
public enum PickMethod: String, CaseIterable, Sendable, Hashable {
    /// One list per shipment.
    case single
    /// Several shipments in one walk; the picked units are split per shipment at packing.
    case batch
    /// One list per zone of the warehouse; a shipment's lists are consolidated at packing.
    case zone
}

/// One unit of work for a picker: a shipment line's units of a SKU, and where they are.
public struct PickItem: Hashable, Sendable {
    public var shipmentID: Int64
    public var shipmentLineID: Int64
    public var skuID: Int64
    public var skuCode: String
    public var quantity: Int64
    public var bin: BinLocation?
    public var zone: String?

    public init(
        shipmentID: Int64,
        shipmentLineID: Int64,
        skuID: Int64,
        skuCode: String,
        quantity: Int64,
        bin: String?,
        zone: String?
    ) {
        self.shipmentID = shipmentID
        self.shipmentLineID = shipmentLineID
        self.skuID = skuID
        self.skuCode = skuCode
        self.quantity = quantity
        self.bin = bin.flatMap(BinLocation.init)
        self.zone = zone.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A list to walk: its zone (zone picking) and its items with their place in the walk (1-based).
public struct PlannedPickList: Hashable, Sendable {
    public var zone: String?
    public var items: [(sequence: Int, item: PickItem)] {
        ordered.enumerated().map { ($0.offset + 1, $0.element) }
    }
    public var ordered: [PickItem]

    public static func == (lhs: PlannedPickList, rhs: PlannedPickList) -> Bool {
        lhs.zone == rhs.zone && lhs.ordered == rhs.ordered
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(zone)
        hasher.combine(ordered)
    }
}

/// A bin address such as `A-03-2` (aisle, bay, level): components split on `-`, `.`, `/` or spaces,
/// compared component by component, numbers by value (`A-9` before `A-10`).
public struct BinLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let description: String
    let components: [Component]

    enum Component: Hashable, Sendable, Comparable {
        case number(Int64, digits: Int)
        case text(String)

        static func < (lhs: Component, rhs: Component) -> Bool {
            switch (lhs, rhs) {
            case (.number(let a, let da), .number(let b, let db)): (a, da) < (b, db)
            case (.number, .text): true
            case (.text, .number): false
            case (.text(let a), .text(let b)): a < b
            }
        }
    }

    public init?(_ text: String) {
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !trimmed.isEmpty else { return nil }
        description = trimmed
        components = trimmed.uppercased().split(whereSeparator: { "-./ ".contains($0) }).map { part in
            if part.allSatisfy(\.isASCIIDigit), part.count <= 18, let value = Int64(part) {
                .number(value, digits: part.count)
            } else {
                .text(String(part))
            }
        }
    }

    /// The first component: the aisle a picker walks down.
    var aisle: Component? { components.first }

    public static func < (lhs: BinLocation, rhs: BinLocation) -> Bool {
        lhs.components.lexicographicallyPrecedes(rhs.components)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Plans pick lists and their walk (pure: no I/O).
///
/// The walk visits zones in name order (items without a zone last), aisles in order, and within an
/// aisle alternates direction (an S-shaped walk: up the first aisle, down the next), so the picker
/// never walks back to the aisle's head. Items without a bin come after the binned ones of their zone.
/// Items in the same bin are adjacent, ordered by SKU and then shipment, which is how a batch pick
/// takes several shipments' units from one bin in one stop.
public enum PickPlanner {
    public static func plan(_ method: PickMethod, items: [PickItem]) -> [PlannedPickList] {
        guard !items.isEmpty else { return [] }
        switch method {
        case .single, .batch:
            return [PlannedPickList(ordered: walk(items), zone: nil)]
        case .zone:
            let zones = Dictionary(grouping: items, by: \.zone)
            return zones.keys.sorted(by: zoneOrder).map { zone in
                PlannedPickList(ordered: walk(zones[zone] ?? []), zone: zone)
            }
        }
    }

    /// The order a picker visits `items` in.
    public static func walk(_ items: [PickItem]) -> [PickItem] {
        let byZone = Dictionary(grouping: items, by: \.zone)
        return byZone.keys.sorted(by: zoneOrder).flatMap { zone in serpentine(byZone[zone] ?? []) }
    }

    static func zoneOrder(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (.some(let a), .some(let b)): a < b
        case (.some, .none): true
        default: false
        }
    }

    static func serpentine(_ items: [PickItem]) -> [PickItem] {
        let binned = items.filter { $0.bin != nil }
        let loose = items.filter { $0.bin == nil }.sorted(by: sameStop)
        let aisles = Dictionary(grouping: binned, by: { $0.bin?.aisle })
        let aisleOrder = aisles.keys.sorted { a, b in
            switch (a, b) {
            case (.some(let a), .some(let b)): a < b
            case (.some, .none): true
            default: false
            }
        }
        var walk: [PickItem] = []
        for (index, aisle) in aisleOrder.enumerated() {
            let ascending = (aisles[aisle] ?? []).sorted { lhs, rhs in
                guard let l = lhs.bin, let r = rhs.bin, l != r else { return sameStop(lhs, rhs) }
                return l < r
            }
            walk += index.isMultiple(of: 2) ? ascending : reversedStops(ascending)
        }
        return walk + loose
    }

    /// Reverses the bins' order but keeps each bin's items in their order.
    static func reversedStops(_ items: [PickItem]) -> [PickItem] {
        var stops: [[PickItem]] = []
        for item in items {
            if let last = stops.last?.last, last.bin == item.bin {
                stops[stops.count - 1].append(item)
            } else {
                stops.append([item])
            }
        }
        return stops.reversed().flatMap { $0 }
    }

    static func sameStop(_ a: PickItem, _ b: PickItem) -> Bool {
        (a.skuCode, a.shipmentID, a.shipmentLineID) < (b.skuCode, b.shipmentID, b.shipmentLineID)
    }
}

extension PlannedPickList {
    init(ordered: [PickItem], zone: String?) {
        self.ordered = ordered
        self.zone = zone
    }
}

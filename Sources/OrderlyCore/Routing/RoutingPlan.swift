/// What a strategy decided: shipments of (SKU, units) per warehouse, and how it got there.
public struct RoutingPlan: Hashable, Sendable {
    public struct Shipment: Hashable, Sendable {
        public var warehouseID: Int64
        /// SKU id → units, for the lines this shipment carries.
        public var units: [Int64: Int64]
        public var weightGrams: Int64
        /// The cheapest applicable rate, if the rate table has one.
        public var rate: ShippingRate?
        public var distanceKilometers: Double
    }

    /// A warehouse the strategy looked at, and what it saw.
    public struct Candidate: Hashable, Sendable {
        public var warehouseID: Int64
        public var code: String
        /// Why it was ruled out before scoring (inactive, does not ship there), or nil.
        public var excludedBecause: String?
        public var canShipWhole: Bool
        public var distanceKilometers: Double
        /// Cost of shipping the whole order from here, when it can and a rate applies.
        public var wholeOrderCostMinor: Int64?
    }

    public var strategy: String
    /// The rule that decided, in words, e.g. "nearest: closest warehouse able to ship the whole order".
    public var rule: String
    /// Shipments in warehouse id order.
    public var shipments: [Shipment]
    public var candidates: [Candidate]

    public init(strategy: String, rule: String, shipments: [Shipment], candidates: [Candidate]) {
        self.strategy = strategy
        self.rule = rule
        self.shipments = shipments
        self.candidates = candidates
    }

    /// Total cost, or nil if some shipment has no rate.
    public var totalCostMinor: Int64? {
        var total: Int64 = 0
        for shipment in shipments {
            guard let price = shipment.rate?.priceMinor else { return nil }
            total += price
        }
        return total
    }

    /// Units of `sku` the plan takes from `warehouse`.
    public func units(_ warehouse: Int64, _ sku: Int64) -> Int64 {
        shipments.first { $0.warehouseID == warehouse }?.units[sku] ?? 0
    }
}

/// How a warehouse is chosen for an order. Pure: the same input gives the same plan.
///
/// Returns nil when the strategy cannot place the whole order; a `RoutingChain` then tries the next.
public protocol RoutingStrategy: Sendable {
    /// The name channels and the admin protocol use, e.g. `nearest`.
    var name: String { get }
    func plan(_ input: RoutingInput) -> RoutingPlan?
}

extension RoutingInput {
    /// Builds the plan's shipments from an allocation (warehouse id → SKU id → units).
    public func shipments(for allocation: [Int64: [Int64: Int64]]) -> [RoutingPlan.Shipment] {
        let byID = Dictionary(uniqueKeysWithValues: warehouses.map { ($0.id, $0) })
        let weights = Dictionary(lines.map { ($0.skuID, $0.unitWeightGrams) }, uniquingKeysWith: { first, _ in first })
        return allocation.keys.sorted().compactMap { id in
            guard let warehouse = byID[id], let units = allocation[id], !units.isEmpty else { return nil }
            let weight = units.reduce(Int64(0)) { $0 + $1.value * (weights[$1.key] ?? 0) }
            return RoutingPlan.Shipment(
                warehouseID: id,
                units: units,
                weightGrams: weight,
                rate: cheapestRate(from: id, weightGrams: weight),
                distanceKilometers: distance(warehouse)
            )
        }
    }

    /// Every warehouse with what it saw, for the stored decision and previews.
    public var candidates: [RoutingPlan.Candidate] {
        let totalWeight = lines.reduce(Int64(0)) { $0 + $1.quantity * $1.unitWeightGrams }
        return warehouses.sorted { $0.id < $1.id }.map { warehouse in
            let whole = canShipWhole(warehouse.id)
            return RoutingPlan.Candidate(
                warehouseID: warehouse.id,
                code: warehouse.code,
                excludedBecause: ineligibility(warehouse),
                canShipWhole: whole,
                distanceKilometers: distance(warehouse),
                wholeOrderCostMinor: whole
                    ? cheapestRate(from: warehouse.id, weightGrams: totalWeight)?.priceMinor : nil
            )
        }
    }

    /// A one-shipment plan from `warehouse` for the whole order.
    public func wholeOrderPlan(from warehouse: RoutingWarehouse, strategy: String, rule: String) -> RoutingPlan {
        let units = Dictionary(lines.map { ($0.skuID, $0.quantity) }, uniquingKeysWith: +)
        return RoutingPlan(
            strategy: strategy,
            rule: rule,
            shipments: shipments(for: [warehouse.id: units]),
            candidates: candidates
        )
    }
}

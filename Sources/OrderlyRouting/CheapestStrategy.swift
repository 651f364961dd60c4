import OrderlyCore

/// The lowest shipping cost for the whole order from one warehouse, by the rate table.
///
/// Ties: nearer, then lower warehouse id. Warehouses with no applicable rate are skipped.
public struct CheapestStrategy: RoutingStrategy {
    public let name = "cheapest"
    public init() {}

    public func plan(_ input: RoutingInput) -> RoutingPlan? {
        let weight = input.lines.reduce(Int64(0)) { $0 + $1.quantity * $1.unitWeightGrams }
        let priced = input.eligibleWarehouses.filter { input.canShipWhole($0.id) }.compactMap { warehouse in
            input.cheapestRate(from: warehouse.id, weightGrams: weight).map { (warehouse, $0.priceMinor) }
        }
        let best = priced.min {
            ($0.1, input.distance($0.0), $0.0.id) < ($1.1, input.distance($1.0), $1.0.id)
        }
        return best.map {
            input.wholeOrderPlan(
                from: $0.0,
                strategy: name,
                rule: "cheapest: lowest rate for the whole order (\($0.1))"
            )
        }
    }
}

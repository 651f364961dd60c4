import OrderlyCore

/// The closest warehouse (great-circle distance) able to ship the whole order.
///
/// Ties: lower `priority`, then lower warehouse id. Without destination coordinates it cannot decide
/// and returns nil, so a chain moves on.
public struct NearestStrategy: RoutingStrategy {
    public let name = "nearest"
    public init() {}

    public func plan(_ input: RoutingInput) -> RoutingPlan? {
        guard input.destination.location != nil else { return nil }
        let best = input.eligibleWarehouses.filter { input.canShipWhole($0.id) }
            .min { (input.distance($0), $0.priority, $0.id) < (input.distance($1), $1.priority, $1.id) }
        return best.map {
            input.wholeOrderPlan(
                from: $0,
                strategy: name,
                rule: "nearest: closest warehouse able to ship the whole order"
            )
        }
    }
}

import OrderlyCore

/// The baseline others use: the best-ranked warehouse able to ship the whole order.
///
/// Ties: lower `priority`, then nearer, then lower warehouse id.
public struct PriorityStrategy: RoutingStrategy {
    public let name = "priority"
    public init() {}

    public func plan(_ input: RoutingInput) -> RoutingPlan? {
        let best = input.eligibleWarehouses.filter { input.canShipWhole($0.id) }
            .min { ($0.priority, input.distance($0), $0.id) < ($1.priority, input.distance($1), $1.id) }
        return best.map {
            input.wholeOrderPlan(
                from: $0,
                strategy: name,
                rule: "priority: best-ranked warehouse able to ship the whole order"
            )
        }
    }
}

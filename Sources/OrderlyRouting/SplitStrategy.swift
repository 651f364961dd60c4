import OrderlyCore

/// Splits an order across warehouses when it must: the fewest shipments first, then the lowest cost.
///
/// Exact search for up to `exactLimit` eligible warehouses holding stock (12 by default): subsets are
/// tried by size, smallest first, and the first size at which some subset covers every line is the
/// fewest shipments possible. Within a subset, each line is filled from its warehouses nearest first
/// (ties by id). Among the covering subsets of that size the plan with the lowest total rate wins
/// (a subset with an unpriced shipment ranks after every priced one), then the shortest total
/// distance, then the lowest warehouse ids.
///
/// Beyond the limit (2^n subsets would be too many) it is a greedy set cover: repeatedly take the
/// warehouse that can still supply the most missing units, ties nearer then lower id. The greedy
/// result is within a factor ln(units) of the fewest shipments, and documented as a heuristic.
public struct SplitStrategy: RoutingStrategy {
    public let name = "split"
    public let exactLimit: Int

    public init(exactLimit: Int = 12) {
        self.exactLimit = exactLimit
    }

    public func plan(_ input: RoutingInput) -> RoutingPlan? {
        let needed = Dictionary(input.lines.map { ($0.skuID, $0.quantity) }, uniquingKeysWith: +)
        let holders = input.eligibleWarehouses.filter { warehouse in
            needed.keys.contains { input.available(warehouse.id, $0) > 0 }
        }
        // Cheap refusal: even everything together is not enough.
        for (sku, quantity) in needed where holders.reduce(Int64(0), { $0 + input.available($1.id, sku) }) < quantity {
            return nil
        }
        if holders.count <= exactLimit {
            return exact(input, needed: needed, holders: holders)
        }
        return greedy(input, needed: needed, holders: holders)
    }

    private func exact(_ input: RoutingInput, needed: [Int64: Int64], holders: [RoutingWarehouse]) -> RoutingPlan? {
        let count = holders.count
        for size in 1...max(1, count) {
            var best: (key: Rank, allocation: [Int64: [Int64: Int64]])?
            for subset in Self.combinations(of: count, size: size) {
                let members = subset.map { holders[$0] }
                guard let allocation = fill(input, needed: needed, from: members) else { continue }
                let shipments = input.shipments(for: allocation)
                let key = Rank(shipments: shipments)
                if let current = best, !(key < current.key) { continue }
                best = (key, allocation)
            }
            if let best {
                return RoutingPlan(
                    strategy: name,
                    rule: size == 1
                        ? "split: one warehouse can ship it all; cheapest such"
                        : "split: fewest shipments (\(size)), then lowest cost (exact)",
                    shipments: input.shipments(for: best.allocation),
                    candidates: input.candidates
                )
            }
        }
        return nil
    }

    private func greedy(_ input: RoutingInput, needed: [Int64: Int64], holders: [RoutingWarehouse]) -> RoutingPlan? {
        var missing = needed
        var remaining = holders
        var chosen: [RoutingWarehouse] = []
        while missing.values.contains(where: { $0 > 0 }) {
            func supply(_ warehouse: RoutingWarehouse) -> Int64 {
                missing.reduce(Int64(0)) { $0 + min($1.value, input.available(warehouse.id, $1.key)) }
            }
            guard
                let next = remaining.max(by: {
                    (supply($0), -input.distance($0), -$0.id) < (supply($1), -input.distance($1), -$1.id)
                }), supply(next) > 0
            else { return nil }
            chosen.append(next)
            remaining.removeAll { $0.id == next.id }
            for (sku, units) in missing { missing[sku] = units - min(units, input.available(next.id, sku)) }
        }
        guard let allocation = fill(input, needed: needed, from: chosen) else { return nil }
        return RoutingPlan(
            strategy: name,
            rule: "split: greedy set cover over \(holders.count) warehouses (heuristic beyond \(exactLimit))",
            shipments: input.shipments(for: allocation),
            candidates: input.candidates
        )
    }

    /// Fills every line from `members`, nearest first (ties by id); nil if they cannot cover it.
    private func fill(
        _ input: RoutingInput,
        needed: [Int64: Int64],
        from members: [RoutingWarehouse]
    ) -> [Int64: [Int64: Int64]]? {
        let ordered = members.sorted { (input.distance($0), $0.id) < (input.distance($1), $1.id) }
        var allocation: [Int64: [Int64: Int64]] = [:]
        for (sku, quantity) in needed.sorted(by: { $0.key < $1.key }) {
            var missing = quantity
            for warehouse in ordered where missing > 0 {
                let take = min(missing, input.available(warehouse.id, sku))
                if take > 0 {
                    allocation[warehouse.id, default: [:]][sku] = take
                    missing -= take
                }
            }
            if missing > 0 { return nil }
        }
        return allocation
    }

    /// How plans of the same size compare: priced before unpriced, cheaper, nearer, lower ids.
    private struct Rank: Comparable {
        var unpriced: Bool
        var cost: Int64
        var distance: Double
        var ids: [Int64]

        init(shipments: [RoutingPlan.Shipment]) {
            unpriced = shipments.contains { $0.rate == nil }
            cost = shipments.reduce(Int64(0)) { $0 + ($1.rate?.priceMinor ?? 0) }
            distance = shipments.reduce(0) { $0 + $1.distanceKilometers }
            ids = shipments.map(\.warehouseID)
        }

        static func < (lhs: Rank, rhs: Rank) -> Bool {
            if lhs.unpriced != rhs.unpriced { return !lhs.unpriced }
            if lhs.cost != rhs.cost { return lhs.cost < rhs.cost }
            if lhs.distance != rhs.distance { return lhs.distance < rhs.distance }
            return lhs.ids.lexicographicallyPrecedes(rhs.ids)
        }
    }

    /// Index subsets of `count` of the given `size`, in lexicographic order.
    static func combinations(of count: Int, size: Int) -> [[Int]] {
        guard size > 0, size <= count else { return [] }
        var result: [[Int]] = []
        var current: [Int] = []
        func extend(from start: Int) {
            if current.count == size {
                result.append(current)
                return
            }
            guard start < count, count - start >= size - current.count else { return }
            for index in start..<count {
                current.append(index)
                extend(from: index + 1)
                current.removeLast()
            }
        }
        extend(from: 0)
        return result
    }
}

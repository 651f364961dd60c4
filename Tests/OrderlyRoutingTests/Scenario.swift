import OrderlyCore

/// SplitMix64: a small deterministic generator, so a scenario is fully described by its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random routing problem: a few warehouses across Europe with patchy stock, some inactive or not
/// shipping to the destination, and a rate table with weight brackets.
func scenario(seed: UInt64, maxWarehouses: Int = 7) -> RoutingInput {
    var random = SeededGenerator(state: seed)
    let warehouseCount = Int.random(in: 1...maxWarehouses, using: &random)
    let skuCount = Int.random(in: 1...3, using: &random)
    let warehouses = (0..<warehouseCount).map { index in
        RoutingWarehouse(
            id: Int64(index + 1),
            code: "W\(index + 1)",
            location: GeoPoint(
                latitude: Double.random(in: 36...60, using: &random),
                longitude: Double.random(in: -9...25, using: &random)
            ),
            priority: Int.random(in: 1...3, using: &random),
            active: Int.random(in: 0..<8, using: &random) != 0,
            shipsTo: Int.random(in: 0..<6, using: &random) == 0 ? ["FR"] : []
        )
    }
    var available: [Int64: [Int64: Int64]] = [:]
    for warehouse in warehouses {
        for sku in 1...skuCount where Int.random(in: 0..<3, using: &random) != 0 {
            available[warehouse.id, default: [:]][Int64(sku)] = Int64.random(in: 0...6, using: &random)
        }
    }
    let lines = (1...skuCount).map {
        RoutingLine(
            skuID: Int64($0),
            quantity: Int64.random(in: 1...5, using: &random),
            unitWeightGrams: Int64.random(in: 100...3000, using: &random)
        )
    }
    var rates: [ShippingRate] = []
    for warehouse in warehouses where Int.random(in: 0..<5, using: &random) != 0 {
        for (low, high) in [(0, 2000), (2000, 10000), (10000, 100_000)] {
            rates.append(
                ShippingRate(
                    carrier: "C\(Int.random(in: 1...2, using: &random))",
                    service: "std",
                    originWarehouseID: warehouse.id,
                    destinationCountry: "DE",
                    minWeightGrams: Int64(low),
                    maxWeightGrams: Int64(high),
                    priceMinor: Int64.random(in: 300...3000, using: &random),
                    transitDays: Int.random(in: 1...5, using: &random)
                )
            )
        }
    }
    return RoutingInput(
        lines: lines,
        destination: RoutingDestination(country: "DE", location: GeoPoint(latitude: 52.52, longitude: 13.40)),
        warehouses: warehouses,
        available: available,
        rates: rates
    )
}

extension RoutingInput {
    /// Whether the eligible warehouses together hold enough of every line.
    var coverableAtAll: Bool {
        lines.allSatisfy { line in
            eligibleWarehouses.reduce(Int64(0)) { $0 + available($1.id, line.skuID) } >= line.quantity
        }
    }

    /// The fewest warehouses that together cover the order, by trying every subset.
    var bruteForceFewestShipments: Int? {
        let eligible = eligibleWarehouses
        var best: Int?
        for mask in 1..<(1 << eligible.count) {
            let members = eligible.indices.filter { mask & (1 << $0) != 0 }.map { eligible[$0] }
            let covers = lines.allSatisfy { line in
                members.reduce(Int64(0)) { $0 + available($1.id, line.skuID) } >= line.quantity
            }
            if covers { best = min(best ?? .max, members.count) }
        }
        return best
    }
}

import OrderlyCore
import OrderlyRouting
import PropertyBased
import Testing

/// Properties every strategy keeps, over random scenarios (the scenario seed is the input printed on failure).
@Suite
struct RoutingPropertyTests {
    static let strategies: [any RoutingStrategy] = [
        NearestStrategy(), CheapestStrategy(), PriorityStrategy(), SplitStrategy(),
        RoutingChain([NearestStrategy(), SplitStrategy()]),
    ]
    let seeds = Gen.int(in: 0...Int.max)

    @Test func aPlanNeverTakesMoreThanIsAvailableAndCoversTheOrderExactly() async {
        await propertyCheck(count: 300, input: seeds) { seed in
            let input = scenario(seed: UInt64(seed))
            for strategy in Self.strategies {
                guard let plan = strategy.plan(input) else { continue }
                let eligible = Set(input.eligibleWarehouses.map(\.id))
                for shipment in plan.shipments {
                    #expect(eligible.contains(shipment.warehouseID), "\(strategy.name) used an ineligible warehouse")
                    for (sku, units) in shipment.units {
                        #expect(units > 0)
                        #expect(units <= input.available(shipment.warehouseID, sku), "\(strategy.name) oversold")
                    }
                }
                for line in input.lines {
                    let planned = plan.shipments.reduce(Int64(0)) { $0 + ($1.units[line.skuID] ?? 0) }
                    #expect(planned == line.quantity, "\(strategy.name) planned \(planned) of \(line.quantity)")
                }
            }
        }
    }

    @Test func splitCoversWheneverAnyPlanCan() async {
        await propertyCheck(count: 300, input: seeds) { seed in
            let input = scenario(seed: UInt64(seed))
            #expect((SplitStrategy().plan(input) != nil) == input.coverableAtAll)
        }
    }

    @Test func splitNeverUsesMoreShipmentsThanTheBruteForceOptimum() async {
        await propertyCheck(count: 300, input: seeds) { seed in
            let input = scenario(seed: UInt64(seed))
            let plan = SplitStrategy().plan(input)
            #expect(plan?.shipments.count == input.bruteForceFewestShipments)
        }
    }

    @Test func nearestIsNeverFartherThanAnotherCompleteSingleWarehouse() async {
        await propertyCheck(count: 300, input: seeds) { seed in
            let input = scenario(seed: UInt64(seed))
            let complete = input.eligibleWarehouses.filter { input.canShipWhole($0.id) }
            guard let plan = NearestStrategy().plan(input) else {
                #expect(complete.isEmpty)
                return
            }
            #expect(plan.shipments.count == 1)
            let chosen = plan.shipments[0].distanceKilometers
            for other in complete { #expect(chosen <= input.distance(other)) }
        }
    }

    @Test func cheapestIsNeverDearerThanAnotherPricedCompleteWarehouse() async {
        await propertyCheck(count: 300, input: seeds) { seed in
            let input = scenario(seed: UInt64(seed))
            guard let plan = CheapestStrategy().plan(input), let cost = plan.totalCostMinor else { return }
            for candidate in plan.candidates where candidate.excludedBecause == nil {
                if let other = candidate.wholeOrderCostMinor { #expect(cost <= other) }
            }
        }
    }

    @Test func theSameInputInAnyOrderGivesTheSamePlan() async {
        await propertyCheck(count: 200, input: seeds) { seed in
            let input = scenario(seed: UInt64(seed))
            var shuffled = input
            var random = SeededGenerator(state: UInt64(seed) ^ 0xABCDEF)
            shuffled.warehouses.shuffle(using: &random)
            shuffled.rates.shuffle(using: &random)
            for strategy in Self.strategies {
                #expect(strategy.plan(input) == strategy.plan(shuffled), "\(strategy.name)")
            }
        }
    }
}

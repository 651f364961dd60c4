import OrderlyCore
import OrderlyRouting
import Testing

@Suite
struct RoutingExampleTests {
    // Berlin customer; warehouses in Potsdam (near), Munich, Madrid.
    let berlin = RoutingDestination(country: "DE", location: GeoPoint(latitude: 52.52, longitude: 13.40))
    let potsdam = RoutingWarehouse(
        id: 1,
        code: "POT",
        location: GeoPoint(latitude: 52.39, longitude: 13.06),
        priority: 3
    )
    let munich = RoutingWarehouse(
        id: 2,
        code: "MUC",
        location: GeoPoint(latitude: 48.14, longitude: 11.58),
        priority: 1
    )
    let madrid = RoutingWarehouse(
        id: 3,
        code: "MAD",
        location: GeoPoint(latitude: 40.42, longitude: -3.70),
        priority: 2
    )
    let shirt = RoutingLine(skuID: 10, quantity: 2, unitWeightGrams: 300)
    let mug = RoutingLine(skuID: 20, quantity: 1, unitWeightGrams: 500)

    func input(available: [Int64: [Int64: Int64]], rates: [ShippingRate] = []) -> RoutingInput {
        RoutingInput(
            lines: [shirt, mug],
            destination: berlin,
            warehouses: [potsdam, munich, madrid],
            available: available,
            rates: rates
        )
    }

    @Test func eachStrategyPicksItsWarehouse() throws {
        let everywhere: [Int64: [Int64: Int64]] = [1: [10: 5, 20: 5], 2: [10: 5, 20: 5], 3: [10: 5, 20: 5]]
        let rates = [
            ShippingRate(
                carrier: "DHL",
                service: "std",
                originWarehouseID: 1,
                destinationCountry: "DE",
                minWeightGrams: 0,
                maxWeightGrams: 5000,
                priceMinor: 900,
                transitDays: 1
            ),
            ShippingRate(
                carrier: "DHL",
                service: "std",
                originWarehouseID: 2,
                destinationCountry: "DE",
                minWeightGrams: 0,
                maxWeightGrams: 5000,
                priceMinor: 450,
                transitDays: 2
            ),
            ShippingRate(
                carrier: "SEUR",
                service: "eco",
                originWarehouseID: 3,
                destinationCountry: "DE",
                minWeightGrams: 0,
                maxWeightGrams: 5000,
                priceMinor: 700,
                transitDays: 5
            ),
        ]
        let scenario = input(available: everywhere, rates: rates)
        #expect(NearestStrategy().plan(scenario)?.shipments.map(\.warehouseID) == [1])
        #expect(CheapestStrategy().plan(scenario)?.shipments.map(\.warehouseID) == [2])
        #expect(PriorityStrategy().plan(scenario)?.shipments.map(\.warehouseID) == [2])
        let split = try #require(SplitStrategy().plan(scenario))
        #expect(split.shipments.map(\.warehouseID) == [2])  // one shipment; the cheapest of those
        #expect(split.shipments[0].weightGrams == 1100)
        #expect(split.totalCostMinor == 450)
    }

    @Test func splitWhenNoWarehouseHasEverything() throws {
        let scenario = input(available: [1: [10: 2], 2: [20: 1], 3: [10: 1, 20: 1]])
        #expect(NearestStrategy().plan(scenario) == nil)
        let chain = RoutingChain([NearestStrategy(), SplitStrategy()])
        let plan = try #require(chain.plan(scenario))
        #expect(plan.shipments.count == 2)
        #expect(plan.rule.hasPrefix("fallback after nearest: split: fewest shipments (2)"))
        #expect(plan.strategy == "nearest>split")
        // Nearest-first fill within the chosen pair: the shirts come from Potsdam.
        #expect(plan.units(1, 10) == 2)
    }

    @Test func inactiveAndNonShippingWarehousesAreFilteredWithAReason() throws {
        var closed = potsdam
        closed.active = false
        var spainOnly = munich
        spainOnly.shipsTo = ["ES"]
        let scenario = RoutingInput(
            lines: [shirt],
            destination: berlin,
            warehouses: [closed, spainOnly, madrid],
            available: [1: [10: 9], 2: [10: 9], 3: [10: 9]]
        )
        let plan = try #require(NearestStrategy().plan(scenario))
        #expect(plan.shipments.map(\.warehouseID) == [3])
        #expect(plan.candidates.map(\.excludedBecause) == ["inactive", "does not ship to DE", nil])
    }

    @Test func nearestNeedsCoordinatesAndSaysNothingWithoutThem() {
        var scenario = input(available: [1: [10: 5, 20: 5]])
        scenario.destination.location = nil
        #expect(NearestStrategy().plan(scenario) == nil)
        #expect(PriorityStrategy().plan(scenario)?.shipments.map(\.warehouseID) == [1])
    }

    @Test func beyondTheExactLimitTheGreedyCoverStillCovers() throws {
        // 20 warehouses with one unit each of the one SKU; an order for 5 needs 5 shipments.
        let warehouses = (1...20).map {
            RoutingWarehouse(
                id: Int64($0),
                code: "W\($0)",
                location: GeoPoint(latitude: 50 + Double($0) / 10, longitude: 10)
            )
        }
        let scenario = RoutingInput(
            lines: [RoutingLine(skuID: 1, quantity: 5, unitWeightGrams: 100)],
            destination: berlin,
            warehouses: warehouses,
            available: Dictionary(uniqueKeysWithValues: warehouses.map { ($0.id, [Int64(1): Int64(1)]) })
        )
        let plan = try #require(SplitStrategy(exactLimit: 12).plan(scenario))
        #expect(plan.shipments.count == 5)
        #expect(plan.rule.contains("greedy"))
    }

    @Test func theRegistryKnowsEveryStrategyAndChains() throws {
        #expect(try RoutingRegistry.standard.strategy(named: "nearest").name == "nearest")
        #expect(try RoutingRegistry.standard.strategy(named: "nearest>split").name == "nearest>split")
        #expect(throws: UnknownStrategy(name: "fastest")) {
            try RoutingRegistry.standard.strategy(named: "nearest>fastest")
        }
        #expect(throws: UnknownStrategy(name: "")) { try RoutingRegistry.standard.strategy(named: "") }
    }
}

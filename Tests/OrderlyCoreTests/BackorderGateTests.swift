import OrderlyCore
import Testing

/// The backorder queue's gate in routing: an order gets only what the active warehouses hold beyond
/// the units orders ahead of it wait for.
struct BackorderGateTests {
    func input(queued: [Int64: Int64], wanted: Int64) -> RoutingInput {
        RoutingInput(
            lines: [RoutingLine(skuID: 7, quantity: wanted, unitWeightGrams: 100)],
            destination: RoutingDestination(country: "DE", location: nil),
            warehouses: [
                RoutingWarehouse(id: 1, code: "A", location: GeoPoint(latitude: 0, longitude: 0)),
                RoutingWarehouse(id: 2, code: "B", location: GeoPoint(latitude: 1, longitude: 1)),
                RoutingWarehouse(id: 3, code: "C", location: GeoPoint(latitude: 2, longitude: 2), active: false),
            ],
            available: [1: [7: 4], 2: [7: 3], 3: [7: 50]],
            queued: queued
        )
    }

    @Test func anOrderGetsOnlyWhatIsBeyondTheQueue() {
        // 7 units in active warehouses (the inactive one's 50 serve nobody).
        #expect(input(queued: [:], wanted: 5).fillable().shortage == [:])
        #expect(input(queued: [7: 4], wanted: 5).fillable().shortage == [7: 2])
        #expect(input(queued: [7: 7], wanted: 5).fillable().shortage == [7: 5])
        #expect(input(queued: [7: 100], wanted: 5).fillable().input.lines.isEmpty)
        // A queue for another SKU changes nothing.
        #expect(input(queued: [8: 100], wanted: 5).fillable().shortage == [:])
    }
}

import OrderlyCore
import Testing

/// The cut's planning, pure: where units come from, what is refused, how the order moves and what the
/// cancelled units release.
@Suite
struct UnitCancellationTests {
    /// An order of `lines` (sku, quantity, reserved, backordered, shipped), 10.00 a unit, total 10.00 ×
    /// units + 4.90 shipping.
    func order(_ status: OrderStatus, _ lines: [(String, Int64, Int64, Int64, Int64)]) -> OrderRecord {
        let subtotal = lines.reduce(0) { $0 + $1.1 * 1_000 }
        return OrderRecord(
            id: 7,
            channel: .web,
            externalID: "x",
            status: status,
            holdReason: status == .onHold ? .manual : nil,
            paymentStatus: .captured,
            currency: CurrencyCode("EUR")!,
            subtotalMinor: subtotal,
            totalMinor: subtotal + 490,
            shipTo: PostalAddress(name: "A", line1: "B", city: "C", postalCode: "1", country: "DE"),
            billingCountry: nil,
            email: nil,
            riskScore: nil,
            reviewRequested: false,
            routingStrategy: nil,
            lines: lines.enumerated().map { index, line in
                OrderLineRecord(
                    id: Int64(index + 1),
                    lineNo: index + 1,
                    skuID: Int64(index + 100),
                    skuCode: line.0,
                    unitWeightGrams: 100,
                    quantity: line.1,
                    unitPriceMinor: 1_000,
                    reserved: line.2,
                    backordered: line.3,
                    shipped: line.4,
                    cancelled: 0
                )
            }
        )
    }

    func reservation(
        _ id: Int64,
        line: Int64,
        _ units: Int64,
        on status: ShipmentStatus? = nil,
        list: PickListStatus = .inProgress,
        picked: Int64 = 0
    ) -> CancellableReservation {
        CancellableReservation(
            reservationID: id,
            orderLineID: line,
            warehouseID: 1,
            skuID: line + 99,
            quantity: units,
            carrier: status.map {
                .init(
                    shipmentID: 50,
                    status: $0,
                    shipmentLineID: 500 + id,
                    packed: $0 == .packed || $0 == .labelled ? units : 0,
                    pickLines: [
                        .init(
                            id: 900 + id,
                            listID: 70,
                            listStatus: list,
                            quantity: units,
                            picked: picked,
                            bin: "A-1",
                            listUnits: units
                        )
                    ]
                )
            }
        )
    }

    @Test func unitsComeFromBackordersThenFreeReservationsThenParcels() throws {
        let order = order(.partiallyReserved, [("A", 6, 5, 1, 0)])
        let held = [reservation(1, line: 1, 3, on: .picking), reservation(2, line: 1, 2)]
        let plan = try UnitCancellation.plan(order: order, reservations: held, request: .units(["A": 3]))
        #expect(plan.lines.map(\.backordered) == [1] && plan.lines.map(\.released) == [2])
        #expect(plan.reservations.map(\.reservationID) == [2])
        #expect(plan.putBacks.isEmpty && plan.event == .cancelBackorder)
        // Three of six goods (30.00 of 60.00) release half the total (64.90): floor(3,245).
        #expect(plan.cancelledMinor == 3_245 && !plan.nothingOpen)
    }

    @Test func aWalkedListGetsAPutBackAndAPickedOneToo() throws {
        let order = order(.picking, [("A", 4, 4, 0, 0)])
        let walking = try UnitCancellation.plan(
            order: order,
            reservations: [reservation(1, line: 1, 4, on: .picking)],
            request: .units(["A": 1])
        )
        #expect(walking.pickLines.map(\.quantity) == [3] && walking.putBacks.map(\.source) == [.walking])
        #expect(walking.shipmentLines.map(\.quantity) == [3] && walking.event == .cancelUnits)
        // Picked 3 of 4 (one short): the short unit goes first, then a picked one is put back.
        let picked = try UnitCancellation.plan(
            order: order,
            reservations: [reservation(1, line: 1, 4, on: .picked, list: .completed, picked: 3)],
            request: .units(["A": 2])
        )
        #expect(picked.pickLines.map(\.picked) == [2] && picked.putBacks.map(\.units) == [1])
    }

    @Test func aPackedParcelIsCutOnlyWholeAndShippedUnitsNever() throws {
        let order = order(.packed, [("A", 2, 2, 0, 0), ("B", 1, 1, 0, 0)])
        let packed = [reservation(1, line: 1, 2, on: .packed), reservation(2, line: 2, 1, on: .packed)]
        #expect(throws: OrderlyError.self) {
            try UnitCancellation.plan(order: order, reservations: packed, request: .units(["A": 1]))
        }
        #expect(throws: OrderlyError.self) {
            try UnitCancellation.plan(order: order, reservations: packed, request: .units(["A": 2]))
        }
        let whole = try UnitCancellation.plan(order: order, reservations: packed, request: .everythingOpen)
        #expect(whole.event == .cancel && whole.cancelledMinor == order.totalMinor)
        #expect(whole.putBacks.map(\.source) == [.packed, .packed])
        let shipped = self.order(.partiallyShipped, [("A", 3, 1, 0, 2)])
        #expect {
            try UnitCancellation.plan(order: shipped, reservations: [], request: .units(["A": 2]))
        } throws: { error in
            (error as? OrderlyError)?.message
                == "lines: A: 2 asked, 1 can be cancelled (3 ordered, 2 shipped, 0 cancelled already)"
        }
        #expect(throws: OrderlyError.self) {
            try UnitCancellation.plan(order: shipped, reservations: [], request: .units(["Z": 1]))
        }
    }

    @Test func theRestOfAPartiallyShippedOrderLeavesWhatShippedOwing() throws {
        let order = order(.partiallyShipped, [("A", 3, 1, 0, 2)])
        let plan = try UnitCancellation.plan(
            order: order,
            reservations: [reservation(1, line: 1, 1)],
            request: .everythingOpen
        )
        #expect(plan.event == .cancelUnshipped && plan.nothingOpen)
        // Shipped goods 20.00 of 30.00 owe floor(34.90 × 2 / 3) = 23.26; the rest is released.
        #expect(plan.cancelledMinor == 3_490 - 2_326)
    }

    @Test func theSharesNeverReleaseMoreThanTheTotal() {
        for total in [Int64(0), 1, 999, 3_490, 1_000_003] {
            for cancelled in [Int64(0), 1, 333, 1_000] {
                let share = ParcelShare.cancelledShare(
                    total: total,
                    subtotal: 1_000,
                    cancelledValue: cancelled,
                    shippedValue: 1_000 - cancelled,
                    nothingOpen: true,
                    anythingShipped: cancelled < 1_000
                )
                let due = ParcelShare.due(
                    total: total,
                    subtotal: 1_000,
                    shippedValue: 1_000 - cancelled,
                    everythingShipped: false
                )
                #expect(share >= 0 && share <= total && share + due == total)
            }
        }
    }
}

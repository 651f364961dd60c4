import Foundation
import OrderlyCore
import Testing

/// Takes everything from the first warehouse (by id) holding each SKU: enough to drive the decision.
private struct FirstHolder: RoutingStrategy {
    let name = "first"
    func plan(_ input: RoutingInput) -> RoutingPlan? {
        var allocation: [Int64: [Int64: Int64]] = [:]
        for line in input.lines {
            var left = line.quantity
            for warehouse in input.warehouses.sorted(by: { $0.id < $1.id }) where left > 0 {
                let take = min(left, input.available[warehouse.id]?[line.skuID] ?? 0)
                if take > 0 { allocation[warehouse.id, default: [:]][line.skuID, default: 0] += take }
                left -= take
            }
            if left > 0 { return nil }
        }
        return RoutingPlan(
            strategy: name,
            rule: "first holder",
            shipments: input.shipments(for: allocation),
            candidates: []
        )
    }
}

@Suite struct ReservationDecisionTests {
    let warehouses = [
        RoutingWarehouse(id: 1, code: "W1", location: GeoPoint(latitude: 0, longitude: 0)),
        RoutingWarehouse(id: 2, code: "W2", location: GeoPoint(latitude: 1, longitude: 1)),
    ]
    let backorder = ChannelPolicy(routing: "first", onShortage: .backorder, unpaidReservationSeconds: 1800)
    let reject = ChannelPolicy(routing: "first", onShortage: .reject, unpaidReservationSeconds: nil)

    func routed(_ lines: [WantedLine], available: [Int64: [Int64: Int64]]) -> RoutedReservation {
        RoutedReservation(
            wanted: lines,
            destination: RoutingDestination(country: "DE", location: nil),
            warehouses: warehouses,
            available: available,
            rates: [],
            strategy: FirstHolder()
        )
    }

    func order(
        _ status: OrderStatus = .received,
        lines: [WantedLine],
        reserved: Int64 = 0,
        paid: Bool = true,
        email: String? = "a@example.com"
    ) -> ReservationDecision.Order {
        ReservationDecision.Order(
            status: status,
            alreadyReserved: reserved,
            lines: lines,
            paymentSecured: paid,
            email: email,
            externalID: "X-1",
            id: 9
        )
    }

    let two = [
        WantedLine(lineID: 1, skuID: 10, open: 3, weight: 100), WantedLine(lineID: 2, skuID: 11, open: 2, weight: 50),
    ]

    @Test func everythingInStockIsReservedAndConfirmed() throws {
        let plan = routed(two, available: [1: [10: 3], 2: [11: 5]])
        #expect(plan.shortage.isEmpty)
        #expect(
            plan.allocations == [
                Allocation(warehouseID: 1, skuID: 10, quantity: 3), Allocation(warehouseID: 2, skuID: 11, quantity: 2),
            ]
        )
        let decision = try ReservationDecision.decide(
            order(lines: two),
            routed: plan,
            channel: backorder,
            attempt: 1,
            promisedAt: .now
        )
        guard case .reserve(let write, let bySKU) = decision else {
            Issue.record("expected a reservation, got \(decision)")
            return
        }
        #expect(write.move?.event == "reserve" && write.move?.to == .reserved)
        #expect(bySKU == [10: 3, 11: 2])
        #expect(decision.unitsReserved == 5)
        #expect(write.backordered.map(\.units) == [0, 0])
        #expect(write.message?.kind == .orderConfirmed)
        #expect(write.expiresInSeconds == nil)
        #expect(write.enqueuePicks)
        #expect(write.orderID == 9)
    }

    @Test func aShortOrderOnABackorderChannelIsPartlyReservedAndTold() throws {
        let plan = routed(two, available: [1: [10: 1]])
        #expect(plan.shortage == [10: 2, 11: 2])
        let decision = try ReservationDecision.decide(
            order(lines: two, paid: false),
            routed: plan,
            channel: backorder,
            attempt: 2,
            promisedAt: .now
        )
        guard case .reserve(let write, _) = decision else {
            Issue.record("expected a reservation, got \(decision)")
            return
        }
        #expect(write.move?.to == .partiallyReserved)
        #expect(write.move?.reason == "backordered: SKU 10 short 2, SKU 11 short 2")
        #expect(write.backordered.map(\.units) == [2, 2])
        #expect(write.message?.kind == .orderBackordered)
        // Unpaid: the reservation expires and no pick is enqueued.
        #expect(write.expiresInSeconds == 1800)
        #expect(!write.enqueuePicks)
        #expect(write.attempt == 2)
    }

    @Test func nothingInStockIsABackorder() throws {
        let decision = try ReservationDecision.decide(
            order(lines: two),
            routed: routed(two, available: [:]),
            channel: backorder,
            attempt: 1,
            promisedAt: .now
        )
        guard case .reserve(let write, _) = decision else {
            Issue.record("expected a backorder, got \(decision)")
            return
        }
        #expect(write.move?.to == .backordered)
        #expect(write.allocations.isEmpty)
        #expect(write.rule == "no stock to reserve")
    }

    @Test func aRejectingChannelCancelsAShortOrder() throws {
        let decision = try ReservationDecision.decide(
            order(lines: two),
            routed: routed(two, available: [1: [10: 3]]),
            channel: reject,
            attempt: 1,
            promisedAt: .now
        )
        guard case .reject(let move) = decision else {
            Issue.record("expected a rejection, got \(decision)")
            return
        }
        #expect(move.to == .cancelled)
        #expect(move.reason == "insufficient stock: SKU 11 short 2")
        #expect(decision.unitsReserved == 0)
    }

    @Test func anOrderBeingFulfilledKeepsItsStatusAndIsNeverRejected() throws {
        let decision = try ReservationDecision.decide(
            order(.picking, lines: two, reserved: 4),
            routed: routed(two, available: [1: [10: 1]]),
            channel: reject,
            attempt: 1,
            promisedAt: .now
        )
        guard case .reserve(let write, _) = decision else {
            Issue.record("expected a reservation, got \(decision)")
            return
        }
        #expect(write.move == nil)
        // Still short: the customer hears the rest is backordered.
        #expect(write.message?.kind == .orderBackordered)
        let filled = try ReservationDecision.decide(
            order(.packed, lines: two, reserved: 4),
            routed: routed(two, available: [1: [10: 3, 11: 2]]),
            channel: reject,
            attempt: 1,
            promisedAt: .now
        )
        guard case .reserve(let complete, _) = filled else {
            Issue.record("expected a reservation, got \(filled)")
            return
        }
        #expect(complete.move == nil && complete.message == nil)
    }

    @Test func aPartiallyReservedOrderThatGetsNothingMoreDoesNotMove() throws {
        let decision = try ReservationDecision.decide(
            order(.partiallyReserved, lines: two, reserved: 1),
            routed: routed(two, available: [:]),
            channel: backorder,
            attempt: 1,
            promisedAt: .now
        )
        guard case .reserve(let write, _) = decision else {
            Issue.record("expected a reservation, got \(decision)")
            return
        }
        #expect(write.move == nil)
    }

    @Test func aHeldOrderCannotBeReserved() {
        #expect(throws: IllegalTransition.self) {
            try ReservationDecision.decide(
                order(.onHold, lines: two),
                routed: routed(two, available: [1: [10: 3, 11: 2]]),
                channel: backorder,
                attempt: 1,
                promisedAt: .now
            )
        }
    }

    @Test func aPlanThatStillFitsItsLockedRowsIsKept() throws {
        let plan = routed(two, available: [1: [10: 3, 11: 2]])
        let locked = [
            LockedStock(warehouseID: 1, skuID: 10, onHand: 5, reserved: 2, safetyStock: 0),
            LockedStock(warehouseID: 1, skuID: 11, onHand: 2, reserved: 0, safetyStock: 0),
        ]
        #expect(try plan.fitted(to: locked, lastAttempt: false).allocations == plan.allocations)
    }

    @Test func aStalePlanIsReadAgainOrOnTheLastAttemptReplannedFromTheLockedRows() throws {
        let plan = routed(two, available: [1: [10: 3, 11: 2]])
        // Someone took two units of SKU 10 (and safety stock holds one of SKU 11) since the read.
        let locked = [
            LockedStock(warehouseID: 1, skuID: 10, onHand: 3, reserved: 2, safetyStock: 0),
            LockedStock(warehouseID: 1, skuID: 11, onHand: 2, reserved: 0, safetyStock: 1),
        ]
        #expect(throws: StalePlan.self) { try plan.fitted(to: locked, lastAttempt: false) }
        let replanned = try plan.fitted(to: locked, lastAttempt: true)
        #expect(replanned.shortage == [10: 2, 11: 1])
        #expect(replanned.allocations.reduce(0) { $0 + $1.quantity } == 2)
        for allocation in replanned.allocations {
            let row = locked.first { $0.warehouseID == allocation.warehouseID && $0.skuID == allocation.skuID }
            #expect(allocation.quantity <= row?.availableToPromise ?? 0)
        }
    }

    @Test func customerMessagesCarryTheirDedupeKeys() {
        #expect(CustomerMessages.confirmed(externalID: "E", email: "a@b.c").dedupeKey == "order_confirmed:order:")
        #expect(
            CustomerMessages.cancelled(orderID: 4, externalID: "E", email: "a@b.c", reason: "r").dedupeKey
                == "order_cancelled:order:4"
        )
    }
}

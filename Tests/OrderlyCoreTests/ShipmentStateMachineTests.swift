import OrderlyCore
import Testing

@Suite struct ShipmentStateMachineTests {
    @Test func aParcelGoesFromPickingToDelivered() {
        var status = ShipmentStateMachine.initial
        for event: ShipmentEvent in [.pick, .pack, .label, .ship, .delay, .deliver] {
            guard let next = ShipmentStateMachine.next(from: status, on: event) else {
                Issue.record("\(event) refused from \(status)")
                return
            }
            status = next
        }
        #expect(status == .delivered)
    }

    @Test func terminalStatusesAreTheOnesNothingLeaves() {
        #expect(ShipmentStateMachine.terminal == [.delivered, .lost, .damaged, .returned, .cancelled])
    }

    @Test func everyStatusIsReachableFromPlanned() {
        var seen: Set<ShipmentStatus> = [.planned]
        var frontier: [ShipmentStatus] = [.planned]
        while let status = frontier.popLast() {
            for event in ShipmentStateMachine.events(from: status) {
                if let next = ShipmentStateMachine.next(from: status, on: event), seen.insert(next).inserted {
                    frontier.append(next)
                }
            }
        }
        #expect(seen == Set(ShipmentStatus.allCases))
    }

    @Test func stepsOutOfOrderAreRefused() {
        #expect(ShipmentStateMachine.next(from: .picking, on: .pack) == nil)
        #expect(ShipmentStateMachine.next(from: .packed, on: .ship) == nil)
        #expect(ShipmentStateMachine.next(from: .delivered, on: .lose) == nil)
        #expect(ShipmentStateMachine.next(from: .lost, on: .deliver) == nil)
        #expect(ShipmentStateMachine.next(from: .delayed, on: .delay) == nil)
    }

    @Test func carrierEventsMapToShipmentMovesEndingInTheirStatus() {
        for event in CarrierEvent.allCases {
            let sources = ShipmentStateMachine.sources(of: event.shipmentEvent)
            #expect(!sources.isEmpty)
            for source in sources {
                #expect(ShipmentStateMachine.next(from: source, on: event.shipmentEvent) == event.status)
            }
        }
        #expect(ShipmentStateMachine.sources(of: .deliver) == [.delayed, .shipped])
        #expect(ShipmentStateMachine.sources(of: .delay) == [.shipped])
    }

    @Test func statusSetsAreDisjointWhereTheyMustBe() {
        #expect(ShipmentStatus.beingPicked.isDisjoint(with: ShipmentStatus.packedToLeave))
        #expect(ShipmentStatus.settled.isDisjoint(with: ShipmentStatus.beingPicked))
        #expect(PickListStatus.confirmable == [.open, .inProgress])
        #expect(JobState.pending.isDisjoint(with: JobState.finished))
        #expect(JobState.claimable.isSubset(of: JobState.pending))
        #expect(JobState.pending.union(JobState.finished) == Set(JobState.allCases))
    }

    @Test func orderStatusSets() {
        #expect(OrderStatus.fulfilling == [.picking, .packed, .partiallyShipped])
        #expect(OrderStatus.reservable.isSuperset(of: OrderStatus.fulfilling))
        #expect(!OrderStatus.reservable.contains(.reserved))
        #expect(!OrderStatus.reservable.contains(.onHold))
        #expect(OrderStatus.pickable.contains(.reserved))
        #expect(!OrderStatus.pickable.contains(.backordered))
        // Every fulfilling status can be held mid-fulfillment and resumed.
        for status in OrderStatus.fulfilling {
            #expect(OrderStateMachine.resume(to: status) != nil)
        }
    }
}

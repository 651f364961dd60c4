import Foundation
import OrderlyCore
import Testing

@Suite
struct OrderStateMachineTests {
    static let allPairs: [(OrderStatus, OrderEvent)] = OrderStatus.allCases.flatMap { status in
        OrderEvent.allCases.map { (status, $0) }
    }

    @Test(arguments: allPairs)
    func everyPairIsEitherAllowedByTheTableOrRefused(_ status: OrderStatus, _ event: OrderEvent) throws {
        if let target = OrderStateMachine.moves[event]?[status] {
            #expect(try OrderStateMachine.next(from: status, on: event) == target)
        } else {
            #expect(throws: IllegalTransition(from: status, event: event)) {
                try OrderStateMachine.next(from: status, on: event)
            }
        }
    }

    @Test func illegalMovesThatMatter() {
        let refused: [(OrderStatus, OrderEvent)] = [
            (.onHold, .reserve),  // a held order is never routed
            (.onHold, .startPicking),
            (.shipped, .cancel),  // too late: it left the building
            (.delivered, .cancel),
            (.cancelled, .release),
            (.cancelled, .reserve),
            (.returned, .returnAll),
            (.received, .ship),
            (.received, .deliver),
            (.backordered, .startPicking),
        ]
        for (status, event) in refused {
            #expect(throws: IllegalTransition.self, "\(status) -> \(event)") {
                try OrderStateMachine.next(from: status, on: event)
            }
        }
    }

    @Test func everyStatusIsReachableAndOnlyTheEndsAreFinal() {
        #expect(OrderStateMachine.reachable() == Set(OrderStatus.allCases))
        #expect(OrderStateMachine.terminal == [.cancelled, .returned])
    }

    @Test func replayFollowsTheRecordedMovesAndRejectsAGap() throws {
        let happy: [(event: OrderEvent, from: OrderStatus, to: OrderStatus)] = [
            (.reserve, .received, .reserved), (.startPicking, .reserved, .picking), (.pack, .picking, .packed),
            (.ship, .packed, .shipped), (.deliver, .shipped, .delivered),
        ]
        #expect(try OrderStateMachine.replay(happy) == .delivered)
        var gap = happy
        gap.remove(at: 2)  // picking -> (packed missing) -> shipped
        #expect(throws: IllegalTransition.self) { try OrderStateMachine.replay(gap) }
    }

    @Test func theRefusalSaysWhatIsAllowed() {
        let error = IllegalTransition(from: .onHold, event: .reserve)
        #expect(
            error.description
                == "an order that is on_hold cannot reserve (allowed: hold, release, cancel, edit, cancel_units, resume_picking, resume_packed, resume_partially_shipped)"
        )
        #expect(IllegalTransition(from: .cancelled, event: .ship).description.hasSuffix("(it is final)"))
    }
}

/// docs/architecture.md's diagram is the table's.
@Suite
struct OrderStateDiagramTests {
    @Test func theArchitectureDocumentShowsEveryMove() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        let start = try #require(text.range(of: "```mermaid\n"))
        let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
        #expect(String(text[start.upperBound..<end.lowerBound]) == OrderStateMachine.diagram)
    }
}

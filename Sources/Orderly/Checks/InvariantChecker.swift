import LibPQ
import OrderlyCore
package import OrderlyStore

/// Verifies DESIGN.md's invariants 1-4 and 7 on a live database, in one REPEATABLE READ READ ONLY
/// transaction so every check sees the same snapshot.
public struct InvariantChecker: Sendable {
    /// What was checked and what is off.
    public struct Report: Sendable {
        public var violations: [(invariant: Int, detail: String)] = []
        public var ordersChecked = 0
        public var isClean: Bool { violations.isEmpty }
    }

    /// The invariants checked, by number, with what each says.
    public static let invariants: [(Int, String)] = [
        (1, "0 <= reserved <= on_hand on every inventory row"),
        (2, "every inventory row equals the sum of its ledger rows"),
        (3, "reserved equals the active reservations of the row"),
        (4, "every order's status is what its events replay to"),
        (7, "per order, 0 <= captured - refunded <= total"),
    ]

    public let database: OrderlyDatabase

    public init(database: OrderlyDatabase) {
        self.database = database
    }

    public func run() async throws -> Report {
        try await database.pool.transaction(isolation: .repeatableRead, readOnly: true) { connection in
            var report = Report()
            for detail in try InvariantQueries.reservedOutOfRange(connection) { report.violations.append((1, detail)) }
            for detail in try InvariantQueries.ledgerMismatches(connection) { report.violations.append((2, detail)) }
            for detail in try InvariantQueries.reservationMismatches(connection) {
                report.violations.append((3, detail))
            }
            for detail in try InvariantQueries.paymentsOutOfBalance(connection) {
                report.violations.append((7, detail))
            }
            var after: Int64 = 0
            while true {
                let batch = try InvariantQueries.orderHistories(connection, afterID: after, limit: 1000)
                guard let last = batch.last else { break }
                for history in batch {
                    if let problem = Self.historyProblem(history) {
                        report.violations.append((4, "order \(history.orderID): \(problem)"))
                    }
                }
                report.ordersChecked += batch.count
                after = last.orderID
            }
            return report
        }
    }

    /// Invariant 4 for one order: one capture event first, then moves the state machine allows, each
    /// starting where the last ended, ending at the order's status. Facts (payments) move nothing:
    /// each must leave the order where it found it.
    package static func historyProblem(_ history: InvariantQueries.OrderHistory) -> String? {
        guard let first = history.events.first else { return "has no events" }
        guard first.event == OrderStateMachine.captureEvent, first.from == nil,
            first.to == OrderStateMachine.initial.rawValue
        else { return "first event is \(first.event) (\(first.from ?? "-") -> \(first.to)), not capture" }
        var moves: [(event: OrderEvent, from: OrderStatus, to: OrderStatus)] = []
        var current = OrderStateMachine.initial.rawValue
        for (index, recorded) in history.events.dropFirst().enumerated() {
            if OrderFact(rawValue: recorded.event) != nil {
                guard recorded.from == current, recorded.to == current else {
                    return "event #\(index + 2) (\(recorded.event)) is a fact but records \(recorded.from ?? "-") -> "
                        + "\(recorded.to) while the order was \(current)"
                }
                continue
            }
            guard let event = OrderEvent(rawValue: recorded.event), let from = recorded.from.flatMap(OrderStatus.init),
                let to = OrderStatus(rawValue: recorded.to)
            else { return "event #\(index + 2) (\(recorded.event)) is not a known move" }
            moves.append((event, from, to))
            current = to.rawValue
        }
        let replayed: OrderStatus
        do {
            replayed = try OrderStateMachine.replay(moves)
        } catch {
            return "events do not replay: \(error)"
        }
        guard replayed.rawValue == history.status else {
            return "status is \(history.status) but its events lead to \(replayed.rawValue)"
        }
        return nil
    }
}

import ArgumentParser
import Orderly

/// `orderly check`: verifies the invariants on a live database.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify Orderly's invariants on a live database; exit 1 if any is broken.",
        discussion: """
            Checks, in one read-only snapshot: 0 <= reserved <= on_hand (1); every inventory row equals \
            its ledger (2); reserved equals the active reservations (3); every order's status is what \
            its events replay to (4). Each violation is printed on its own line.

            Example:
              orderly check --database-url postgresql://orderly@db/orderly
            """
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = CommandLogging.logger("orderly.check")
        let orderly = try await OrderlyDatabase.open(url: try database.resolve(logger: logger).url, logger: logger)
        let report: InvariantChecker.Report
        do {
            report = try await InvariantChecker(database: orderly).run()
        } catch {
            await orderly.close()
            throw error
        }
        await orderly.close()
        for line in Self.lines(violations: report.violations, ordersChecked: report.ordersChecked) { print(line) }
        if !report.isClean { throw ExitCode(1) }
    }

    /// What `orderly check` prints, and `orderly admin CHECK` too: a line per violation, then the verdict.
    static func lines(violations: [(invariant: Int, detail: String)], ordersChecked: Int) -> [String] {
        violations.map { "invariant \($0.invariant): \($0.detail)" }
            + [
                violations.isEmpty
                    ? "ok: invariants 1-4 and 7 hold (\(ordersChecked) orders checked)"
                    : "\(violations.count) violations"
            ]
    }
}

import ArgumentParser
import Foundation
import Logging
import Orderly
import OrderlyCore

/// `orderly demo`: a new user's first command. A database (the private cluster unless one is
/// configured), the schema, three simulated weeks of orders carried to delivery by an in-process
/// worker, then a short report from the analytics views.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a private database, simulate three weeks of orders through Orderly, and report on them.",
        discussion: """
            With no database configured this starts the private PostgreSQL cluster under .orderly/ \
            (as `orderly dev` does), applies the schema, and seeds it with `orderly seed`'s world: \
            orders on seven channels placed, held and released, cancelled, backordered and filled when \
            stock arrives, picked, packed, shipped and delivered by a worker running in this process, \
            some returned and refunded. It then prints what the analytics views say. Run it again and \
            it reports on what is there. The database stays: `orderly dev psql` to explore it.

            Example:
              orderly demo
              orderly dev psql
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Orders to simulate.")
    var orders = 600

    @Option(help: "Simulated days, ending now.")
    var days = 21

    func validate() throws {
        guard (10...100_000).contains(orders) else { throw ValidationError("--orders must be 10...100000") }
        guard (1...365).contains(days) else { throw ValidationError("--days must be 1...365") }
    }

    func run() async throws {
        var logger = CommandLogging.logger("orderly.demo")
        if ProcessInfo.processInfo.environment["ORDERLY_LOG_LEVEL"] == nil { logger.logLevel = .error }
        let (url, source) = try database.resolve(logger: logger, fallback: .privateCluster)
        if case .privateCluster = source { print("using the private PostgreSQL cluster under .orderly/") }
        let migrated = try Schema(url: url, logger: logger).migrate()
        print("schema: \(migrated.applied.count) migrations applied, \(migrated.alreadyApplied) already there")
        let simulation = try await Simulation.open(url: url, poolSize: 16, logger: logger)
        do {
            if try await simulation.orderCount() == 0 {
                print("simulating \(days) days of orders (\(orders) orders, a worker in this process)…")
                let seeder = Seeder(
                    simulation: simulation,
                    settings: Seeder.Settings(
                        orders: orders,
                        days: days,
                        seed: 1,
                        clients: 4,
                        skus: 60,
                        end: Seeder.quarterHour(Date())
                    ),
                    logger: logger
                )
                let tally = try await seeder.run(progress: ProgressBar(total: orders, unit: "orders", command: "seed"))
                print(Self.story(tally))
            } else {
                print("the database has orders already: reporting on them")
            }
            try await AnalyticsService(database: simulation.database).refreshAll()
            for line in try await Self.report(AnalyticsService(database: simulation.database)) { print(line) }
        } catch {
            try? await simulation.clearClock()
            await simulation.database.close()
            throw error
        }
        await simulation.database.close()
        print(
            """

            The database is still there. Explore it with `orderly dev psql`, for instance:
              SELECT * FROM analytics.order_funnel ORDER BY day DESC LIMIT 10;
              SELECT sku, days_of_cover FROM analytics.inventory_position ORDER BY days_of_cover NULLS LAST LIMIT 10;
              SELECT * FROM analytics.returns_by_sku ORDER BY return_rate DESC LIMIT 10;
            docs/analytics.md describes every view; `orderly report --out report.html` draws them.
            """
        )
    }

    /// What happened, in a sentence or two.
    static func story(_ tally: [String: Int]) -> String {
        func n(_ key: String) -> Int { tally[key] ?? 0 }
        let placed = n("orders")
        let held = n("placed:on_hold")
        let backordered = n("placed:backordered") + n("placed:partially_reserved")
        return """
            \(placed) orders placed: \(held) held for review (\(n("released")) released), \(backordered) waiting for \
            stock (filled as \(n("receipts")) deliveries arrived), \(n("cancelled")) cancelled by customers; \
            \(n("pick_lists")) pick lists confirmed, \(n("handed_over")) parcels handed to carriers, \
            \(n("carrier:delivered")) delivered; \(n("returns")) returns opened, \(n("refunded")) refunded, \
            \(n("credited")) credited, \(n("exchanged")) exchanged.
            """
    }

    /// The short report: funnel, cycle times, promises, returns, stock, queue, as tables of 100 columns.
    static func report(_ analytics: AnalyticsService) async throws -> [String] {
        let sections: [(String, AnalyticsReport)] = [
            ("Orders by channel, through each stage (analytics.order_funnel)", .funnel),
            ("Hours from capture to shipping and to the door (analytics.shipment_facts)", .cycleTimes),
            ("Promises kept (analytics.on_time)", .onTime),
            ("Returns by reason (analytics.returns_summary)", .returnReasons),
            ("Fastest-moving SKUs: stock and days of cover (analytics.inventory_position)", .stockCover),
            ("The job queue (analytics.job_queue_health)", .queue),
        ]
        var lines = [String]()
        for (title, report) in sections {
            lines.append("")
            lines.append(title)
            let rows = try await analytics.report(report)
            if rows.isEmpty {
                lines.append("  (nothing yet)")
            } else {
                lines += AdminRendering.table(rows.map { $0.map { ($0.0, $0.1.text) } }, width: 100).map { "  " + $0 }
            }
        }
        return lines
    }
}

extension ReportCell {
    /// The cell as a table shows it.
    var text: String {
        switch self {
        case .text(let value): value
        case .int(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .null: ""
        }
    }
}

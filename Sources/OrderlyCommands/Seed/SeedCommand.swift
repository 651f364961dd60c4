import ArgumentParser
import Foundation
import Logging
import Orderly
import OrderlyWorker

/// `orderly seed`: a year of realistic orders through the real services.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill an empty Orderly database with a simulated year of orders, through the real services.",
        discussion: """
            Builds a world (five warehouses in four countries, customers in 31 cities, a catalogue with \
            a long tail, seven channels including named marketplaces, five carriers' rates) and then \
            simulates --days days ending now, a quarter hour at a time, with the database's clock \
            (orderly_now()) moved along: orders with seasonal demand and a Black-Friday peak, holds \
            released or cancelled, bank transfers paid late or never, customer cancellations, pick \
            waves, carrier pickups, deliveries, delays, losses and damage, returns with inspection, \
            refunds, store credit and exchanges, purchase orders and receipts, cycle counts. A worker \
            runs in-process. Everything goes through the services, so `orderly check` is clean after.

            The same --seed gives the same world, orders, customers and decisions; with --clients above \
            1, which of two simultaneous orders wins a last unit may differ between runs.

            Example:
              orderly seed --orders 20000
              orderly check
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Orders to place over the simulated period.")
    var orders = 10_000

    @Option(help: "Simulated days, ending now.")
    var days = 365

    @Option(help: "The random seed: the same seed, the same world and orders.")
    var seed: UInt64 = 1

    @Option(help: "Orders and events in flight at once (and the in-process worker's concurrency).")
    var clients = 8

    @Option(help: "Products in the catalogue.")
    var skus = 250

    @Option(
        help:
            "When the simulated period ends, as YYYY-MM-DDTHH:MM:SSZ (default: now). Fix it to seed the same data twice."
    )
    var until: String?

    /// The period's end, on a quarter hour (the simulation steps by them).
    func end() throws -> Date {
        var instant = Date()
        if let until {
            guard let parsed = ISO8601DateFormatter().date(from: until) else {
                throw ValidationError("--until must be an instant like 2026-12-01T00:00:00Z, not '\(until)'")
            }
            instant = parsed
        }
        return Seeder.quarterHour(instant)
    }

    func validate() throws {
        guard (1...10_000_000).contains(orders) else { throw ValidationError("--orders must be 1...10000000") }
        guard (1...3650).contains(days) else { throw ValidationError("--days must be 1...3650") }
        guard (1...64).contains(clients) else { throw ValidationError("--clients must be 1...64") }
        guard (10...100_000).contains(skus) else { throw ValidationError("--skus must be 10...100000") }
        _ = try end()
    }

    func run() async throws {
        var logger = CommandLogging.logger("orderly.seed")
        if ProcessInfo.processInfo.environment["ORDERLY_LOG_LEVEL"] == nil { logger.logLevel = .error }
        let url = try database.resolve(logger: logger, fallback: .privateCluster).url
        let simulation = try await Simulation.open(url: url, poolSize: clients * 2 + 8, logger: logger)
        do {
            let existing = try await simulation.orderCount()
            guard existing == 0 else {
                throw ValidationError(
                    "the database has \(existing) orders already: seed an empty one (orderly dev reset)"
                )
            }
            let clock = ContinuousClock()
            let began = clock.now
            let progress = ProgressBar(total: orders, unit: "orders", command: "seed")
            let seeder = Seeder(
                simulation: simulation,
                settings: Seeder.Settings(
                    orders: orders,
                    days: days,
                    seed: seed,
                    clients: clients,
                    skus: skus,
                    end: try end()
                ),
                logger: logger
            )
            let tally = try await seeder.run(progress: progress)
            let seconds = (clock.now - began).seconds
            progress.finish()
            let refreshed = try await AnalyticsService(database: simulation.database).refreshAll()
            print(Self.summary(tally: tally, seconds: seconds, refreshMilliseconds: refreshed))
        } catch {
            try? await simulation.clearClock()
            await simulation.database.close()
            throw error
        }
        await simulation.database.close()
    }

    static func summary(tally: [String: Int], seconds: Double, refreshMilliseconds: Double) -> String {
        let orders = tally["orders"] ?? 0
        var lines = [
            String(
                format: "seeded %d orders in %.1f s (%.0f orders/s); analytics refreshed in %.0f ms",
                orders,
                seconds,
                Double(orders) / max(seconds, 0.001),
                refreshMilliseconds
            )
        ]
        for key in tally.keys.sorted() where key != "orders" {
            lines.append("  \(key): \(tally[key] ?? 0)")
        }
        return lines.joined(separator: "\n")
    }
}

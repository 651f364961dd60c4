public import Foundation
import LibPQ
public import Logging
public import OrderlyCore
import OrderlyStore

/// What drives Orderly through simulated time (`orderly seed`, `orderly demo`): a database whose
/// sessions read the simulated clock, the clock itself, and the floor's waiting work. Everything
/// else a simulation does goes through the services, as any caller's would.
public struct Simulation: Sendable {
    public let database: OrderlyDatabase

    /// Opens a pool whose sessions read `orderly_clock` (`orderly.simulated_clock = on`); other
    /// processes on the same database keep real time.
    public static func open(url: String, poolSize: Int, logger: Logger) async throws -> Simulation {
        var options = PostgresPoolOptions()
        options.maxConnections = max(1, poolSize)
        let configuration = PostgresConfiguration(
            conninfo: url,
            applicationName: "orderly-seed",
            settings: ["orderly.simulated_clock": "on"]
        )
        return Simulation(
            database: try await OrderlyDatabase.open(configuration: configuration, options: options, logger: logger)
        )
    }

    /// Moves the simulated clock to `instant` (the next transactions read it).
    public func setClock(_ instant: Date) async throws {
        try await database.pool.withConnection { try SimulationQueries.setClock($0, to: instant) }
    }

    /// Back to real time for everyone.
    public func clearClock() async throws {
        try await database.pool.withConnection { try SimulationQueries.clearClock($0) }
    }

    public typealias PickLine = WaitingPickLine

    public func openPickLines(warehouseID: Int64) async throws -> [PickLine] {
        try await database.pool.withConnection { try SimulationQueries.openPickLines($0, warehouseID: warehouseID) }
    }

    public func awaitingHandover(warehouseID: Int64) async throws -> [(shipmentID: Int64, orderID: Int64)] {
        try await database.pool.withConnection { try SimulationQueries.awaitingHandover($0, warehouseID: warehouseID) }
    }

    public func jobsInFlight() async throws -> Int64 {
        try await database.pool.withConnection { try SimulationQueries.jobsInFlight($0) }
    }

    public func stock() async throws -> [StockPosition] {
        try await database.pool.withConnection { try SimulationQueries.stock($0) }
    }

    public func orderCount() async throws -> Int64 {
        try await database.pool.withConnection { try SimulationQueries.orderCount($0) }
    }

    /// How a warehouse confirms picks (`auto` or `scanner`) and hands parcels to the carrier (`auto`
    /// or `scan`).
    public func setFulfillment(warehouseID: Int64, pickConfirmation: String, handover: String) async throws {
        let found = try await database.pool.withConnection {
            try SimulationQueries.setFulfillment(
                $0,
                warehouseID: warehouseID,
                pickConfirmation: pickConfirmation,
                handover: handover
            )
        }
        if !found { throw OrderlyError(.notFound, "warehouse \(warehouseID) does not exist") }
    }
}

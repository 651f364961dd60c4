import Foundation
import LibPQ
import OrderlyTestSupport
import Testing

/// orderly_now(): the database's now, or the simulated instant for sessions that ask for it.
@Suite(.migratedDatabase)
struct DatabaseClockTests {
    @Test func onlySessionsThatAskReadTheSimulatedClock() throws {
        let database = try TestDatabase.require()
        let simulated = try database.connect()
        let real = try database.connect()
        defer {
            simulated.close()
            real.close()
        }
        _ = try simulated.execute(
            "INSERT INTO orderly_clock (at) VALUES ('2025-11-28 10:00:00+00') ON CONFLICT (singleton) DO UPDATE SET at = EXCLUDED.at",
            []
        )
        _ = try simulated.execute("SET orderly.simulated_clock = on", [])
        let year = "SELECT extract(year FROM orderly_now() AT TIME ZONE 'UTC')::int"
        #expect(try simulated.query(year, []).scalar(Int.self) == 2025)
        #expect(try real.query("SELECT orderly_now() = now()", []).scalar(Bool.self))

        // Defaults follow the session's clock: a warehouse made in the simulation was made in 2025.
        let code = "CLK" + String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
        let createdYear = try simulated.query(
            """
            INSERT INTO warehouses (code, name, latitude, longitude, address_line1, city, country)
            VALUES ($1, 'Clock', 52.5, 13.4, 'Street 1', 'Berlin', 'DE')
            RETURNING extract(year FROM created_at AT TIME ZONE 'UTC')::int
            """,
            [code]
        ).scalar(Int.self)
        #expect(createdYear == 2025)

        // Without a clock row the simulated session reads now() as well.
        _ = try simulated.execute("DELETE FROM orderly_clock", [])
        #expect(try simulated.query("SELECT orderly_now() = now()", []).scalar(Bool.self))
    }
}

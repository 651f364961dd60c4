import Foundation
import Orderly
import OrderlyAdminProtocol
import OrderlyCommands
import OrderlyCore
import OrderlyTestSupport
import Testing

/// Delivery promises over the wire: a warehouse's calendar set by WAREHOUSE CALENDAR (bad ones
/// refused, nothing changed), the promise in ORDER SHOW, and ORDER LIST at_risk=true once the sweep
/// has found the parcel late.
@Suite(.serialized)
struct PromiseProtocolTests {
    static func value(_ line: String, _ key: String) -> String? { PaymentProtocolTests.value(line, key) }

    static func ok(_ c: AdminClient, _ line: String) throws -> [String] {
        let reply = try c.request(line)
        #expect(reply.first?.hasPrefix("OK") == true, "\(line) → \(reply)")
        return reply
    }

    static func field(_ line: String, _ key: String) throws -> String {
        guard let found = value(line, key) else { throw AdminClientError("no \(key) in \(line)") }
        return found
    }

    @Test func aCalendarMakesThePromiseAndALateParcelIsListedAtRisk() async throws {
        let fixture = try await ServerFixture.start("promises")
        defer { Task { await fixture.stop() } }
        let order = try await onThread { () throws -> String in
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] { try Self.ok(c, line) }
            func field(_ line: String, _ key: String) throws -> String { try Self.field(line, key) }
            _ = try ok("WAREHOUSE ADD code=PR1 name=W lat=48.1 lon=11.5 line1=x city=München country=DE")
            _ = try ok("SKU ADD code=PRS name=Widget weight_g=300 length_mm=10 width_mm=10 height_mm=10")
            _ = try ok("STOCK RECEIVE warehouse=PR1 sku=PRS qty=5")
            _ = try ok(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2"
            )
            let before = try ok("WAREHOUSE CALENDAR warehouse=PR1 not_holidays=2000-01-01")[0]
            #expect(try field(before, "time_zone") == "UTC" && field(before, "cutoff") == "15:00", "\(before)")
            #expect(try field(before, "working_days") == "mon,tue,wed,thu,fri", "\(before)")

            // Bad calendars: refused, and the calendar is what it was.
            for bad in [
                "time_zone=Mars/Olympus", "cutoff=25:00", "cutoff=9:00", "working_days=funday", "working_days=",
                "lead_time_min=-1", "lead_time_min=10081", "holidays=2026-02-30", "holidays=2026-12-24,tomorrow",
                "holidays=2026-12-24 not_holidays=2026-12-24", "",
            ] {
                let reply = try c.request("WAREHOUSE CALENDAR warehouse=PR1 \(bad)")
                #expect(reply.first?.hasPrefix("ERR BAD_ARG") == true, "\(bad) → \(reply)")
            }
            #expect(
                try c.request("WAREHOUSE CALENDAR warehouse=NOPE cutoff=10:00").first?.hasPrefix("ERR NOT_FOUND")
                    == true
            )
            let op = try fixture.client("op")
            #expect(
                try op.request("WAREHOUSE CALENDAR warehouse=PR1 cutoff=10:00").first?.hasPrefix("ERR FORBIDDEN")
                    == true
            )
            #expect(try ok("WAREHOUSE CALENDAR warehouse=PR1 not_holidays=2000-01-01")[0] == before)

            let set = try ok(
                "WAREHOUSE CALENDAR warehouse=PR1 time_zone=Europe/Berlin cutoff=14:00 working_days=mon,tue,wed,thu,fri,sat "
                    + "lead_time_min=45 holidays=2099-12-25,2099-12-24"
            )[0]
            #expect(try field(set, "time_zone") == "Europe/Berlin" && field(set, "cutoff") == "14:00", "\(set)")
            #expect(try field(set, "working_days") == "mon,tue,wed,thu,fri,sat" && field(set, "lead_time_min") == "45")
            #expect(try field(set, "holidays") == "2099-12-24,2099-12-25", "\(set)")

            let created = try ok(
                "ORDER CREATE channel=web external_id=PR-1 currency=EUR lines=PRS:1:1000 shipping=490 "
                    + "name=Ada line1=\"Str 1\" city=Kassel country=DE postal=34117 lat=51.3 lon=9.5 token=tok_authorized"
            )[0]
            let order = try field(created, "id")
            let shown = try ok("ORDER SHOW \(order)")[1]
            #expect(try field(shown, "ship_by").hasSuffix(":00Z") && field(shown, "at_risk") == "false", "\(shown)")
            #expect(try LocalDate(field(shown, "deliver_by")) != nil, "\(shown)")
            #expect(try ok("ORDER LIST at_risk=true")[0] == "OK rows=0")
            return order
        }

        // The worker's sweep, run here at a moment past the ship-by.
        let orders = OrderService(database: OrderlyDatabase(pool: fixture.pool), actor: "test")
        let shipBy = try #require(
            try await orders.database.read(AdminReads.order(Int64(order)!)).promises.first?.promise.shipBy
        )
        #expect(try await orders.watchPromises(asOf: shipBy.addingTimeInterval(60)) == 1)
        try await onThread {
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] { try Self.ok(c, line) }
            func field(_ line: String, _ key: String) throws -> String { try Self.field(line, key) }
            let listed = try ok("ORDER LIST at_risk=true")
            let listedID = listed.count == 3 ? try field(listed[1], "id") : ""
            #expect(listedID == order, "\(listed)")
            #expect(try field(ok("ORDER SHOW \(order)")[1], "at_risk") == "true")
            #expect(try c.request("ORDER LIST at_risk=maybe").first?.hasPrefix("ERR BAD_ARG") == true)
        }
    }
}

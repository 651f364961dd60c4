import Foundation
import Orderly
import OrderlyAdminProtocol
import OrderlyCommands
import OrderlyCore
import OrderlyTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

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
                "time_zone=Mars/Olympus", "time_zone=GMT+5", "time_zone=europe/berlin", "cutoff=25:00", "cutoff=9:00",
                "working_days=funday", "working_days=",
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

    @Test func theChosenServiceIsRoutedPromisedAndBought() async throws {
        let fixture = try await ServerFixture.start("service_level")
        defer { Task { await fixture.stop() } }
        let worker = try WorkerProcess(conninfo: fixture.database.conninfo, id: "service-level")
        let orders = try await onThread { () throws -> (express: String, standard: String) in
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] { try Self.ok(c, line) }
            func field(_ line: String, _ key: String) throws -> String { try Self.field(line, key) }
            // Munich is nearer Kassel's customer than Hamburg, but only Hamburg has an express rate.
            var ids: [String] = []
            _ = try ok("SKU ADD code=SLS name=Widget weight_g=300 length_mm=10 width_mm=10 height_mm=10")
            for (code, lat, city) in [("SLM", 48.1, "München"), ("SLH", 53.5, "Hamburg")] {
                ids.append(
                    try field(
                        ok("WAREHOUSE ADD code=\(code) name=W lat=\(lat) lon=10 line1=x city=\(city) country=DE")[0],
                        "id"
                    )
                )
                _ = try ok("STOCK RECEIVE warehouse=\(code) sku=SLS qty=5")
            }
            _ = try ok(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=3"
            )
            _ = try ok(
                "RATE ADD carrier=UPS service=express country=DE min_g=0 max_g=5000 price=1500 currency=EUR days=1 origin=SLH"
            )
            func create(_ id: String, _ extra: String) throws -> [String] {
                try c.request(
                    "ORDER CREATE channel=web external_id=\(id) currency=EUR lines=SLS:1:1000 shipping=490 "
                        + "name=Ada line1=\"Str 1\" city=Kassel country=DE postal=34117 lat=51.3 lon=9.5 "
                        + "token=tok_authorized \(extra)"
                )
            }
            // A service no rate has: refused, nothing stored.
            let refused = try create("SL-0", "service_level=teleport")
            #expect(refused.first?.hasPrefix("ERR BAD_ARG") == true && refused[0].contains("teleport"), "\(refused)")
            #expect(try c.request("ORDER LIST")[0] == "OK rows=0")
            #expect(try create("SL-0", "service_level=Express").first?.hasPrefix("ERR BAD_ARG") == true)

            let express = try field(create("SL-1", "service_level=express priority=urgent")[0], "id")
            let standard = try field(create("SL-2", "")[0], "id")
            let shown = try ok("ORDER SHOW \(express)")[1]
            #expect(try field(shown, "service_level") == "express" && field(shown, "priority") == "urgent", "\(shown)")
            #expect(try field(ok("ORDER SHOW \(standard)")[1], "priority") == "normal")
            for order in [express, standard] {
                let shown = try ServerFixture.waitFor(c, "ORDER SHOW \(order)", row: 1, "status", "shipped")
                #expect(try field(shown[1], "status") == "shipped", "\(worker.output)")
            }
            // Express: from Hamburg, by UPS express though DHL parcel is cheaper; the other: nearest, cheapest.
            let fast = try ok("SHIPMENT LIST order=\(express)")[1]
            #expect(try field(fast, "carrier") == "UPS" && field(fast, "service") == "express", "\(fast)")
            #expect(try field(fast, "warehouse_id") == ids[1], "\(fast)")
            let slow = try ok("SHIPMENT LIST order=\(standard)")[1]
            #expect(try field(slow, "carrier") == "DHL" && field(slow, "service") == "parcel", "\(slow)")
            return (express, standard)
        }
        // Every fulfillment job of the urgent order ran at its priority, the other's at normal's.
        for (order, priority) in [(orders.express, 10), (orders.standard, 100)] {
            let jobs = try await fixture.pool.query(
                "SELECT kind, priority::int8 FROM jobs WHERE (args ->> 'order_id')::int8 = $1 AND queue <> 'notifications'",
                [Int64(order)!]
            ).map { try $0.decode((String, Int64).self) }
            #expect(Set(jobs.map(\.0)).isSuperset(of: ["pick", "pack", "label", "ship"]), "\(jobs)")
            #expect(jobs.allSatisfy { $0.1 == Int64(priority) }, "\(order): \(jobs)")
        }
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus(within: 600) == 0, "\(worker.output)")
    }
}

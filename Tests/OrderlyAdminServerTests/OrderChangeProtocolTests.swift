import Foundation
import OrderlyAdminProtocol
import OrderlyCommands
import OrderlyTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// ORDER CANCEL lines= and the put-back tasks over the wire, with a real `orderly worker` process
/// carrying out the refund the cancellation asks for.
@Suite(.serialized)
struct OrderChangeProtocolTests {
    @Test func unitsCancelledOverTheWireAreRefundedAndPutBack() async throws {
        let fixture = try await ServerFixture.start("changes")
        defer { Task { await fixture.stop() } }
        let worker = try WorkerProcess(
            conninfo: fixture.database.conninfo,
            id: "changes",
            arguments: ["--payment-gateway", "test", "--backoff-base", "0.05", "--backoff-cap", "0.2"]
        )
        let value = PaymentProtocolTests.value
        try await onThread {
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] {
                let reply = try c.request(line)
                #expect(reply.first?.hasPrefix("OK") == true, "\(line) → \(reply)")
                return reply
            }
            let added = try ok("WAREHOUSE ADD code=CW name=W lat=48.1 lon=11 line1=x city=München country=DE")[0]
            let warehouse = try #require(value(added, "id"))
            _ = try ok("SKU ADD code=CS0 name=Widget weight_g=300 length_mm=10 width_mm=10 height_mm=10")
            _ = try ok("STOCK RECEIVE warehouse=\(warehouse) sku=CS0 qty=5")
            _ = try ok(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2"
            )
        }
        // Picked by scanner: the worker makes the list and waits for the picker.
        try await fixture.pool.query("UPDATE warehouses SET pick_confirmation = 'scanner' WHERE code = 'CW'")
        try await onThread {
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] {
                let reply = try c.request(line)
                #expect(reply.first?.hasPrefix("OK") == true, "\(line) → \(reply)")
                return reply
            }
            func error(_ line: String) throws -> String { try c.request(line).first ?? "" }
            let created = try ok(
                "ORDER CREATE channel=web external_id=CH-1 currency=EUR lines=CS0:3:1000 name=Ada line1=\"Str 1\" "
                    + "city=München country=DE postal=80802 lat=48.2 lon=11.6 email=ada@example.com "
                    + "payment=captured amount=3000 provider=psp reference=pi_c1"
            )[0]
            let order = try #require(value(created, "id"))
            _ = try ServerFixture.waitFor(c, "ORDER SHOW \(order)", row: 1, "status", "picking")

            // Bad cuts: each refused precisely, nothing changed.
            #expect(try error("ORDER CANCEL \(order) reason=x lines=CS0:0").hasPrefix("ERR BAD_ARG lines: 'CS0:0'"))
            #expect(try error("ORDER CANCEL \(order) reason=x lines=CS0:1,CS0:1").hasPrefix("ERR BAD_ARG lines: SKU"))
            #expect(try error("ORDER CANCEL \(order) reason=x lines=NOPE:1").hasPrefix("ERR BAD_ARG lines: order"))
            #expect(try error("ORDER CANCEL \(order) reason=x lines=CS0").hasPrefix("ERR BAD_ARG"))
            #expect(
                try error("ORDER CANCEL \(order) reason=x lines=CS0:4")
                    == "ERR CONFLICT lines: CS0: 4 asked, 3 can be cancelled (3 ordered, 0 shipped, 0 cancelled already)"
            )
            #expect(try error("ORDER CANCEL 999999 reason=x lines=CS0:1").hasPrefix("ERR NOT_FOUND"))
            let line = try ok("ORDER SHOW \(order)")[2]
            #expect(value(line, "reserved") == "3" && value(line, "cancelled") == "0", "\(line)")

            // One unit: the list being walked shrinks and a put-back is asked for; a third of the total
            // goes back to the card through the worker's refund job.
            let cut = try ok("ORDER CANCEL \(order) reason=\"one fewer\" lines=CS0:1")[0]
            #expect(value(cut, "status") == "picking" && value(cut, "reserved") == "2", "\(cut)")
            let tasks = try ok("PUTBACK LIST order=\(order)")
            #expect(
                tasks.count == 3 && value(tasks[1], "source") == "walking" && value(tasks[1], "qty") == "1",
                "\(tasks)"
            )
            let refunded = try ServerFixture.waitFor(c, "ORDER SHOW \(order)", row: 1, "refunded", "1000")[1]
            #expect(value(refunded, "refunded") == "1000", "\(worker.output)")
            #expect(value(refunded, "payment") == "partially_refunded")
            let task = try #require(value(tasks[1], "id"))
            #expect(value(try ok("PUTBACK DONE \(task)")[0], "status") == "done")
            #expect(try error("PUTBACK DONE \(task)").hasPrefix("ERR CONFLICT"))
            #expect(try error("PUTBACK DONE 999999").hasPrefix("ERR NOT_FOUND"))
            #expect(try ok("PUTBACK LIST order=\(order) status=open").count == 2)
            // Once a parcel is being picked an edit is refused, naming it; bad edits and claims are refused.
            #expect(try error("ORDER EDIT \(order) reason=x lines=CS0:1").hasPrefix("ERR ILLEGAL_TRANSITION"))
            #expect(try error("ORDER EDIT \(order) reason=x lines=CS0:x").hasPrefix("ERR BAD_ARG lines: 'CS0:x'"))
            #expect(try error("ORDER EDIT \(order) reason=x lat=1").hasPrefix("ERR BAD_ARG lat and lon"))
            #expect(try error("CLAIM RESOLVE 999999 action=reship").hasPrefix("ERR NOT_FOUND"))
            #expect(try error("CLAIM RESOLVE 1 action=keep").hasPrefix("ERR BAD_ARG"))
            #expect(try ok("CLAIM LIST order=\(order)").count == 2)  // OK, END: no claims
            #expect(try error("SHIPMENT HANDOVER 999999").hasPrefix("ERR NOT_FOUND"))
            #expect(
                try error("STOCK EXPECT warehouse=CW sku=CS0 qty=5 date=2026-02-30").hasPrefix(
                    "ERR BAD_ARG date: '2026-02-30'"
                )
            )
            #expect(
                try error("STOCK EXPECT warehouse=CW sku=CS0 qty=5 date=2020-01-01").hasPrefix(
                    "ERR BAD_ARG date 2020-01-01"
                )
            )
            let expected = try ok("STOCK EXPECT warehouse=CW sku=CS0 qty=5 date=2099-01-31 reference=PO-7")[0]
            #expect(value(expected, "expected") == "5" && value(expected, "reference") == "PO-7", "\(expected)")
            // The timeline has the cut with its reason.
            let timeline = try ok("ORDER TIMELINE \(order)")
            #expect(timeline.contains { $0.contains("cancel_units: picking -> picking") && $0.contains("one fewer") })
            let check = try ok("CHECK")
            #expect(!check.contains { $0.contains("holds=false") }, "\(check)")
        }
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus(within: 600) == 0, "\(worker.output)")
    }
}

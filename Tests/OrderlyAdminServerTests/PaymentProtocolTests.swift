import Foundation
import OrderlyAdminProtocol
import OrderlyCommands
import OrderlyTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Money over the wire with a real `orderly worker` process: an order captured unpaid, paid by
/// PAYMENT RECORD, shipped in two parcels whose captures are the total; replays, refunds and bad input.
@Suite(.serialized)
struct PaymentProtocolTests {
    /// A field of a status line (`OK k=v ...`) or of a row line (`k=v ...`).
    static func value(_ line: String, _ key: String) -> String? {
        let fields = line.hasPrefix("OK ") ? String(line.dropFirst(3)) : line
        let request = try? AdminRequest.parse(Array(("X " + fields).utf8))
        return request?.tokens.first { $0.key == key }?.value
    }

    @Test func anUnpaidOrderIsPaidOverTheProtocolAndShipsInTwoCapturedParcels() async throws {
        let fixture = try await ServerFixture.start("payments")
        defer { Task { await fixture.stop() } }
        let worker = try WorkerProcess(
            conninfo: fixture.database.conninfo,
            id: "payments",
            arguments: ["--payment-gateway", "test", "--backoff-base", "0.05", "--backoff-cap", "0.2"]
        )
        try await onThread {
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] {
                let reply = try c.request(line)
                #expect(reply.first?.hasPrefix("OK") == true, "\(line) → \(reply)")
                return reply
            }
            func error(_ line: String) throws -> String { try c.request(line).first ?? "" }
            func field(_ line: String, _ key: String) throws -> String {
                guard let found = Self.value(line, key) else { throw AdminClientError("no \(key) in \(line)") }
                return found
            }
            // Two warehouses, each with one of the two SKUs: the order ships in two parcels.
            var skus: [String] = []
            for (index, (lat, city)) in [(48.1, "München"), (53.5, "Hamburg")].enumerated() {
                let warehouse = try field(
                    ok("WAREHOUSE ADD code=PW\(index) name=W lat=\(lat) lon=10 line1=x city=\(city) country=DE")[0],
                    "id"
                )
                let sku = "PS\(index)"
                _ = try ok("SKU ADD code=\(sku) name=Widget weight_g=300 length_mm=10 width_mm=10 height_mm=10")
                _ = try ok("STOCK RECEIVE warehouse=\(warehouse) sku=\(sku) qty=5")
                skus.append(sku)
            }
            _ = try ok(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2"
            )
            // Captured unpaid: a web order keeps its stock for a while, but nothing is picked yet.
            let created = try ok(
                "ORDER CREATE channel=web external_id=PAY-1 currency=EUR lines=PS0:1:1000,PS1:2:1000 shipping=490 "
                    + "name=Ada line1=\"Str 1\" city=Kassel country=DE postal=34117 lat=51.3 lon=9.5 "
                    + "payment=pending provider=psp reference=pi_1"
            )[0]
            let order = try field(created, "id")
            #expect(try field(created, "status") == "reserved")
            let shown = try ok("ORDER SHOW \(order)")[1]
            #expect(try field(shown, "payment") == "pending" && field(shown, "outstanding") == "3490", "\(shown)")
            #expect(try field(shown, "waiting_for").contains("payment"), "\(shown)")
            // Bad verdicts are refused and change nothing.
            #expect(try error("PAYMENT RECORD order=\(order) status=bogus reference=x").hasPrefix("ERR BAD_ARG"))
            #expect(try error("PAYMENT RECORD order=\(order) status=authorized").hasPrefix("ERR BAD_ARG"))
            #expect(
                try error("PAYMENT RECORD order=\(order) status=authorized reference=x amount=-5").hasPrefix(
                    "ERR BAD_ARG"
                )
            )
            #expect(
                try error("PAYMENT RECORD order=\(order) status=authorized reference=x amount=99999")
                    .hasPrefix("ERR BAD_ARG")
            )
            #expect(try error("PAYMENT RECORD order=999999 status=authorized reference=x").hasPrefix("ERR NOT_FOUND"))
            #expect(try ok("PAYMENT LIST order=\(order)").count == 4)  // OK, balance, the pending row, END
            // The provider's webhook says authorized: picks are released; the worker ships both parcels.
            let paid = try ok("PAYMENT RECORD order=\(order) status=authorized provider=psp reference=pi_1")[0]
            #expect(Self.value(paid, "replayed") == nil)
            let again = try ok("PAYMENT RECORD order=\(order) status=authorized provider=psp reference=pi_1")[0]
            #expect(Self.value(again, "replayed") == "true")
            let status = try field(
                ServerFixture.waitFor(c, "ORDER SHOW \(order)", row: 1, "status", "shipped")[1],
                "status"
            )
            #expect(status == "shipped", "\(worker.output)")
            let ledger = try ok("PAYMENT LIST order=\(order)")
            let captures = ledger.filter { Self.value($0, "kind") == "capture" }
            #expect(captures.count == 2, "\(ledger)")
            #expect(captures.compactMap { Self.value($0, "amount_minor").flatMap(Int.init) }.reduce(0, +) == 3_490)
            let balance = try ok("ORDER SHOW \(order)")[1]
            #expect(try field(balance, "captured") == "3490" && field(balance, "outstanding") == "0", "\(balance)")
            #expect(try field(balance, "payment") == "captured")
            // Refunds: never more than captured; the same key is the same refund.
            #expect(
                try error("PAYMENT REFUND order=\(order) amount=3491 key=r1 reason=\"too much\"").hasPrefix(
                    "ERR BAD_ARG"
                )
            )
            let refunded = try ok("PAYMENT REFUND order=\(order) amount=490 key=r1 reason=\"late delivery\"")[0]
            #expect(try field(refunded, "refunded") == "490")
            let replay = try ok("PAYMENT REFUND order=\(order) amount=490 key=r1 reason=\"late delivery\"")[0]
            #expect(try field(replay, "refunded") == "490")
            #expect(try error("PAYMENT REFUND order=\(order) amount=10 key=r1 reason=x").hasPrefix("ERR CONFLICT"))
            #expect(try field(ok("ORDER SHOW \(order)")[1], "payment") == "partially_refunded")
            let check = try ok("CHECK")
            #expect(check.contains { $0.contains("invariant=7") && $0.contains("holds=true") }, "\(check)")
        }
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus(within: 600) == 0, "\(worker.output)")
    }
}

import Foundation
import OrderlyAdminProtocol
import OrderlyCommands
import OrderlyTestSupport
import Testing

/// Channel policies over the wire: a change made on one server is what a second `orderly serve`
/// process on the same database applies to its next order, without a restart; bad changes are
/// refused and change nothing.
@Suite(.serialized)
struct ChannelProtocolTests {
    static func value(_ line: String, _ key: String) -> String? { PaymentProtocolTests.value(line, key) }

    @Test func aChangeOnOneServerIsTheNextOrderOfAnother() async throws {
        let fixture = try await ServerFixture.start("channels")
        defer { Task { await fixture.stop() } }
        let other = try ServerProcess(conninfo: fixture.database.conninfo)
        let port = try #require(await other.port(), "the second server did not start: \(other.output)")
        try await onThread {
            let a = try fixture.client("adm")
            let b = try AdminClient(host: "127.0.0.1", port: port, timeout: 600)
            #expect(try b.request("AUTH adm \(ServerFixture.secrets["adm"]!)").first?.hasPrefix("OK") == true)
            func ok(_ client: AdminClient, _ line: String) throws -> [String] {
                let reply = try client.request(line)
                #expect(reply.first?.hasPrefix("OK") == true, "\(line) → \(reply)")
                return reply
            }
            func field(_ line: String, _ key: String) throws -> String {
                guard let found = Self.value(line, key) else { throw AdminClientError("no \(key) in \(line)") }
                return found
            }
            let warehouse = try field(
                ok(a, "WAREHOUSE ADD code=CW name=W lat=48.1 lon=11.5 line1=x city=München country=DE")[0],
                "id"
            )
            _ = try ok(a, "SKU ADD code=CS1 name=Widget weight_g=300 length_mm=10 width_mm=10 height_mm=10")
            _ = try ok(a, "STOCK RECEIVE warehouse=\(warehouse) sku=CS1 qty=1")
            func create(_ id: String, quantity: Int) throws -> [String] {
                try b.request(
                    "ORDER CREATE channel=shop_de external_id=\(id) currency=EUR lines=CS1:\(quantity):1000 "
                        + "name=Ada line1=\"Str 1\" city=Kassel country=DE postal=34117 lat=51.3 lon=9.5 "
                        + "token=tok_authorized"
                )
            }

            // A new web channel, created on A, takes orders on B at once: what is short is backordered.
            let made = try ok(a, "CHANNEL SET channel=shop_de kind=web")[0]
            #expect(try field(made, "created") == "true" && field(made, "on_shortage") == "backorder", "\(made)")
            let first = try create("S-1", quantity: 2)
            #expect(try field(first[0], "status") == "partially_reserved", "\(first)")

            // Rejecting shortages, set on A, is B's next order.
            let changed = try ok(a, "CHANNEL SET channel=shop_de on_shortage=reject unpaid_reservation_s=600")[0]
            #expect(try field(changed, "changed") == "on_shortage,unpaid_reservation_s", "\(changed)")
            let second = try create("S-2", quantity: 2)
            #expect(try field(second[0], "status") == "cancelled", "\(second)")

            // Closed on A: B refuses new orders, still answers the replay of one it took.
            _ = try ok(a, "CHANNEL SET channel=shop_de active=false")
            let closed = try create("S-3", quantity: 1)
            #expect(closed.first?.hasPrefix("ERR BAD_ARG") == true && closed[0].contains("not active"), "\(closed)")
            let replay = try create("S-1", quantity: 2)
            #expect(try field(replay[0], "id") == field(first[0], "id"), "\(replay)")

            // B lists what A wrote, with who and when; both changes audited.
            let shown = try ok(b, "CHANNEL SHOW shop_de")
            #expect(try field(shown[1], "active") == "false" && field(shown[1], "updated_by") == "admin:adm")
            #expect(shown.count == 6, "OK, the policy, three changes (create, on_shortage, active), END: \(shown)")
            #expect(try ok(b, "CHANNEL LIST").contains { $0.contains("channel=shop_de ") })
        }
    }

    @Test func badChangesAreRefusedAndChangeNothing() async throws {
        let fixture = try await ServerFixture.start("channel_bad")
        defer { Task { await fixture.stop() } }
        try await onThread {
            let c = try fixture.client("adm")
            #expect(try c.request("CHANNEL SET channel=mkt_x kind=marketplace").first?.hasPrefix("OK") == true)
            let before = try c.request("CHANNEL SHOW mkt_x")
            let refused: [(String, String)] = [
                ("unpaid_reservation_s=-1", "BAD_ARG"),
                ("routing=bogus", "BAD_ARG"),
                ("routing=nearest>", "BAD_ARG"),
                ("high_value=XYZ:1", "BAD_ARG"),
                ("high_value=EUR:-5", "BAD_ARG"),
                ("high_value=EUR", "BAD_ARG"),
                ("payment_states=refunded", "BAD_ARG"),
                ("payment_states=", "BAD_ARG"),
                ("risk_limit=102", "BAD_ARG"),
                ("on_shortage=maybe", "BAD_ARG"),
                ("carrier_rule=slowest", "BAD_ARG"),
                ("priority=asap", "BAD_ARG"),
                ("kind=web", "BAD_ARG"),
                ("", "BAD_ARG"),
            ]
            for (setting, code) in refused {
                let reply = try c.request("CHANNEL SET channel=mkt_x \(setting)")
                #expect(reply.first?.hasPrefix("ERR \(code) ") == true, "\(setting) → \(reply)")
            }
            // A name that is not a channel name, and a channel that does not exist without a kind.
            #expect(try c.request("CHANNEL SET channel=Bad-Name active=true").first?.hasPrefix("ERR BAD_ARG") == true)
            #expect(try c.request("CHANNEL SET channel=nope active=true").first?.hasPrefix("ERR NOT_FOUND") == true)
            #expect(try c.request("CHANNEL SHOW nope").first?.hasPrefix("ERR NOT_FOUND") == true)
            // An operator may read policies but not change them.
            let op = try fixture.client("op")
            #expect(try op.request("CHANNEL SET channel=mkt_x active=false").first?.hasPrefix("ERR FORBIDDEN") == true)
            #expect(try op.request("CHANNEL SHOW mkt_x").first?.hasPrefix("OK") == true)
            #expect(try c.request("CHANNEL SHOW mkt_x") == before)
        }
    }
}

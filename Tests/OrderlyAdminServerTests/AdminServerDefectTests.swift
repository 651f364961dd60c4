import Foundation
import LibPQ
import NIOCore
import Orderly
import OrderlyAdminProtocol
import OrderlyCommands
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import Testing

@testable import OrderlyAdminServer

/// Regression tests for what the fault and hostile-input campaign found (issue 10), over TCP.
@Suite
struct AdminServerDefectTests {
    /// A field of an `OK k=v ...` line or a row line.
    static func field(_ line: String, _ key: String) -> String? {
        let fields = line.hasPrefix("OK ") ? String(line.dropFirst(3)) : line
        return (try? AdminRequest.parse(Array(("X " + fields).utf8)))?.tokens.first { $0.key == key }?.value
    }

    @Test func devModeEndsForNewAndOpenConnectionsOnceAPrincipalExists() async throws {
        let fixture = try await ServerFixture.start("devModeEnds", principals: false)
        defer { Task { await fixture.stop() } }
        try await onThread {
            let before = try fixture.client(nil)
            #expect(before.greeting == "OK orderly protocol=1 auth=none")
            #expect(try before.request("WAREHOUSE LIST") == ["OK rows=0", "END"])
            // `orderly admin-user add`, from another process as far as the server knows.
            let connection = try fixture.database.connect()
            defer { connection.close() }
            let hash = try PasswordHash.make("viewer-secret-01", iterations: 1_000)
            try AdminPrincipalStore.create(connection, name: "viewer", role: "readonly", secretHash: hash)
            // A new connection must AUTH at once.
            let fresh = try fixture.client(nil)
            #expect(fresh.greeting == "OK orderly protocol=1 auth=required")
            let add = "WAREHOUSE ADD code=EVIL-1 name=x lat=0 lon=0 line1=x city=x country=DE"
            #expect(try fresh.request(add)[0].hasPrefix("ERR NOAUTH"))
            // The connection opened in dev mode loses its rights with its next command.
            #expect(try before.request(add)[0].hasPrefix("ERR NOAUTH a principal exists now"))
            #expect(try before.request("WAREHOUSE LIST")[0].hasPrefix("ERR NOAUTH"))
            #expect(try before.request("HELLO")[0].contains("auth=required"))
            #expect(try before.request("AUTH viewer viewer-secret-01")[0] == "OK user=viewer role=readonly")
            #expect(try before.request(add)[0].hasPrefix("ERR FORBIDDEN"))
        }
        let warehouses = try await fixture.pool.query("SELECT count(*) FROM warehouses").scalar(Int64.self)
        #expect(warehouses == 0)
    }

    final class TestClock: @unchecked Sendable {
        // Moved only between requests, from the test's thread; read by the server's event loop.
        private let lock = NSLock()
        private var value = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var now: NIODeadline { lock.withLock { value } }
        func advance(_ amount: TimeAmount) { lock.withLock { value = value + amount } }
    }

    @Test func failedAuthsAreThrottledAcrossConnectionsAndASecondAuthIsRefused() async throws {
        let clock = TestClock()
        let fixture = try await ServerFixture.start("authThrottle") {
            $0.authFailuresBeforeDelay = 2
            $0.maximumAuthDelay = .seconds(60)
            $0.clock = { clock.now }
        }
        defer { Task { await fixture.stop() } }
        try await onThread {
            // Three wrong guesses on one connection: it is closed, as before.
            let guesser = try fixture.client(nil)
            for guess in ["wrong-1", "wrong-2", "wrong-3"] {
                #expect(try guesser.request("AUTH adm \(guess)")[0].hasPrefix("ERR AUTH_FAILED wrong user or secret"))
            }
            #expect(try guesser.readLine() == nil)
            // A new connection from the same address: refused without checking, even the right secret.
            let next = try fixture.client(nil)
            let refused = try next.request("AUTH adm \(ServerFixture.secrets["adm"]!)")[0]
            #expect(refused.hasPrefix("ERR AUTH_FAILED too many failed AUTHs"), "\(refused)")
            // The delay passes (on the server's clock): the right secret works, and clears the count.
            clock.advance(.seconds(2))
            #expect(try next.request("AUTH adm \(ServerFixture.secrets["adm"]!)")[0] == "OK user=adm role=admin")
            // One principal per connection.
            let again = try next.request("AUTH ro \(ServerFixture.secrets["ro"]!)")[0]
            #expect(again.hasPrefix("ERR CONFLICT already authenticated as adm"), "\(again)")
            #expect(try next.request("HELLO")[0].contains("user=adm"))
            let other = try fixture.client("ro")
            #expect(try other.request("PING") == ["OK pong=true"])
        }
    }

    @Test func argumentLimitsAndMissingRowsAreReportedPrecisely() async throws {
        let fixture = try await ServerFixture.start("argumentLimits")
        defer { Task { await fixture.stop() } }
        try await onThread {
            let c = try fixture.client("adm")
            let ping = "PING " + (1...65).map { "a\($0)" }.joined(separator: " ")
            #expect(try c.request(ping)[0].hasPrefix("ERR TOO_MANY_ARGS more than 64 arguments"))
            #expect(
                try c.request("STOCK SHOW 999999")[0] == "ERR NOT_FOUND SKU 999999 does not exist (SKU LIST shows them)"
            )
            #expect(
                try c.request("STOCK SHOW NOPE-1")[0] == "ERR NOT_FOUND SKU NOPE-1 does not exist (SKU LIST shows them)"
            )
            // Lengths are counted as the database counts them: "e" + U+0301 is two code points.
            let decomposed = String(repeating: "e\u{301}", count: 128)
            let order =
                "ORDER CREATE channel=web external_id=\"\(decomposed)\" currency=EUR lines=X-1:1:1 name=A line1=B city=C country=DE"
            #expect(try c.request(order)[0].hasPrefix("ERR BAD_ARG external_id: is longer than 128 characters"))
            let key = String(repeating: "e\u{301}", count: 64)
            let receive = "STOCK RECEIVE warehouse=1 sku=1 qty=1 idem=\"\(key)\""
            #expect(try c.request(receive)[0].hasPrefix("ERR BAD_ARG idem: is longer than 64 characters"))
            let name = String(repeating: "e\u{301}", count: 151)
            #expect(
                try c.request("SKU ADD code=U-1 name=\"\(name)\" weight_g=1 length_mm=1 width_mm=1 height_mm=1")[0]
                    .hasPrefix("ERR BAD_ARG name")
            )
        }
    }

    @Test func stockAndRateCommandsTakeCodesAndNameTheListingCommandWhenWrong() async throws {
        let fixture = try await ServerFixture.start("codes")
        defer { Task { await fixture.stop() } }
        try await onThread {
            let c = try fixture.client("adm")
            _ = try c.request("WAREHOUSE ADD code=BER-1 name=Berlin lat=52.52 lon=13.40 line1=x city=Berlin country=DE")
            _ = try c.request("WAREHOUSE ADD code=MUC-1 name=Munich lat=48.1 lon=11.6 line1=x city=Munich country=DE")
            _ = try c.request("SKU ADD code=MUG-1 name=Mug weight_g=350 length_mm=1 width_mm=1 height_mm=1")
            #expect(try c.request("STOCK RECEIVE warehouse=BER-1 sku=MUG-1 qty=5")[0].contains("on_hand=5"))
            #expect(
                try c.request("STOCK ADJUST warehouse=BER-1 sku=MUG-1 delta=-1 reason=damaged")[0].contains("on_hand=4")
            )
            #expect(try c.request("STOCK COUNT warehouse=BER-1 sku=MUG-1 counted=4")[0].contains("on_hand=4"))
            #expect(try c.request("STOCK TRANSFER sku=MUG-1 from=BER-1 to=MUC-1 qty=1").count == 4)
            #expect(try c.request("STOCK SHOW MUG-1 warehouse=MUC-1").count == 3)
            #expect(
                try c.request("STOCK RECEIVE warehouse=BER-9 sku=MUG-1 qty=5")[0]
                    == "ERR NOT_FOUND warehouse BER-9 does not exist (WAREHOUSE LIST shows them)"
            )
            #expect(
                try c.request("STOCK RECEIVE warehouse=1 sku=77 qty=5")[0]
                    == "ERR NOT_FOUND SKU 77 does not exist (SKU LIST shows them)"
            )
            let rate = try c.request(
                "RATE ADD carrier=dhl service=Parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2 origin=BER-1"
            )[0]
            #expect(Self.field(rate, "carrier") == "DHL" && Self.field(rate, "service") == "parcel", "\(rate)")
            #expect(try c.request("PICKLIST LIST warehouse=MUC-1") == ["OK rows=0", "END"])
            let skus = try c.request("SKU LIST")
            #expect(skus.count == 3 && Self.field(skus[1], "weight_g") == "350", "\(skus)")
        }
    }

    @Test func aFirstOrderSaysWhatItIsWaitingFor() async throws {
        let fixture = try await ServerFixture.start("waitingFor")
        defer { Task { await fixture.stop() } }
        try await onThread {
            let c = try fixture.client("adm")
            _ = try c.request("WAREHOUSE ADD code=BER-1 name=Berlin lat=52.52 lon=13.40 line1=x city=Berlin country=DE")
            _ = try c.request("SKU ADD code=MUG-1 name=Mug weight_g=350 length_mm=1 width_mm=1 height_mm=1")
            _ = try c.request("STOCK RECEIVE warehouse=BER-1 sku=MUG-1 qty=2")
            // A newcomer's first order: no payment token, no rate yet, one unit more than in stock.
            let created = try c.request(
                "ORDER CREATE channel=web external_id=FIRST-1 currency=EUR lines=MUG-1:3:1299 name=Ada line1=\"Str 1\" city=Berlin country=DE postal=10115"
            )[0]
            let id = try #require(Self.field(created, "id"))
            let shown = try c.request("ORDER SHOW \(id)")
            let waiting = try #require(Self.field(shown[1], "waiting_for"), "\(shown)")
            #expect(waiting.contains("stock: 1 × MUG-1 backordered"), "\(waiting)")
            #expect(waiting.contains("payment: unpaid (payment=pending)"), "\(waiting)")
            #expect(waiting.contains("a shipping rate: none to DE for a 700 g parcel from BER-1"), "\(waiting)")
            let timeline = try c.request("ORDER TIMELINE \(id)")
            let next = timeline.dropLast().filter { Self.field($0, "source") == "waiting" }
            #expect(next.count == 3, "\(timeline)")
            // A rate later, the rate is no longer awaited.
            _ = try c.request(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2"
            )
            let again = try #require(Self.field(try c.request("ORDER SHOW \(id)")[1], "waiting_for"))
            #expect(!again.contains("a shipping rate"), "\(again)")
            // A route plan without coordinates has no distance, and a strategy without a plan says why.
            let routes = try c.request("ORDER ROUTE \(id) strategy=nearest")
            #expect(routes.count == 3 && Self.field(routes[1], "plan") == "none", "\(routes)")
            #expect(Self.field(routes[1], "reason")?.contains("nearest needs the destination's coordinates") == true)
            // Held and released, it still holds its two units: the reply counts them.
            _ = try c.request("ORDER HOLD \(id) note=\"call the customer\"")
            let released = try c.request("ORDER RELEASE \(id) note=ok")[0]
            #expect(Self.field(released, "reserved") == "2", "\(released)")
            // CHECK says which invariants hold, as `orderly check` does.
            let check = try c.request("CHECK")
            #expect(check.count == 7 && check.dropFirst().dropLast().allSatisfy { $0.contains("holds=true") })
        }
    }

    @Test func externalIDsInNFCAndNFDAreOneOrder() async throws {
        let fixture = try await ServerFixture.start("nfc")
        defer { Task { await fixture.stop() } }
        try await onThread {
            let c = try fixture.client("adm")
            _ = try c.request("WAREHOUSE ADD code=W-1 name=W lat=50 lon=10 line1=x city=y country=DE")
            _ = try c.request("SKU ADD code=N-1 name=N weight_g=1 length_mm=1 width_mm=1 height_mm=1")
            _ = try c.request("STOCK RECEIVE warehouse=W-1 sku=N-1 qty=5")
            func create(_ id: String) throws -> String {
                let reply = try c.request(
                    "ORDER CREATE channel=web external_id=\"\(id)\" currency=EUR lines=N-1:1:100 name=A line1=B city=C country=DE postal=1 token=tok_authorized"
                )[0]
                return Self.field(reply, "id") ?? reply
            }
            let composed = try create("caf\u{E9}-1")
            let decomposed = try create("cafe\u{301}-1")
            #expect(composed == decomposed)
        }
    }
}

/// Idempotency keys and lost commits (defects 2 and 3): faults injected with triggers in the
/// fixture's own database.
@Suite
struct AdminIdempotencyFaultTests {
    static func setUp(_ c: AdminClient) throws {
        _ = try c.request("WAREHOUSE ADD code=F-W name=W lat=50 lon=10 line1=x city=y country=DE")
        _ = try c.request("SKU ADD code=F-1 name=S weight_g=1 length_mm=1 width_mm=1 height_mm=1")
    }

    static func onHand(_ fixture: ServerFixture) async throws -> Int64 {
        try await fixture.pool.query("SELECT coalesce(sum(on_hand), 0)::int8 FROM inventory").scalar(Int64.self)
    }

    @Test func aReplyThatCannotBeStoredLeavesNoChangeAndTheKeyFree() async throws {
        let fixture = try await ServerFixture.start("idemStoreFails")
        defer { Task { await fixture.stop() } }
        try await onThread { try Self.setUp(try fixture.client("adm")) }
        // The idempotency store refuses every reply (as a database that just went away would).
        try await fixture.pool.query(
            """
            CREATE FUNCTION refuse_reply() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the idempotency store is down'; END $$
            """
        )
        try await fixture.pool.query(
            """
            CREATE TRIGGER refuse_reply BEFORE INSERT OR UPDATE ON admin_idempotency
            FOR EACH ROW WHEN (NEW.reply IS NOT NULL) EXECUTE FUNCTION refuse_reply()
            """
        )
        let request = "STOCK RECEIVE warehouse=F-W sku=F-1 qty=3 idem=delivery-9"
        let failed = try await onThread { try fixture.client("op").request(request)[0] }
        #expect(failed.hasPrefix("ERR INTERNAL"), "\(failed)")
        #expect(try await Self.onHand(fixture) == 0, "the change went with its reply")
        try await fixture.pool.query("DROP TRIGGER refuse_reply ON admin_idempotency")
        let (first, second) = try await onThread {
            let c = try fixture.client("op")
            return (try c.request(request), try c.request(request))
        }
        #expect(first[0].contains("on_hand=3"), "\(first)")
        #expect(second == first)
        #expect(try await Self.onHand(fixture) == 3)
    }

    /// Every ledger insert fails ("disk full"): a command that moves stock fails unexpectedly.
    static func breakTheLedger(_ fixture: ServerFixture) async throws {
        try await fixture.pool.query(
            """
            CREATE FUNCTION ledger_down() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'disk full'; END $$
            """
        )
        try await fixture.pool.query(
            "CREATE TRIGGER ledger_down BEFORE INSERT ON inventory_ledger FOR EACH ROW EXECUTE FUNCTION ledger_down()"
        )
    }

    @Test func anInternalErrorIsNeverStoredUnderItsKey() async throws {
        let fixture = try await ServerFixture.start("idemInternal")
        defer { Task { await fixture.stop() } }
        try await onThread { try Self.setUp(try fixture.client("adm")) }
        try await Self.breakTheLedger(fixture)
        let request = "STOCK RECEIVE warehouse=F-W sku=F-1 qty=2 idem=internal-1"
        let failed = try await onThread { try fixture.client("op").request(request)[0] }
        #expect(failed.hasPrefix("ERR INTERNAL the command failed and its transaction was rolled back"), "\(failed)")
        try await fixture.pool.query("DROP TRIGGER ledger_down ON inventory_ledger")
        // The same key runs the corrected situation; it is not stuck on the INTERNAL reply.
        let retried = try await onThread { try fixture.client("op").request(request)[0] }
        #expect(retried.contains("on_hand=2"), "\(retried)")
    }

    @Test func aFailedCommandsLogLineNamesItsRequest() async throws {
        let captured = CapturingLogHandler(level: .warning)
        captured.metadataProvider = LogContext.metadataProvider
        let fixture = try await ServerFixture.start("requestIDs", logger: captured.logger)
        defer { Task { await fixture.stop() } }
        try await onThread { try Self.setUp(try fixture.client("adm")) }
        try await Self.breakTheLedger(fixture)
        try await onThread {
            let client = try fixture.client("op")
            for _ in 0..<2 {
                #expect(try client.request("STOCK RECEIVE warehouse=F-W sku=F-1 qty=2")[0].hasPrefix("ERR INTERNAL"))
            }
        }
        let failures = captured.lines.filter { $0.contains("command failed") && $0.contains("STOCK RECEIVE") }
        #expect(failures.count == 2, "\(captured.lines)")
        let ids = failures.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("request=") }.map { String($0.dropFirst("request=".count)) }
        }
        // One connection, its first and second commands run as tasks (AUTH is not one).
        #expect(ids.count == 2 && Set(ids).count == 2, "\(failures)")
        #expect(ids.allSatisfy { $0.split(separator: ".").count == 2 })
    }

    @Test func aConnectionLostWhileCommittingIsReportedAsOutcomeUnknown() async throws {
        let fixture = try await ServerFixture.start("commitLost")
        defer { Task { await fixture.stop() } }
        try await onThread { try Self.setUp(try fixture.client("adm")) }
        // At COMMIT (a deferred trigger), the backend serving the command is terminated: the client
        // sees its connection go while COMMIT is in flight.
        try await fixture.pool.query(
            """
            CREATE FUNCTION die_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$
            """
        )
        try await fixture.pool.query(
            """
            CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON inventory_ledger DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.note = 'die at commit') EXECUTE FUNCTION die_at_commit()
            """
        )
        let (plain, keyed) = try await onThread {
            let c = try fixture.client("op")
            return (
                try c.request("STOCK ADJUST warehouse=F-W sku=F-1 delta=2 reason=found note=\"die at commit\"")[0],
                try c.request("STOCK RECEIVE warehouse=F-W sku=F-1 qty=4 note=\"die at commit\" idem=lost-1")[0]
            )
        }
        #expect(plain.hasPrefix("ERR UNAVAILABLE outcome unknown"), "\(plain)")
        #expect(plain.hasSuffix("check before retrying (an idem= key makes retries safe)"), "\(plain)")
        #expect(keyed.hasPrefix("ERR UNAVAILABLE outcome unknown"), "\(keyed)")
        #expect(keyed.hasSuffix("retry with the same idem key"), "\(keyed)")
        try await fixture.pool.query("DROP TRIGGER die_at_commit ON inventory_ledger")
        // Here the backend died before the commit record: nothing committed, and the key is free.
        let retried = try await onThread {
            try fixture.client("op").request(
                "STOCK RECEIVE warehouse=F-W sku=F-1 qty=4 note=\"die at commit\" idem=lost-1"
            )[0]
        }
        #expect(retried.contains("on_hand=4"), "\(retried)")
    }

    @Test func twoRequestsWithOneKeyAtOnceRunOnce() async throws {
        let fixture = try await ServerFixture.start("idemRace")
        defer { Task { await fixture.stop() } }
        try await onThread { try Self.setUp(try fixture.client("adm")) }
        let replies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await onThread {
                        try fixture.client("op").request("STOCK RECEIVE warehouse=F-W sku=F-1 qty=5 idem=race-1")[0]
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(replies).count == 1, "\(replies)")
        #expect(replies[0].contains("on_hand=5"))
        #expect(try await Self.onHand(fixture) == 5)
    }
}

/// Graceful shutdown through swift-nio-extras' quiescing helper: a running command finishes and its
/// reply is written, then its connection closes; nothing new is accepted meanwhile.
@Suite struct QuiescingShutdownTests {
    @Test func aCommandRunningAtShutdownFinishesAndIsAnswered() async throws {
        // The grace period is the test's to end (by releasing the lock), not the machine's speed's.
        let fixture = try await ServerFixture.start("quiesce", principals: false) { $0.shutdownGrace = .hours(1) }
        let (port, server, database) = (fixture.port, fixture.server, fixture.database)
        let reply = try await onThread { () throws -> (String?, String?, Bool) in
            let client = try AdminClient(host: "127.0.0.1", port: port, timeout: 600)
            func field(_ line: String, _ key: String) -> String {
                line.split(separator: " ").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
                    ?? ""
            }
            let warehouse = field(
                try client.request("WAREHOUSE ADD code=Q-1 name=Q lat=50 lon=10 line1=x city=Y country=DE")[0],
                "id"
            )
            let sku = field(
                try client.request("SKU ADD code=Q-SKU name=S weight_g=1 length_mm=1 width_mm=1 height_mm=1")[0],
                "id"
            )
            _ = try client.request("STOCK RECEIVE warehouse=\(warehouse) sku=\(sku) qty=1")
            // The test holds the stock row: the next receipt waits for it, inside the server.
            let holder = try database.connect()
            defer { holder.close() }
            try holder.execute("BEGIN")
            try holder.execute(
                "SELECT 1 FROM inventory WHERE warehouse_id = $1 AND sku_id = $2 FOR UPDATE",
                [Int64(warehouse)!, Int64(sku)!]
            )
            try client.send(Array("STOCK RECEIVE warehouse=\(warehouse) sku=\(sku) qty=2\n".utf8))
            // A hang guard, not a verdict: until the server's statement waits on the lock.
            for _ in 0..<12_000 {
                // This test's database only: other suites share the cluster.
                let waiting = try holder.query(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                    """
                ).scalar(Int64.self)
                if waiting > 0 { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            server.shutdown()
            // The listener closes at once; the running command does not.
            var refused = false
            for _ in 0..<12_000 {
                if (try? AdminClient(host: "127.0.0.1", port: port, timeout: 600)) == nil {
                    refused = true
                    break
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            try holder.execute("COMMIT")
            return (try client.readLine(), try client.readLine(), refused)
        }
        try await fixture.running.value  // run() returned once the connection closed
        #expect(reply.0?.hasPrefix("OK ") == true && reply.0?.contains("on_hand=3") == true, "\(reply.0 ?? "nil")")
        #expect(reply.1 == nil)  // then the connection closed
        #expect(reply.2)
        await fixture.stop()
    }
}

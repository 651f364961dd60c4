import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyAdminProtocol
import OrderlyCommands
import OrderlyCore
import OrderlyTestSupport
import OrderlyWorker
import Testing

@Suite
struct AdminServerTests {
    /// A valid instance of a command, with sample values for its required arguments.
    static func sample(_ spec: CommandSpec) -> String {
        var words = [spec.name]
        for argument in spec.arguments where argument.required {
            let value: String =
                switch argument.type {
                case .int(let range): String(range.contains(1) ? 1 : range.lowerBound)
                case .code: "X-1"
                case .text: "x"
                case .oneOf(let words): words[0]
                case .country: "DE"
                case .bool: "true"
                case .lines: "X-1:1:100"
                case .decimal: "0"
                case .reference: "1"
                case .name: "web"
                }
            words.append(argument.positional ? value : "\(argument.name)=\(value)")
        }
        return words.joined(separator: " ")
    }

    @Test func greetingPingHelpAndPipelining() async throws {
        let fixture = try await ServerFixture.start("greetingPingHelpAndP")
        defer { Task { await fixture.stop() } }

        try await onThread {
            let client = try fixture.client(nil)
            #expect(client.greeting == "OK orderly protocol=1 auth=required")
            #expect(try client.request("PING") == ["OK pong=true"])
            #expect(try client.request("@t7 ping") == ["@t7 OK pong=true"])
            let help = try client.request("HELP")
            #expect(help.first == "OK rows=\(CommandTable.standard.commands.count)")
            // 1,000 requests in one write: 1,000 replies, in order.
            try client.send((0..<1000).map { "@p\($0) PING\n" }.joined())
            for index in 0..<1000 { #expect(try client.readLine() == "@p\(index) OK pong=true") }
            // One byte at a time: the same replies.
            for byte in Array("PING\r\n@x PING\n".utf8) { try client.send([byte]) }
            #expect(try client.readLine() == "OK pong=true")
            #expect(try client.readLine() == "@x OK pong=true")
            #expect(
                try client.request("HELLO format=json") == [
                    #"{"ok":true,"fields":{"server":"orderly","protocol":1,"auth":"required","user":null,"format":"json"}}"#
                ]
            )
            #expect(try client.request("PING") == [#"{"ok":true,"fields":{"pong":true}}"#])
        }
    }

    @Test func badInputGetsAnErrorAndTheConnectionGoesOn() async throws {
        let fixture = try await ServerFixture.start("badInputGetsAnErrorA")
        defer { Task { await fixture.stop() } }

        try await onThread {
            let client = try fixture.client("adm")
            let cases: [([UInt8], String)] = [
                (Array("PING\rX\n".utf8), "ERR SYNTAX"),
                (Array("PING \u{0}\n".utf8), "ERR SYNTAX"),
                ([0x50, 0x49, 0x4E, 0x47, 0x20, 0xC3, 0x28, 0x0A], "ERR SYNTAX"),
                (Array("A \"abc\n".utf8), "ERR SYNTAX"),
                (Array("A \"a\"b\n".utf8), "ERR SYNTAX"),
                (Array("A \"\\xZZ\"\n".utf8), "ERR SYNTAX"),
                (Array("STOCK RECEIVE warehouse=1 sku=1 qty=1e3\n".utf8), "ERR BAD_ARG qty"),
                (
                    Array("STOCK RECEIVE warehouse=1 sku=1 qty=99999999999999999999999999999999999999\n".utf8),
                    "ERR BAD_ARG qty"
                ),
                (Array("FROB\n".utf8), "ERR UNKNOWN_COMMAND"),
                (Array("ORDER SHOW 1 id=2\n".utf8), "ERR BAD_ARG"),
                (Array(("SKU LIST " + String(repeating: "x ", count: 10_000) + "\n").utf8), "ERR TOO_MANY_ARGS"),
                (Array("ORDER SHOW 999999\n".utf8), "ERR NOT_FOUND order 999999"),
            ]
            for (bytes, expected) in cases {
                try client.send(bytes)
                let reply = try #require(try client.readLine())
                #expect(
                    reply.hasPrefix(expected),
                    "\(String(decoding: bytes.prefix(60), as: UTF8.self).debugDescription) → \(reply)"
                )
                #expect(try client.request("PING") == ["OK pong=true"])
            }
            // Blank lines get no reply.
            try client.send("\n\r\n   \n")
            #expect(try client.request("PING") == ["OK pong=true"])
            // A line one byte over the limit: ERR LINE_TOO_LONG, then close.
            try client.send("PING " + String(repeating: "x", count: AdminLimits.maximumLineLength) + "\n")
            #expect(try client.readLine()?.hasPrefix("ERR LINE_TOO_LONG") == true)
            #expect(try client.readLine() == nil)
        }
    }

    @Test func httpAndTLSAreClosedWithoutRunningAnything() async throws {
        let fixture = try await ServerFixture.start("httpAndTLSAreClosedW", principals: false)
        defer { Task { await fixture.stop() } }

        try await onThread {
            for prefix in ["GET / HTTP/1.1\r\n", "POST /x HTTP/1.1\r\n", "\u{16}\u{3}\u{1}"] {
                let client = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
                try client.send(prefix + "SKU ADD code=HTTP-1 name=x weight_g=1 length_mm=1 width_mm=1 height_mm=1\n")
                #expect(try client.readLine() == nil, "\(prefix.debugDescription)")
            }
            let client = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
            try client.send(
                "PING\nHost: example.com\nSKU ADD code=HTTP-2 name=x weight_g=1 length_mm=1 width_mm=1 height_mm=1\n"
            )
            #expect(try client.readLine() == "OK pong=true")
            #expect(try client.readLine() == nil)
        }
        let created = try await fixture.pool.query("SELECT count(*) FROM skus WHERE code LIKE 'HTTP-%'").scalar(
            Int64.self
        )
        #expect(created == 0)
    }

    @Test func authRolesAndTheCommandMatrix() async throws {
        let fixture = try await ServerFixture.start("authRolesAndTheComma")
        defer { Task { await fixture.stop() } }

        try await onThread {
            let anonymous = try fixture.client(nil)
            for spec in CommandTable.standard.commands where spec.role != nil {
                let reply = try anonymous.request(Self.sample(spec))
                #expect(reply.first?.hasPrefix("ERR NOAUTH") == true, "\(spec.name): \(reply)")
            }
            // Before AUTH, at most 8 arguments.
            #expect(try anonymous.request("HELP a b c d e f g h i j k")[0].hasPrefix("ERR TOO_MANY_ARGS"))
            #expect(try anonymous.request("HELP a b")[0].hasPrefix("ERR UNKNOWN_COMMAND"))
            let roles: [(String, AdminRole)] = [("ro", .readonly), ("op", .operator), ("adm", .admin)]
            for (user, role) in roles {
                let client = try fixture.client(user)
                for spec in CommandTable.standard.commands {
                    guard let needed = spec.role, role < needed else { continue }
                    let reply = try client.request(Self.sample(spec))
                    #expect(reply.first?.hasPrefix("ERR FORBIDDEN") == true, "\(user) \(spec.name): \(reply)")
                }
            }
            // Wrong secrets: refused, then closed after three.
            let guesser = try fixture.client(nil)
            #expect(try guesser.request("AUTH adm wrong1")[0].hasPrefix("ERR AUTH_FAILED"))
            #expect(try guesser.request("AUTH nobody wrong2")[0].hasPrefix("ERR AUTH_FAILED"))
            #expect(try guesser.request("AUTH adm wrong3")[0].hasPrefix("ERR AUTH_FAILED"))
            #expect(try guesser.readLine() == nil)
        }
        let changed = try await fixture.pool.query("SELECT count(*) FROM warehouses").scalar(Int64.self)
        #expect(changed == 0)
    }

    @Test func everyCommandsHappyPath() async throws {
        let fixture = try await ServerFixture.start("everyCommandsHappyPa")
        defer { Task { await fixture.stop() } }

        try await onThread {
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] {
                let reply = try c.request(line)
                #expect(reply.first?.contains("OK") == true, "\(line) → \(reply)")
                return reply
            }
            func field(_ reply: [String], _ key: String) throws -> String {
                let request = try #require(try AdminRequest.parse(Array(("X " + reply[0].dropFirst(3)).utf8)))
                return try #require(request.tokens.first { $0.key == key }?.value, "\(key) in \(reply)")
            }
            let north = try field(
                ok(
                    "WAREHOUSE ADD code=HP-N name=\"North DC\" lat=53.5 lon=10.0 line1=\"Dock 1\" city=Hamburg country=DE"
                ),
                "id"
            )
            let south = try field(
                ok("WAREHOUSE ADD code=HP-S name=South lat=48.1 lon=11.6 line1=x city=München country=DE priority=5"),
                "id"
            )
            #expect(try ok("WAREHOUSE LIST").count >= 4)
            let sku = try field(
                ok("SKU ADD code=HP-1 name=Widget weight_g=250 length_mm=10 width_mm=10 height_mm=10"),
                "id"
            )
            #expect(try ok("SKU LIST prefix=HP-").count == 3)
            #expect(
                try ok("STOCK RECEIVE warehouse=\(north) sku=\(sku) qty=10 note=\"first delivery\"")[0].contains(
                    "on_hand=10"
                )
            )
            #expect(try ok("STOCK RECEIVE warehouse=\(south) sku=\(sku) qty=5")[0].contains("on_hand=5"))
            #expect(
                try ok("STOCK ADJUST warehouse=\(north) sku=\(sku) delta=-1 reason=damaged")[0].contains("on_hand=9")
            )
            #expect(try ok("STOCK COUNT warehouse=\(north) sku=\(sku) counted=8 reason=lost")[0].contains("on_hand=8"))
            #expect(try ok("STOCK TRANSFER sku=\(sku) from=\(north) to=\(south) qty=2").count == 4)
            #expect(try ok("STOCK SHOW \(sku)").count == 4)
            _ = try ok(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2"
            )
            #expect(try ok("RATE LIST country=DE").count == 3)
            let created = try ok(
                "ORDER CREATE channel=web external_id=HP-O1 currency=EUR lines=HP-1:2:1999 name=\"Ada L\" line1=\"Str 1\" city=München country=DE postal=80802 lat=48.2 lon=11.6 token=tok_authorized email=ada@example.com"
            )
            let order = try field(created, "id")
            #expect(try field(created, "status") == "reserved")
            #expect(try field(created, "warehouses") == south)
            // The same external id again: the first order.
            #expect(
                try field(
                    ok(
                        "ORDER CREATE channel=web external_id=HP-O1 currency=EUR lines=HP-1:1:1 name=B line1=C city=D country=DE"
                    ),
                    "id"
                ) == order
            )
            #expect(try ok("ORDER SHOW \(order)").count == 4)
            #expect(try ok("ORDER LIST status=reserved").count >= 3)
            #expect(try ok("ORDER ROUTE \(order)").count >= 3)
            _ = try ok("ORDER HOLD \(order) note=\"call the customer\"")
            #expect(try c.request("ORDER HOLD \(order) note=again")[0].hasPrefix("OK"))  // re-hold is a move too
            _ = try ok("ORDER RELEASE \(order) note=\"all good\"")
            #expect(try field(ok("ORDER CANCEL \(order) reason=\"changed mind\""), "status") == "cancelled")
            #expect(try c.request("ORDER CANCEL \(order) reason=again")[0].hasPrefix("ERR ILLEGAL_TRANSITION"))
            #expect(try ok("SHIPMENT LIST order=\(order)") == ["OK rows=0", "END"])
            #expect(try c.request("SHIPMENT SHOW 424242")[0].hasPrefix("ERR NOT_FOUND shipment 424242"))
            #expect(try ok("JOBS STATS").count >= 3)
            let jobs = try ok("JOBS LIST kind=pick")
            #expect(jobs.count >= 3)
            let job = try #require(
                try AdminRequest.parse(Array(("X " + jobs[1]).utf8))?.tokens.first { $0.key == "id" }?.value
            )
            #expect(try c.request("JOBS DISCARD \(job)")[0].hasPrefix("ERR CONFLICT"))  // cancelled with the order
            #expect(try ok("JOBS RETRY \(job)")[0].contains("state=available"))
            #expect(try ok("JOBS DISCARD \(job)")[0].contains("state=discarded"))
            let check = try ok("CHECK")
            #expect(check.count == 7 && check[1...5].allSatisfy { $0.contains("holds=true violations=0") }, "\(check)")
            #expect(try c.request("QUIT") == ["OK bye=true"])
            #expect(try c.readLine() == nil)
        }
    }

    @Test func fulfillmentCommands() async throws {
        let fixture = try await ServerFixture.start("fulfillmentCommands")
        defer { Task { await fixture.stop() } }
        let database = OrderlyDatabase(pool: fixture.pool)
        var logger = Logger(label: "test.admin.worker")
        logger.logLevel = .critical
        let handlers = StandardJobs.handlers(
            orders: OrderService(database: database, actor: "test"),
            fulfillment: FulfillmentService(database: database, actor: "test"),
            notifier: LogNotifier(logger: logger),
            logger: logger
        )
        let worker = Worker(
            database: database,
            listens: false,
            handlers: handlers.transactional,
            idempotentHandlers: handlers.idempotent,
            configuration: WorkerConfiguration(id: "admin-test", concurrency: 2, pollInterval: .milliseconds(50)),
            logger: logger
        )
        let running = Task { try await worker.run() }
        defer { worker.shutdown() }

        try await onThread {
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] {
                let reply = try c.request(line)
                #expect(reply.first?.contains("OK") == true, "\(line) → \(reply)")
                return reply
            }
            /// A field of a status line (`OK k=v ...`) or of a row line (`k=v ...`).
            func value(_ line: String, _ key: String) -> String? {
                let fields = line.hasPrefix("OK ") ? String(line.dropFirst(3)) : line
                let request = try? AdminRequest.parse(Array(("X " + fields).utf8))
                return request?.tokens.first { $0.key == key }?.value
            }
            func field(_ line: String, _ key: String) throws -> String {
                guard let found = value(line, key) else { throw AdminClientError("no \(key) in \(line)") }
                return found
            }
            func waitFor(_ line: String, row: Int = 0, _ key: String, _ wanted: String) throws -> [String] {
                try ServerFixture.waitFor(c, line, row: row, key, wanted)
            }
            let warehouse = try field(
                ok("WAREHOUSE ADD code=FC-1 name=Dock lat=48.1 lon=11.6 line1=x city=München country=DE")[0],
                "id"
            )
            let sku = try field(
                ok("SKU ADD code=FC-A name=Widget weight_g=300 length_mm=10 width_mm=10 height_mm=10")[0],
                "id"
            )
            _ = try ok("STOCK RECEIVE warehouse=\(warehouse) sku=\(sku) qty=10")
            _ = try ok(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2"
            )
            let connection = try fixture.database.connect()
            defer { connection.close() }
            try connection.execute(
                "UPDATE warehouses SET pick_confirmation = 'scanner' WHERE id = $1",
                [Int64(warehouse) ?? 0]
            )
            let order = try field(
                ok(
                    "ORDER CREATE channel=web external_id=FC-O1 currency=EUR lines=FC-A:2:1999 name=Ada line1=\"Str 1\" city=München country=DE postal=80802 lat=48.2 lon=11.6 token=tok_authorized email=ada@example.com"
                )[0],
                "id"
            )
            // The worker puts the shipment on a list; the picker confirms it.
            let lists = try waitFor(
                "PICKLIST LIST warehouse=\(warehouse) status=in_progress",
                row: 1,
                "status",
                "in_progress"
            )
            let list = try field(lists[1], "id")
            let shown = try ok("PICKLIST SHOW \(list)")
            #expect(shown.count == 4)
            #expect(shown[2].contains("sku=FC-A") && shown[2].contains("seq=1"))
            #expect(try c.request("PICKLIST CONFIRM \(list) picked=FC-A:x")[0].hasPrefix("ERR BAD_ARG"))
            #expect(try c.request("PICKLIST CONFIRM \(list) picked=NOPE:1")[0].hasPrefix("ERR BAD_ARG"))
            #expect(try c.request("PICKLIST CONFIRM \(list) picked=FC-A:3")[0].hasPrefix("ERR BAD_ARG"))
            #expect(try c.request("PICKLIST CONFIRM 424242")[0].hasPrefix("ERR NOT_FOUND"))
            #expect(try field(ok("PICKLIST CONFIRM \(list) picked=FC-A:2")[0], "status") == "completed")
            #expect(try c.request("PICKLIST CONFIRM \(list)")[0].hasPrefix("ERR CONFLICT"))
            // Packed, labelled and shipped by the worker.
            let shipments = try waitFor("SHIPMENT LIST order=\(order)", row: 1, "status", "shipped")
            let shipment = try field(shipments[1], "id")
            #expect(try c.request("SHIPMENT DELIVER 424242")[0].hasPrefix("ERR NOT_FOUND"))
            #expect(try field(ok("SHIPMENT EXCEPTION \(shipment) kind=delayed note=storm")[0], "status") == "delayed")
            #expect(try field(ok("ORDER SHOW \(order)")[1], "status") == "exception")
            #expect(try field(ok("SHIPMENT DELIVER \(shipment)")[0], "status") == "delivered")
            #expect(try c.request("SHIPMENT EXCEPTION \(shipment) kind=lost")[0].hasPrefix("ERR CONFLICT"))
            #expect(try field(ok("ORDER SHOW \(order)")[1], "status") == "delivered")
            let timeline = try ok("ORDER TIMELINE \(order)")
            let sources = Set(try timeline.dropFirst().dropLast().map { try field($0, "source") })
            // The delay opened a claim, which the delivery closed.
            #expect(sources == ["event", "shipment", "job", "notification", "claim", "waiting"])
            #expect(timeline.contains { $0.contains("resolved") && $0.contains("delivered: 0 units") })
            #expect(timeline.contains { $0.contains("deliver: exception -> delivered") })
            #expect(try c.request("ORDER TIMELINE 424242")[0].hasPrefix("ERR NOT_FOUND"))
            // Messages: listed; only a failed one can be sent again.
            let messages = try waitFor("NOTIFICATION LIST order=\(order) status=sent", row: 1, "status", "sent")
            let message = try field(messages[1], "id")
            #expect(try c.request("NOTIFICATION RESEND \(message)")[0].hasPrefix("ERR CONFLICT"))
            #expect(try c.request("NOTIFICATION RESEND 424242")[0].hasPrefix("ERR NOT_FOUND"))
            try connection.execute(
                "UPDATE notifications SET status = 'failed', last_error = 'relay down' WHERE id = $1",
                [Int64(message) ?? 0]
            )
            #expect(try field(ok("NOTIFICATION RESEND \(message)")[0], "status") == "pending")
            // Sent again: the message is among the sent ones (not necessarily the newest: another of the
            // order's messages may have been sent after it was listed).
            var resent: [String] = []
            for _ in 0..<12_000 {
                resent = try c.request("NOTIFICATION LIST order=\(order) status=sent")
                if resent.contains(where: { value($0, "id") == message }) { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(resent.contains { value($0, "id") == message }, "\(resent)")
            #expect(try ok("CHECK").filter { $0.contains("holds=false") } == [])
        }
        worker.shutdown()
        try await running.value
    }

    @Test func idempotencyKeys() async throws {
        let fixture = try await ServerFixture.start("idempotencyKeys")
        defer { Task { await fixture.stop() } }

        try await onThread {
            let c = try fixture.client("op")
            let admin = try fixture.client("adm")
            func id(_ reply: [String]) throws -> String {
                try #require(
                    try AdminRequest.parse(Array(("X " + reply[0].dropFirst(3)).utf8))?.tokens.first { $0.key == "id" }?
                        .value
                )
            }
            let w = try id(admin.request("WAREHOUSE ADD code=ID-W name=W lat=50 lon=10 line1=x city=y country=DE"))
            let s = try id(admin.request("SKU ADD code=ID-1 name=S weight_g=1 length_mm=1 width_mm=1 height_mm=1"))
            let first = try c.request("STOCK RECEIVE warehouse=\(w) sku=\(s) qty=3 idem=delivery-7")
            let again = try c.request("STOCK RECEIVE warehouse=\(w) sku=\(s) qty=3 idem=delivery-7")
            #expect(first == again)
            #expect(first[0].contains("on_hand=3"))
            #expect(
                try c.request("STOCK RECEIVE warehouse=\(w) sku=\(s) qty=4 idem=delivery-7")[0].hasPrefix(
                    "ERR IDEMPOTENCY_CONFLICT"
                )
            )
            // A refusal frees the key.
            #expect(
                try c.request("STOCK ADJUST warehouse=\(w) sku=\(s) delta=-99 reason=lost idem=fix-1")[0].hasPrefix(
                    "ERR INSUFFICIENT_STOCK"
                )
            )
            #expect(
                try c.request("STOCK ADJUST warehouse=\(w) sku=\(s) delta=-1 reason=lost idem=fix-1")[0].contains(
                    "on_hand=2"
                )
            )
        }
    }

    @Test func limitsHalfCloseAndAClientKilledMidCommand() async throws {
        let fixture = try await ServerFixture.start("limitsHalfCloseAndAC", principals: false) { $0.maximumClients = 3 }
        defer { Task { await fixture.stop() } }

        try await onThread {
            let a = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
            #expect(a.greeting == "OK orderly protocol=1 auth=none")
            _ = try a.request("WAREHOUSE ADD code=K-W name=W lat=50 lon=10 line1=x city=y country=DE")
            _ = try a.request("SKU ADD code=K-1 name=S weight_g=1 length_mm=1 width_mm=1 height_mm=1")
            _ = try a.request("STOCK RECEIVE warehouse=1 sku=1 qty=50")
            let b = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
            let third = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
            #expect(third.greeting.hasPrefix("OK"))
            let refused = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
            #expect(refused.greeting.hasPrefix("ERR MAX_CLIENTS"))
            #expect(try refused.readLine() == nil)
            // Half-close: every reply still comes.
            try b.send("PING\n@2 PING\n")
            b.shutdownWrite()
            #expect(try b.readLine() == "OK pong=true")
            #expect(try b.readLine() == "@2 OK pong=true")
            #expect(try b.readLine() == nil)
            // Killed mid-command: the order is all there or not at all.
            for index in 0..<20 {
                let victim = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
                try victim.send(
                    "ORDER CREATE channel=web external_id=K-\(index) currency=EUR lines=K-1:1:100 name=A line1=B city=C country=DE postal=1 lat=50 lon=10 token=tok_authorized\n"
                )
                _ = victim  // dropped here: the socket closes at once
            }
        }
        // The server finishes the dropped clients' commands before it stops; every check below reads
        // one snapshot, so a command still running cannot fall between two of its counts.
        let report = try await InvariantCheckerProbe.run(fixture.pool)
        #expect(report.isEmpty, "\(report)")
        // One statement, one snapshot: a command still finishing cannot fall between the two counts.
        let counts = try await fixture.pool.query(
            """
            SELECT (SELECT reserved FROM inventory WHERE sku_id = 1),
                   (SELECT count(*) FROM orders WHERE status = 'reserved')
            """
        )
        #expect(try counts[0].decode(Int64.self, at: 0) == counts[0].decode(Int64.self, at: 1))
    }
}

/// `orderly check` on the fixture's database.
enum InvariantCheckerProbe {
    static func run(_ pool: PostgresPool) async throws -> [String] {
        try await InvariantChecker(database: OrderlyDatabase(pool: pool)).run().violations.map {
            "\($0.invariant): \($0.detail)"
        }
    }
}

@Suite
struct AdminServerLimitTests {
    @Test func authTimeoutCloses() async throws {
        let fixture = try await ServerFixture.start("auth_timeout") { $0.authTimeout = .milliseconds(300) }
        defer { Task { await fixture.stop() } }
        try await onThread {
            // Never authenticates: closed after the auth timeout, with a reason.
            let slow = try AdminClient(host: "127.0.0.1", port: fixture.port, timeout: 600)
            #expect(try slow.readLine()?.hasPrefix("ERR NOAUTH") == true)
            #expect(try slow.readLine() == nil)
        }
    }

    @Test func idleTimeoutCloses() async throws {
        // The connection sends nothing after the greeting, so nothing the machine does can count as
        // activity: it is closed, whenever the timer fires. (When, to the millisecond, and that
        // activity postpones it, ConnectionClockTests checks on a clock it moves itself.)
        let fixture = try await ServerFixture.start("idle_timeout") { $0.idleTimeout = .milliseconds(200) }
        defer { Task { await fixture.stop() } }
        try await onThread {
            let idle = try fixture.client(nil)
            #expect(idle.greeting == "OK orderly protocol=1 auth=required")
            #expect(try idle.readLine() == nil)
        }
    }

    @Test func gracefulShutdownStopsAcceptingAndClosesConnections() async throws {
        let fixture = try await ServerFixture.start("shutdown", principals: false)
        let port = fixture.port
        let server = fixture.server
        // The client lives on one thread; the shutdown happens while it is connected.
        let result = try await onThread { () throws -> (String?, Bool) in
            let client = try AdminClient(host: "127.0.0.1", port: port, timeout: 600)
            guard try client.request("PING") == ["OK pong=true"] else { return ("no pong", false) }
            server.shutdown()
            let afterShutdown = try client.readLine()
            let refused = (try? AdminClient(host: "127.0.0.1", port: port, timeout: 600)) == nil
            return (afterShutdown, refused)
        }
        try await fixture.running.value  // run() returned: connections closed
        #expect(result.0 == nil)
        #expect(result.1)
        await fixture.stop()
    }

    @Test func aPeerThatNeverReadsIsThrottledNotBuffered() async throws {
        let fixture = try await ServerFixture.start("unread") { $0.outputHighWaterMark = 64 * 1024 }
        defer { Task { await fixture.stop() } }
        try await onThread {
            let greedy = try fixture.client("ro")  // AUTH's hashing may take seconds on a loaded machine
            greedy.setTimeout(2)
            // Requests whose replies are never read: the server stops reading once its output backs up,
            // so our writes stall (the send timeout ends them) instead of the server buffering them all.
            let help = Array(String(repeating: "HELP\n", count: 20_000).utf8)
            var sent = 0
            do {
                for _ in 0..<200 {
                    try greedy.send(help)
                    sent += 1
                }
            } catch {}
            #expect(sent < 200, "the server kept reading \(sent * 20_000) HELP requests without its replies being read")
            // Others are served meanwhile.
            let other = try fixture.client("ro")
            #expect(try other.request("PING") == ["OK pong=true"])
        }
    }
}

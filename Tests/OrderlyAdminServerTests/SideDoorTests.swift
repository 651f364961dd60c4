import ArgumentParser
import Foundation
import LibPQ
import LineSocket
import Logging
import Orderly
import OrderlyAdminProtocol
import OrderlyAdminServer
import OrderlyCommands
import OrderlyCore
import OrderlyHTTP
import OrderlyStore
import OrderlyTestSupport
import OrderlyWorker
import Testing

/// The HTTP side door over real TCP: /metrics after orders, refusals and jobs, with the counters'
/// values checked against what happened; /readyz while the database is down and after it is back.
@Suite struct SideDoorTests {
    static var quiet: Logger {
        var logger = Logger(label: "test.sidedoor")
        logger.logLevel = .critical
        return logger
    }

    /// A side door on a free loopback port over `database` (its queue read at each scrape): the task
    /// running it, and the port.
    static func openDoor(
        _ database: OrderlyDatabase,
        _ exposition: MetricsExposition
    ) async -> (Task<Void, any Error>, Int) {
        exposition.observeQueues(in: database)
        let door = HTTPSideDoor(
            configuration: .init(port: 0),
            readiness: { await database.readinessProblems() },
            exposition: exposition,
            logger: quiet
        )
        let serving = Task { try await door.run() }
        return (serving, await door.localPort())
    }

    @Test func metricsCountOrdersRefusalsCommandsAndJobs() async throws {
        let exposition = MetricsExposition()
        var components = OrderlyComponents.standard
        components.metrics = exposition.metrics
        let fixture = try await ServerFixture.start("sideDoorMetrics", components: components)
        defer { Task { await fixture.stop() } }
        let database = OrderlyDatabase(pool: fixture.pool)
        let handlers = StandardJobs.handlers(
            orders: OrderService(database: database, actor: "test", components: components),
            fulfillment: FulfillmentService(database: database, actor: "test", components: components),
            notifier: LogNotifier(logger: Self.quiet),
            logger: Self.quiet
        )
        let worker = Worker(
            database: database,
            listens: false,
            handlers: handlers.transactional,
            idempotentHandlers: handlers.idempotent,
            configuration: WorkerConfiguration(id: "sidedoor-test", concurrency: 2, pollInterval: .milliseconds(50)),
            metrics: exposition.metrics,
            logger: Self.quiet
        )
        let working = Task { try await worker.run() }
        exposition.observePool(of: database)
        let (serving, port) = await Self.openDoor(database, exposition)
        defer { serving.cancel() }

        let orders = try await onThread {
            let c = try fixture.client("adm")
            func ok(_ line: String) throws -> [String] {
                let reply = try c.request(line)
                #expect(reply.first?.hasPrefix("OK") == true, "\(line) → \(reply)")
                return reply
            }
            let warehouse = try PaymentProtocolTests.value(
                ok("WAREHOUSE ADD code=SD-1 name=Dock lat=48.1 lon=11.6 line1=x city=München country=DE")[0],
                "id"
            )
            let sku = try PaymentProtocolTests.value(
                ok("SKU ADD code=SD-A name=Widget weight_g=300 length_mm=10 width_mm=10 height_mm=10")[0],
                "id"
            )
            _ = try ok("STOCK RECEIVE warehouse=\(warehouse ?? "") sku=\(sku ?? "") qty=10")
            _ = try ok(
                "RATE ADD carrier=DHL service=parcel country=DE min_g=0 max_g=5000 price=499 currency=EUR days=2"
            )
            let address = "name=Ada line1=\"Str 1\" city=München country=DE postal=80802 lat=48.2 lon=11.6"
            var ids: [String] = []
            for n in 1...2 {
                let created = try ok(
                    "ORDER CREATE channel=web external_id=SD-\(n) currency=EUR lines=SD-A:1:1999 \(address) token=tok_authorized"
                )
                #expect(PaymentProtocolTests.value(created[0], "status") == "reserved")
                ids.append(PaymentProtocolTests.value(created[0], "id") ?? "")
            }
            // A replay, and a capture refused for its channel.
            _ = try ok(
                "ORDER CREATE channel=web external_id=SD-1 currency=EUR lines=SD-A:1:1999 \(address) token=tok_authorized"
            )
            let refused = try c.request(
                "ORDER CREATE channel=nowhere external_id=SD-9 currency=EUR lines=SD-A:1:1999 \(address) token=tok_authorized"
            )
            #expect(refused[0].hasPrefix("ERR BAD_ARG"), "\(refused)")
            for id in ids { _ = try ServerFixture.waitFor(c, "ORDER SHOW \(id)", row: 1, "status", "shipped") }
            return ids
        }
        #expect(orders.count == 2)
        // Every job due now done (what is left is scheduled for later), then the worker stopped: its
        // counters are final.
        try await onThread {
            let connection = try fixture.database.connect()
            defer { connection.close() }
            for _ in 0..<12_000 {
                let open = try connection.query(
                    "SELECT count(*) FROM jobs WHERE state IN ('available', 'running', 'retryable') AND run_at <= now()"
                ).scalar(Int64.self)
                if open == 0 { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        worker.shutdown()
        _ = try? await working.value
        // One more order with the worker gone: its jobs wait in the queue, for the depth gauges.
        try await onThread {
            let c = try fixture.client("adm")
            let created = try c.request(
                "ORDER CREATE channel=web external_id=SD-3 currency=EUR lines=SD-A:1:1999 name=Ada line1=\"Str 1\" city=München country=DE postal=80802 lat=48.2 lon=11.6 token=tok_authorized"
            )
            #expect(created[0].hasPrefix("OK"), "\(created)")
        }
        let due = try await onThread {
            let connection = try fixture.database.connect()
            defer { connection.close() }
            return try connection.query(
                "SELECT queue, count(*) FROM jobs WHERE state IN ('available', 'retryable') AND run_at <= now() GROUP BY queue"
            ).map { (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1)) }
        }
        #expect(!due.isEmpty)

        let answer = try await onThread {
            try HTTPAnswer.get(host: "127.0.0.1", port: port, path: "/metrics", timeout: 600)
        }
        #expect(answer.status == 200)
        #expect(answer.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = answer.body
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            Exposition.sample(text, name, labels)
        }
        #expect(value("orderly_orders_placed_total", ["channel": "web", "status": "reserved"]) == 3)
        #expect(value("orderly_orders_placed_total", ["channel": "web", "status": "replayed"]) == 1)
        #expect(value("orderly_orders_refused_total", ["channel": "nowhere", "reason": "BAD_ARG"]) == 1)
        // Each of the five captures ran the placement transaction once.
        #expect(value("orderly_reservation_duration_seconds_count") == 5)
        #expect(value("orderly_admin_requests_total", ["command": "ORDER CREATE", "result": "ok"]) == 4)
        #expect(value("orderly_admin_requests_total", ["command": "ORDER CREATE", "result": "BAD_ARG"]) == 1)
        #expect(value("orderly_admin_requests_total", ["command": "AUTH", "result": "ok"]) == 2)
        #expect(value("orderly_pool_connections_max") == 8)
        #expect(value("orderly_queue_up") == 1)
        for (queue, count) in due {
            #expect(value("orderly_queue_jobs", ["queue": queue, "state": "due"]) == Double(count), "\(queue)")
            #expect(value("orderly_queue_jobs", ["queue": queue, "state": "running"]) == 0)
            #expect((value("orderly_queue_oldest_due_seconds", ["queue": queue]) ?? -1) >= 0)
        }

        // The jobs counted completed are the jobs the table holds as completed, kind by kind.
        let completed = try await onThread {
            let connection = try fixture.database.connect()
            defer { connection.close() }
            return try connection.query("SELECT kind, count(*) FROM jobs WHERE state = 'completed' GROUP BY kind")
                .map { (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1)) }
        }
        #expect(completed.contains { $0.0 == "ship" })
        for (kind, count) in completed {
            #expect(value("orderly_jobs_total", ["kind": kind, "outcome": "completed"]) == Double(count), "\(kind)")
            #expect((value("orderly_jobs_total", ["kind": kind, "outcome": "claimed"]) ?? 0) >= Double(count))
        }
        #expect(value("orderly_jobs_total", ["kind": "ship", "outcome": "failed"]) == nil)

        let health = try await onThread {
            try HTTPAnswer.get(host: "127.0.0.1", port: port, path: "/healthz", timeout: 600)
        }
        #expect(health.status == 200 && health.body == "ok")
        let missing = try await onThread {
            try HTTPAnswer.get(host: "127.0.0.1", port: port, path: "/nope", timeout: 600)
        }
        #expect(missing.status == 404)
    }

    /// "Down" is this test's database refusing connections (ALLOW_CONNECTIONS false, its sessions
    /// ended): to the process it is a database gone, while the suite's other databases carry on.
    @Test func readinessFailsWhileTheDatabaseIsDownAndRecovers() async throws {
        let test = try await TestDatabase.create(label: "sidedoor_ready", migrated: true)
        defer { try? test.drop() }
        let exposition = MetricsExposition()
        var options = PostgresPoolOptions(maxConnections: 2)
        options.observeAcquire = { exposition.metrics.poolWait($0) }
        let pool = test.makePool(options)
        let database = OrderlyDatabase(pool: pool)
        let (serving, port) = await Self.openDoor(database, exposition)
        defer { serving.cancel() }
        func get(_ path: String) async throws -> HTTPAnswer {
            try await onThread { try HTTPAnswer.get(host: "127.0.0.1", port: port, path: path, timeout: 600) }
        }
        /// `orderly probe` (the image's health check) against the door: true when it exits 0. Its
        /// timeout is a hang guard, not a verdict on how fast a loaded machine answers.
        func probe(_ path: String = "/readyz") async throws -> Bool {
            try await onThread {
                var command = try OrderlyCommand.parseAsRoot([
                    "probe", "--http-port", "\(port)", "--path", path, "--timeout", "600",
                ])
                do {
                    try command.run()
                    return true
                } catch let exit as ExitCode {
                    #expect(exit == .failure)
                    return false
                }
            }
        }
        func allowConnections(_ allowed: Bool) async throws {
            try await onThread {
                let admin = try PostgresConnection(configuration: try TestServer.shared())
                defer { admin.close() }
                try admin.execute(
                    "ALTER DATABASE \(identifier: test.name) WITH ALLOW_CONNECTIONS \(unescaped: allowed ? "true" : "false")"
                )
                if !allowed {
                    try admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                        [test.name]
                    )
                }
            }
        }

        #expect(try await get("/readyz").status == 200)
        #expect(try await probe())
        #expect(try await !probe("/nope"))
        try await allowConnections(false)
        let down = try await get("/readyz")
        #expect(down.status == 503)
        #expect(down.body.hasPrefix("database: "), "\(down.body)")
        #expect(try await get("/healthz").status == 200)  // alive, though not ready
        #expect(try await !probe())
        #expect(try await probe("/healthz"))
        #expect(Exposition.sample(try await get("/metrics").body, "orderly_queue_up", [:]) == 0)

        try await allowConnections(true)
        // Ready again once the pool connects (a new connection per borrowing; no clock decides).
        // A connection the termination broke may fail once more before the pool drops it.
        var back = try await get("/readyz")
        for _ in 0..<12_000 where back.status != 200 {
            try await Task.sleep(for: .milliseconds(50))
            back = try await get("/readyz")
        }
        #expect(back.status == 200 && back.body == "ready", "\(back.body)")
        #expect(try await probe())
        let metrics = try await get("/metrics").body
        #expect(Exposition.sample(metrics, "orderly_queue_up", [:]) == 1)
        // Every borrowing was timed: the readiness checks and the scrapes' queue reads.
        #expect((Exposition.sample(metrics, "orderly_pool_wait_seconds_count", [:]) ?? 0) >= 3)
        await pool.close()
    }
}

/// Reading the Prometheus text format back, for the tests.
enum Exposition {
    /// The value of the sample `name` whose labels are exactly `labels`; nil if there is none.
    static func sample(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space]
            let (seriesName, seriesLabels) = parse(series)
            if seriesName == name, seriesLabels == labels { return Double(line[line.index(after: space)...]) }
        }
        return nil
    }

    static func parse(_ series: Substring) -> (String, [String: String]) {
        guard let brace = series.firstIndex(of: "{") else { return (String(series), [:]) }
        var labels: [String: String] = [:]
        let body = series[series.index(after: brace)..<(series.lastIndex(of: "}") ?? series.endIndex)]
        for match in body.matches(of: /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/) {
            labels[String(match.1)] = String(match.2)
        }
        return (String(series[..<brace]), labels)
    }
}

import Foundation
import LibPQ
import Orderly
import OrderlyCore
import OrderlyStore
import OrderlyTestSupport
import OrderlyWorker
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real worker processes against real PostgreSQL: exactly-once effects across processes, crashes
/// (kill -9) in the middle of a pick and of a ship, graceful SIGTERM, a failing job discarded.
@Suite(.migratedDatabase, .serialized)
struct WorkerProcessTests {
    /// The table the `probe` job writes to (ORDERLY_WORKER_PROBE=1); tests tell their jobs apart by queue.
    static func createProbeTable(_ pool: PostgresPool) async throws {
        try await pool.query(
            "CREATE TABLE IF NOT EXISTS worker_probe (job_id bigint NOT NULL, attempt int NOT NULL, worker text NOT NULL)"
        )
    }

    func waitUntil(
        _ pool: PostgresPool,
        seconds: Int,
        _ sql: String,
        _ bindings: [any PostgresEncodable] = []
    )
        async throws -> Bool
    {
        for _ in 0..<(seconds * 10) {
            if try await pool.query(sql, bindings).scalar(Bool.self) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func threeWorkerProcessesApplyTenThousandEffectsExactlyOnce() async throws {
        let database = try TestDatabase.require()
        let pool = database.makePool()
        defer { Task { await pool.close() } }
        try await Self.createProbeTable(pool)
        let workers = try (0..<3).map {
            try WorkerProcess(
                conninfo: database.conninfo,
                id: "many\($0)",
                arguments: ["--queues", "probe", "--concurrency", "4"],
                environment: ["ORDERLY_WORKER_PROBE": "1", "ORDERLY_WORKER_PAUSE": "probe:2"]
            )
        }
        // All three are up (each LISTENs before its first claim) before there is anything to take, and
        // each job holds its slot for 2 ms: one process alone would need seconds for the lot, so each
        // gets a share however the machine schedules their start.
        #expect(
            try await waitUntil(
                pool,
                seconds: 600,
                "SELECT count(*) = 3 FROM pg_stat_activity WHERE application_name = 'orderly' AND datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        )
        try await pool.withConnection { connection in
            _ = try JobQueue.enqueue(connection, (0..<10_000).map { _ in NewJob(queue: "probe", kind: "probe") })
        }
        let drained = try await waitUntil(
            pool,
            seconds: 600,
            "SELECT count(*) = 10000 FROM jobs WHERE queue = 'probe' AND state = 'completed'"
        )
        workers.forEach { $0.signal(SIGTERM) }
        for worker in workers {
            let status = await worker.exitStatus(within: 600)
            #expect(status == 0, "\(worker.output)")
        }
        #expect(drained)
        let effects = try await pool.query(
            """
            SELECT count(*), count(DISTINCT job_id), count(DISTINCT worker)
            FROM worker_probe p JOIN jobs j ON j.id = p.job_id WHERE j.queue = 'probe'
            """
        )
        #expect(try effects[0].decode(Int64.self, at: 0) == 10_000)
        #expect(try effects[0].decode(Int64.self, at: 1) == 10_000)
        #expect(try effects[0].decode(Int64.self, at: 2) == 3)  // all three processes took a share
    }

    @Test func oneWorkerProcessCarriesAnOrderFromCaptureToDelivered() async throws {
        let setup = try await FulfillmentFlowTests.Setup.make()
        defer { Task { await setup.pool.close() } }
        let worker = try WorkerProcess(conninfo: try TestDatabase.require().conninfo, id: "e2e")
        let placed = try await setup.orders.place(setup.order("process-e2e", lines: [(0, 1), (1, 2)]))
        #expect(try await setup.waitFor(placed.orderID, "shipped", seconds: 600) == "shipped", "\(worker.output)")
        let shipmentID = try await setup.pool.query("SELECT id FROM shipments WHERE order_id = $1", [placed.orderID])
            .scalar(Int64.self)
        // The carrier's news arrives as a job, as a webhook would enqueue it.
        try await setup.pool.withConnection { connection in
            _ = try JobQueue.enqueue(
                connection,
                Jobs.CarrierNews.self,
                .init(shipmentID: shipmentID, event: .delivered, note: "front door")
            )
        }
        #expect(try await setup.waitFor(placed.orderID, "delivered", seconds: 600) == "delivered")
        // Confirmed, shipped and delivered messages were all sent (the log notifier), and the recording
        // gateway's instruction for the capture.
        #expect(
            try await waitUntil(
                setup.pool,
                seconds: 600,
                "SELECT count(*) = 4 FROM notifications WHERE order_id = $1 AND status = 'sent'",
                [placed.orderID]
            )
        )
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus(within: 600) == 0)
        #expect(try await setup.check() == [])
    }

    @Test func aWorkerKilledMidPickAndMidShipIsRescuedWithoutDoubleShipping() async throws {
        let setup = try await FulfillmentFlowTests.Setup.make()
        defer { Task { await setup.pool.close() } }
        let conninfo = try TestDatabase.require().conninfo
        let lease = ["--lease-seconds", "2"]
        // The first worker stops for a minute inside the pick's transaction, after its writes.
        var first: WorkerProcess? = try WorkerProcess(
            conninfo: conninfo,
            id: "crash-pick",
            arguments: lease,
            environment: ["ORDERLY_WORKER_PAUSE": "pick:60000"]
        )
        let placed = try await setup.orders.place(setup.order("crash", lines: [(0, 2), (1, 1)]))
        #expect(
            try await waitUntil(
                setup.pool,
                seconds: 600,
                "SELECT count(*) = 1 FROM jobs WHERE kind = 'pick' AND state = 'running' AND (args->>'order_id')::int8 = $1",
                [placed.orderID]
            )
        )
        // Its transaction has done its writes and sleeps: the session is idle in transaction.
        #expect(
            try await waitUntil(
                setup.pool,
                seconds: 600,
                "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'orderly' AND datname = current_database() AND state = 'idle in transaction'"
            )
        )
        first?.signal(SIGKILL)
        _ = await first?.exitStatus(within: 600)
        first = nil
        // The second stops inside the ship's transaction, and is killed there too.
        var second: WorkerProcess? = try WorkerProcess(
            conninfo: conninfo,
            id: "crash-ship",
            arguments: lease,
            environment: ["ORDERLY_WORKER_PAUSE": "ship:60000"]
        )
        #expect(
            try await waitUntil(
                setup.pool,
                seconds: 600,
                "SELECT count(*) = 1 FROM jobs WHERE kind = 'ship' AND state = 'running' AND (args->>'order_id')::int8 = $1",
                [placed.orderID]
            )
        )
        // Its transaction has done its writes and sleeps: the session is idle in transaction.
        #expect(
            try await waitUntil(
                setup.pool,
                seconds: 600,
                "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'orderly' AND datname = current_database() AND state = 'idle in transaction'"
            )
        )
        second?.signal(SIGKILL)
        _ = await second?.exitStatus(within: 600)
        second = nil
        // A third, healthy worker rescues the ship once its lease lapses.
        let third = try WorkerProcess(conninfo: conninfo, id: "rescuer", arguments: lease)
        #expect(try await setup.waitFor(placed.orderID, "shipped", seconds: 600) == "shipped", "\(third.output)")
        third.signal(SIGTERM)
        #expect(await third.exitStatus(within: 600) == 0)

        let shipments = try await setup.pool.query(
            "SELECT count(*), count(*) FILTER (WHERE status = 'shipped') FROM shipments WHERE order_id = $1",
            [placed.orderID]
        )
        #expect(try shipments[0].decode(Int64.self, at: 0) == 1)
        #expect(try shipments[0].decode(Int64.self, at: 1) == 1)
        let shipLedger = try await setup.pool.query(
            "SELECT coalesce(sum(-on_hand_delta), 0)::int8 FROM inventory_ledger WHERE order_id = $1 AND reason = 'ship'",
            [placed.orderID]
        ).scalar(Int64.self)
        #expect(shipLedger == 3)
        let rescued = try await setup.pool.query(
            """
            SELECT kind, attempt, last_error FROM jobs
            WHERE (args->>'order_id')::int8 = $1 AND kind IN ('pick', 'ship') ORDER BY kind
            """,
            [placed.orderID]
        )
        #expect(try rescued.map { try $0.decode(Int32.self, at: 1) } == [2, 2])
        #expect(try rescued.allSatisfy { try $0.decode(String.self, at: 2).contains("lease expired") })
        #expect(try await setup.check() == [])
    }

    @Test func sigtermFinishesRunningJobsAndClaimsNoMore() async throws {
        let database = try TestDatabase.require()
        let pool = database.makePool()
        defer { Task { await pool.close() } }
        try await Self.createProbeTable(pool)
        try await pool.withConnection { connection in
            _ = try JobQueue.enqueue(connection, (0..<6).map { _ in NewJob(queue: "drain", kind: "probe") })
        }
        let worker = try WorkerProcess(
            conninfo: database.conninfo,
            id: "drain",
            arguments: ["--queues", "drain", "--concurrency", "4"],
            environment: ["ORDERLY_WORKER_PROBE": "1", "ORDERLY_WORKER_PAUSE": "probe:1500"]
        )
        #expect(
            try await waitUntil(
                pool,
                seconds: 600,
                "SELECT count(*) = 4 FROM jobs WHERE queue = 'drain' AND state = 'running'"
            )
        )
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus(within: 600) == 0, "\(worker.output)")
        let states = try await pool.query(
            "SELECT state, count(*) FROM jobs WHERE queue = 'drain' GROUP BY state ORDER BY state"
        )
        let counts = Dictionary(
            uniqueKeysWithValues: try states.map {
                (try $0.decode(String.self, at: 0), try $0.decode(Int64.self, at: 1))
            }
        )
        #expect(counts == ["available": 2, "completed": 4])
        #expect(
            try await pool.query(
                "SELECT count(*) FROM worker_probe p JOIN jobs j ON j.id = p.job_id WHERE j.queue = 'drain'"
            ).scalar(Int64.self) == 4
        )
    }

    /// WORKER LIST's states (AdminQueries.workers, what the admin command reads), by worker id.
    static func workerStates(_ pool: PostgresPool) async throws -> [String: String] {
        let rows = try await pool.withConnection { try AdminQueries.workers($0) }
        var states: [String: String] = [:]
        for row in rows {
            let cells = Dictionary(row, uniquingKeysWith: { first, _ in first })
            if case .text(let id) = cells["id"], case .text(let state) = cells["state"] { states[id] = state }
        }
        return states
    }

    @Test func aWorkerKilledIsShownDeadAndOneStoppedCleanlyIsShownStopped() async throws {
        let database = try TestDatabase.require()
        let pool = database.makePool()
        defer { Task { await pool.close() } }
        let arguments = ["--queues", "heartbeat", "--heartbeat-seconds", "0.2"]
        let killed = try WorkerProcess(conninfo: database.conninfo, id: "heart-killed", arguments: arguments)
        let stopped = try WorkerProcess(conninfo: database.conninfo, id: "heart-stopped", arguments: arguments)
        func waitForStates(_ expected: [String: String]) async throws -> [String: String] {
            var states: [String: String] = [:]
            // A hang guard, not a verdict: 10 minutes at the most.
            for _ in 0..<6000 {
                states = try await Self.workerStates(pool).filter { $0.key.hasPrefix("heart-") }
                if states == expected { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return states
        }
        #expect(
            try await waitForStates(["heart-killed": "running", "heart-stopped": "running"]) == [
                "heart-killed": "running", "heart-stopped": "running",
            ]
        )
        let row = try await pool.query(
            "SELECT host, pid, array_to_string(queues, ','), concurrency FROM worker_processes WHERE id = 'heart-killed'"
        )
        #expect(try row.map { try $0.decode(Int64.self, at: 1) } == [Int64(killed.process.processIdentifier)])
        #expect(try row.map { try $0.decode(String.self, at: 2) } == ["heartbeat"])
        killed.signal(SIGKILL)
        stopped.signal(SIGTERM)
        #expect(await stopped.exitStatus(within: 600) == 0, "\(stopped.output)")
        #expect(
            try await waitForStates(["heart-killed": "dead", "heart-stopped": "stopped"]) == [
                "heart-killed": "dead", "heart-stopped": "stopped",
            ]
        )
        // JOBS STATS counts the dead worker against its queue once the queue has jobs.
        try await pool.withConnection { _ = try JobQueue.enqueue($0, NewJob(queue: "heartbeat", kind: "probe")) }
        let stats = try await pool.withConnection { try AdminQueries.jobStats($0) }
        let heartbeat = stats.map { Dictionary($0, uniquingKeysWith: { first, _ in first }) }
            .filter { $0["queue"] == .text("heartbeat") }
        #expect(heartbeat.count == 1)
        #expect(heartbeat.first?["dead_workers"] == .int(1))
        #expect(heartbeat.first?["workers"] == .int(0))
        // Pruned once silent or stopped for longer than asked.
        try await pool.withConnection { _ = try JobQueue.pruneWorkers($0, olderThanSeconds: 0) }
        #expect(try await Self.workerStates(pool).filter { $0.key.hasPrefix("heart-") }.isEmpty)
        try await pool.withConnection { _ = try $0.execute("DELETE FROM jobs WHERE queue = 'heartbeat'", []) }
    }

    @Test func aFailingJobBacksOffAndIsDiscardedWithItsErrorAndNoEffect() async throws {
        let database = try TestDatabase.require()
        let pool = database.makePool()
        defer { Task { await pool.close() } }
        try await Self.createProbeTable(pool)
        let id = try await pool.withConnection { connection in
            try JobQueue.enqueue(
                connection,
                NewJob(queue: "failing", kind: "probe", args: #"{"fail": true}"#, maxAttempts: 3)
            )
        }
        let worker = try WorkerProcess(
            conninfo: database.conninfo,
            id: "fail",
            arguments: ["--queues", "failing", "--backoff-base", "0.2", "--backoff-cap", "1"],
            environment: ["ORDERLY_WORKER_PROBE": "1"]
        )
        #expect(
            try await waitUntil(pool, seconds: 600, "SELECT state = 'discarded' FROM jobs WHERE id = $1", [id ?? 0])
        )
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus(within: 600) == 0)
        let row = try await pool.query(
            """
            SELECT attempt, last_error, jsonb_array_length(errors),
                   (SELECT bool_and(e->>'error' = 'probe asked to fail') FROM jsonb_array_elements(errors) e)
            FROM jobs WHERE id = $1
            """,
            [id ?? 0]
        )
        #expect(try row[0].decode(Int32.self, at: 0) == 3)
        #expect(try row[0].decode(String.self, at: 1) == "probe asked to fail")
        #expect(try row[0].decode(Int32.self, at: 2) == 3)
        #expect(try row[0].decode(Bool.self, at: 3))
        #expect(
            try await pool.query("SELECT count(*) FROM worker_probe WHERE job_id = $1", [id ?? 0]).scalar(Int64.self)
                == 0
        )
    }
}

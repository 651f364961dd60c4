import ArgumentParser
import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyCommands
import OrderlyCore
import OrderlyDevCluster
import OrderlyStore

extension BenchCommand {
    struct Reserve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reserve",
            abstract: "Orders placed per second (capture + route + reserve) vs pgbench's bare reservation transaction.",
            discussion: """
                Creates a scratch database on the configured cluster (dropped afterwards unless --keep), \
                seeds three warehouses and --skus SKUs with ample stock, then for each client count: \
                Orderly places one-line web orders for --seconds through OrderService.place (capture, \
                validation, payment check, hold rules, nearest>split routing, the reservation transaction), \
                and pgbench runs the bare reservation transaction (BEGIN; SELECT ... FOR UPDATE of one \
                inventory row; UPDATE it; INSERT a ledger row; END) against the same tables.

                Besides rates and latencies it prints where the time goes: round trips per order (counted \
                by the connection), and CPU per order of PostgreSQL (all its processes, from /proc) and of \
                this process.

                Example:
                  orderly bench reserve --clients 1,16 --seconds 10
                """
        )

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Comma-separated client counts.")
        var clients: String = "1,16"

        @Option(help: "Seconds per run.")
        var seconds: Int = 10

        @Option(help: "SKUs to spread orders over (fewer means hotter rows).")
        var skus: Int = 1000

        @Option(help: "Path to pgbench (default: on PATH).")
        var pgbench: String = "pgbench"

        @Flag(help: "Keep the scratch database afterwards.")
        var keep = false

        func validate() throws {
            guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be 1...3600") }
            guard (1...1_000_000).contains(skus) else { throw ValidationError("--skus must be 1...1000000") }
            _ = try clientCounts
        }

        var clientCounts: [Int] {
            get throws { try BenchCommand.counts(clients, in: 1...256, option: "--clients") }
        }

        func run() async throws {
            let logger = CommandLogging.logger("orderly.bench")
            let server = PostgresConfiguration(
                conninfo: try database.resolve(logger: logger, fallback: .privateCluster).url
            )
            let scratch = "orderly_bench_\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
            // Blocks this otherwise idle command while the scratch database is built.
            let seeded = try BenchDatabase.create(server: server, name: scratch, skus: skus, logger: logger)
            defer {
                if keep {
                    print("kept database \(scratch)")
                } else {
                    try? BenchDatabase.drop(server: server, name: scratch, logger: logger)
                }
            }
            let configuration = server.with(database: scratch)
            let roundTrips = try await measureRoundTrips(configuration: configuration, seeded: seeded)
            print("round trips per placed order: \(roundTrips) (counted by the connection over 50 orders)")
            print("clients  client                orders/s     p50 µs     p99 µs   server CPU µs   client CPU µs")
            for count in try clientCounts {
                let ours = try await orderlyRun(configuration: configuration, seeded: seeded, clients: count)
                print(ours.row(clients: count, label: "orderly place"))
                do {
                    let reference = try pgbenchRun(configuration: configuration, seeded: seeded, clients: count)
                    print(reference.row(clients: count, label: "pgbench bare tx"))
                    print(
                        String(
                            format: "%7d  orderly/pgbench      %9.0f%%",
                            count,
                            100 * ours.sample.throughput / max(reference.sample.throughput, 1)
                        )
                    )
                } catch {
                    print("        pgbench failed: \(error)")
                }
            }
        }

        private func service(_ pool: PostgresPool) -> OrderService {
            OrderService(database: OrderlyDatabase(pool: pool), actor: "bench")
        }

        private func measureRoundTrips(
            configuration: PostgresConfiguration,
            seeded: BenchDatabase.Seeded
        ) async throws
            -> Double
        {
            let pool = PostgresPool(
                configuration: configuration,
                options: PostgresPoolOptions(maxConnections: 1),
                logger: CommandLogging.logger("orderly.bench")
            )
            defer { Task { await pool.close() } }
            let orders = service(pool)
            let before = try await pool.withConnection { $0.roundTrips }
            for index in 0..<50 { _ = try await orders.place(seeded.order(id: "rt-\(index)", sku: index)) }
            let after = try await pool.withConnection { $0.roundTrips }
            return Double(after - before) / 50
        }

        private func orderlyRun(
            configuration: PostgresConfiguration,
            seeded: BenchDatabase.Seeded,
            clients: Int
        )
            async throws -> CPUSample
        {
            let pool = PostgresPool(
                configuration: configuration,
                options: PostgresPoolOptions(maxConnections: clients),
                logger: CommandLogging.logger("orderly.bench")
            )
            defer { Task { await pool.close() } }
            let orders = service(pool)
            let run = UUID().uuidString.prefix(8)
            // Warm every connection.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask { _ = try await orders.place(seeded.order(id: "warm-\(run)-\(client)", sku: client)) }
                }
                try await group.waitForAll()
            }
            let duration = Duration.seconds(seconds)
            let cpu = CPUMeter()
            let started = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var generator = SystemRandomNumberGenerator()
                        var samples: [Double] = []
                        var index = 0
                        while ContinuousClock.now - started < duration {
                            let order = seeded.order(
                                id: "\(run)-\(client)-\(index)",
                                sku: Int.random(in: 0..<seeded.skuCount, using: &generator)
                            )
                            index += 1
                            let begin = ContinuousClock.now
                            let outcome = try await orders.place(order)
                            samples.append(Sample.microseconds(ContinuousClock.now - begin))
                            guard outcome.status == .reserved else {
                                throw BenchError("order \(outcome.orderID) ended \(outcome.status.rawValue)")
                            }
                        }
                        return samples
                    }
                }
                return try await group.reduce(into: [Double]()) { $0 += $1 }
            }
            let elapsed = ContinuousClock.now - started
            let sample = Sample(
                latencies: latencies,
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            )
            return cpu.finish(sample)
        }

        private func pgbenchRun(
            configuration: PostgresConfiguration,
            seeded: BenchDatabase.Seeded,
            clients: Int
        )
            throws -> CPUSample
        {
            let script = """
                \\set w random(\(seeded.warehouseIDs.lowerBound), \(seeded.warehouseIDs.upperBound))
                \\set sku random(\(seeded.skuIDs.lowerBound), \(seeded.skuIDs.upperBound))
                BEGIN;
                SELECT on_hand, reserved FROM inventory WHERE warehouse_id = :w AND sku_id = :sku FOR UPDATE;
                UPDATE inventory SET reserved = reserved + 1, updated_at = now() WHERE warehouse_id = :w AND sku_id = :sku;
                INSERT INTO inventory_ledger (warehouse_id, sku_id, reserved_delta, reason, actor) VALUES (:w, :sku, 1, 'reserve', 'pgbench');
                END;

                """
            let cpu = CPUMeter()
            let sample = try Pgbench.run(
                pgbench,
                script: script,
                clients: clients,
                seconds: seconds,
                configuration: configuration
            )
            // pgbench's own CPU is another process: only the server's is comparable here.
            var measured = cpu.finish(sample)
            measured.clientCPUMicroseconds = nil
            return measured
        }
    }
}

/// The scratch database `bench reserve` works in.
enum BenchDatabase {
    struct Seeded: Sendable {
        var warehouseIDs: ClosedRange<Int64>
        var skuIDs: ClosedRange<Int64>
        var skuCount: Int

        static let destinations = [
            GeoPoint(latitude: 52.52, longitude: 13.40), GeoPoint(latitude: 50.11, longitude: 8.68),
            GeoPoint(latitude: 48.78, longitude: 9.18), GeoPoint(latitude: 53.08, longitude: 8.80),
        ]

        /// A paid one-line web order for SKU number `sku` (0-based).
        func order(id: String, sku: Int) -> NewOrder {
            NewOrder(
                channel: .web,
                externalID: "bench-\(id)",
                currency: "EUR",
                lines: [NewOrderLine(skuCode: "BENCH-\(sku % skuCount + 1)", quantity: 1, unitPriceMinor: 1_999)],
                shipTo: PostalAddress(
                    name: "Bench Customer",
                    line1: "Teststr. 1",
                    city: "Berlin",
                    postalCode: "10115",
                    country: "DE",
                    location: Self.destinations[sku % Self.destinations.count]
                ),
                email: "bench@example.com",
                shippingMinor: 490,
                payment: PaymentDetails(method: "card", token: "tok_authorized")
            )
        }
    }

    static func create(server: PostgresConfiguration, name: String, skus: Int, logger: Logger) throws -> Seeded {
        let admin = try PostgresConnection(configuration: server, logger: logger)
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(identifier: name)")
        let connection = try PostgresConnection(configuration: server.with(database: name), logger: logger)
        defer { connection.close() }
        try Migrator(logger: logger).migrate(on: connection)
        try connection.transaction { tx in
            try tx.execute(
                """
                INSERT INTO warehouses (code, name, latitude, longitude, address_line1, city, country)
                VALUES ('BENCH-N', 'Bench North', 53.55, 10.0, 'Dock 1', 'Hamburg', 'DE'),
                       ('BENCH-C', 'Bench Centre', 50.94, 6.96, 'Dock 1', 'Köln', 'DE'),
                       ('BENCH-S', 'Bench South', 48.14, 11.58, 'Dock 1', 'München', 'DE')
                """
            )
            try tx.execute(
                """
                INSERT INTO skus (code, name, weight_grams, length_mm, width_mm, height_mm)
                SELECT 'BENCH-' || g, 'Bench item ' || g, 250, 100, 50, 20 FROM generate_series(1, $1::int) g
                """,
                [skus]
            )
            try tx.execute(
                "INSERT INTO inventory (warehouse_id, sku_id, on_hand) SELECT w.id, s.id, 1000000000 FROM warehouses w, skus s"
            )
            try tx.execute(
                """
                INSERT INTO inventory_ledger (warehouse_id, sku_id, on_hand_delta, reason, actor)
                SELECT warehouse_id, sku_id, on_hand, 'receive', 'bench' FROM inventory
                """
            )
        }
        try connection.execute("ANALYZE")
        let w = try connection.query("SELECT min(id), max(id) FROM warehouses")
        let s = try connection.query("SELECT min(id), max(id) FROM skus")
        return Seeded(
            warehouseIDs: try w[0].decode(Int64.self, at: 0)...w[0].decode(Int64.self, at: 1),
            skuIDs: try s[0].decode(Int64.self, at: 0)...s[0].decode(Int64.self, at: 1),
            skuCount: skus
        )
    }

    static func drop(server: PostgresConfiguration, name: String, logger: Logger) throws {
        let admin = try PostgresConnection(configuration: server, logger: logger)
        defer { admin.close() }
        try admin.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
    }
}

/// A run's sample plus CPU per transaction: PostgreSQL's (all its processes) and this process's.
struct CPUSample {
    var sample: Sample
    var serverCPUMicroseconds: Double?
    var clientCPUMicroseconds: Double?

    func row(clients: Int, label: String) -> String {
        func cell(_ value: Double?) -> String {
            value.map { String(format: "%15.0f", $0) } ?? String(repeating: " ", count: 14) + "-"
        }
        return sample.row(clients: clients, label: label) + cell(serverCPUMicroseconds) + cell(clientCPUMicroseconds)
    }
}

/// CPU time used between its creation and `finish`: by every `postgres` process (Linux /proc) and by
/// this process (getrusage). Backends come and go during a run (pgbench opens its own), so a thread
/// samples /proc every 20 ms and keeps each process's last figure: a backend that exits between two
/// samples loses at most its last 20 ms.
final class CPUMeter: @unchecked Sendable {
    private let client: Double
    private let lock = NSLock()
    private var baseline: [Int32: Double] = [:]
    private var latest: [Int32: Double] = [:]
    private var running = true
    private var thread: Thread?
    private let available: Bool

    init() {
        client = Self.selfCPUSeconds()
        let first = Self.postgresCPU()
        available = first != nil
        baseline = first ?? [:]
        latest = baseline
        guard available else { return }
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                if let now = Self.postgresCPU() {
                    lock.withLock { latest.merge(now) { _, new in new } }
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        self.thread = thread
        thread.start()
    }

    func finish(_ sample: Sample) -> CPUSample {
        let (server, client) = finish(operations: sample.latencies.count)
        return CPUSample(sample: sample, serverCPUMicroseconds: server, clientCPUMicroseconds: client)
    }

    /// CPU microseconds per operation: PostgreSQL's (nil without /proc), and this process's plus its
    /// waited-for children's (a reference tool run as a child process).
    func finish(operations: Int) -> (server: Double?, client: Double) {
        let now = Self.postgresCPU()
        let server: Double? = lock.withLock {
            running = false
            guard available else { return nil }
            if let now { latest.merge(now) { _, new in new } }
            return latest.reduce(0.0) { total, entry in total + max(0, entry.value - (baseline[entry.key] ?? 0)) }
        }
        let count = max(Double(operations), 1)
        return (server.map { $0 * 1e6 / count }, (Self.selfCPUSeconds() - client) * 1e6 / count)
    }

    /// This process's CPU seconds, and its waited-for children's.
    static func selfCPUSeconds() -> Double {
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        var children = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &children)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime) + seconds(children.ru_utime)
            + seconds(children.ru_stime)
    }

    /// pid → utime + stime (seconds) of every process named `postgres`, or nil without /proc.
    static func postgresCPU() -> [Int32: Double]? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var cpu: [Int32: Double] = [:]
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                stat[stat.index(after: open)..<close] == "postgres"
            else { continue }
            // After the command come state (field 3) ... utime and stime (fields 14 and 15).
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            cpu[pid] = (user + system) / ticks
        }
        return cpu
    }
}

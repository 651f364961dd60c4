import ArgumentParser
import Foundation
import LibPQ
import Logging
import NIOPosix
import Orderly
import OrderlyAdminServer
import OrderlyCommands
import OrderlyCore
import OrderlyDevCluster

extension BenchCommand {
    struct Admin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "admin",
            abstract: "The admin server: PING (pipelined) and ORDER SHOW vs pgbench -S; RSS with idle connections.",
            discussion: """
                Creates a scratch database (dropped afterwards), seeds it and places --orders orders, starts \
                an admin server in this process on a free loopback port, then for each client count runs \
                PING in batches of --pipeline requests per write, and ORDER SHOW one request at a time, \
                next to pgbench -S (select-only, scale 1, its own tables in the same scratch database). \
                Last it opens --idle connections and prints this process's RSS before and after (server and \
                client share the process, so the figure is an upper bound for the server).

                Example:
                  orderly bench admin --clients 1,16,64 --seconds 5
                """
        )

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Comma-separated client counts.")
        var clients: String = "1,16,64"

        @Option(help: "Seconds per run.")
        var seconds: Int = 5

        @Option(help: "PING requests per write.")
        var pipeline: Int = 100

        @Option(help: "Orders to seed for ORDER SHOW.")
        var orders: Int = 2000

        @Option(help: "Idle connections for the RSS figure.")
        var idle: Int = 1000

        @Option(help: "Path to pgbench (default: on PATH).")
        var pgbench: String = "pgbench"

        var clientCounts: [Int] {
            get throws { try BenchCommand.counts(clients, in: 1...512, option: "--clients") }
        }

        func validate() throws {
            guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be 1...3600") }
            guard (1...10_000).contains(pipeline) else { throw ValidationError("--pipeline must be 1...10000") }
            guard (1...1_000_000).contains(orders) else { throw ValidationError("--orders must be 1...1000000") }
            guard (0...10_000).contains(idle) else { throw ValidationError("--idle must be 0...10000") }
            _ = try clientCounts
        }

        func run() async throws {
            let logger = CommandLogging.logger("orderly.bench")
            let server = PostgresConfiguration(
                conninfo: try database.resolve(logger: logger, fallback: .privateCluster).url
            )
            let scratch = "orderly_bench_admin_\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
            let seeded = try BenchDatabase.create(server: server, name: scratch, skus: 100, logger: logger)
            defer { try? BenchDatabase.drop(server: server, name: scratch, logger: logger) }
            let configuration = server.with(database: scratch)
            let pool = PostgresPool(
                configuration: configuration,
                options: PostgresPoolOptions(maxConnections: 8),
                logger: logger
            )
            let orderly = OrderlyDatabase(pool: pool)
            let service = OrderService(database: orderly, actor: "bench")
            var orderIDs: [Int64] = []
            for index in 0..<orders {
                orderIDs.append(try await service.place(seeded.order(id: "admin-\(index)", sku: index)).orderID)
            }
            let pgbenchInit = try ChildProcess.run([
                pgbench, "-i", "-q", "-s", "1", try configuration.keywordConninfo(),
            ])
            guard pgbenchInit.status == 0 else { throw BenchError("pgbench -i failed: \(pgbenchInit.output)") }

            var settings = AdminServerConfiguration(host: "127.0.0.1", port: 0)
            settings.maximumClients = max(idle + 100, 1024)
            var quiet = logger
            quiet.logLevel = .warning
            let admin = AdminServer(configuration: settings, database: orderly, logger: quiet)
            let running = Task { try await admin.run() }
            let port = try await admin.localAddress().port ?? 0
            print("clients  client                requests/s     p50 µs     p99 µs")
            for count in try clientCounts {
                let ping = try await adminRun(port: port, clients: count, batch: pipeline) { _ in "PING" }
                print(ping.row(clients: count, label: "PING x\(pipeline) pipelined"))
                let ids = orderIDs
                let show = try await adminRun(port: port, clients: count, batch: 1) { index in
                    "ORDER SHOW \(ids[index % ids.count])"
                }
                print(show.row(clients: count, label: "ORDER SHOW"))
                do {
                    let reference = try pgbenchSelect(configuration: configuration, clients: count)
                    print(reference.row(clients: count, label: "pgbench -S"))
                    print(
                        String(
                            format: "%7d  ORDER SHOW/pgbench    %8.0f%%",
                            count,
                            100 * show.throughput / max(reference.throughput, 1)
                        )
                    )
                } catch {
                    print("        pgbench failed: \(error)")
                }
            }
            if idle > 0 {
                let before = Self.residentMiB()
                let idle = self.idle
                // Opened, measured and closed on one thread: blocking sockets stay off the cooperative pool.
                let (held, after) = try await Self.onThread { () throws -> (Int, Double) in
                    let clients = try (0..<idle).map { _ in try AdminClient(host: "127.0.0.1", port: port) }
                    usleep(500_000)
                    return (clients.count, Self.residentMiB())
                }
                print(
                    String(
                        format:
                            "RSS of this process (server + clients): %.1f MiB before, %.1f MiB with %d idle connections",
                        before,
                        after,
                        held
                    )
                )
            }
            admin.shutdown()
            _ = try? await running.value
            await pool.close()
        }

        /// `clients` connections, each on a thread of its own, sending `batch` requests per write and
        /// reading as many replies, for `seconds`. Latency is per batch.
        private func adminRun(
            port: Int,
            clients: Int,
            batch: Int,
            request: @escaping @Sendable (Int) -> String
        )
            async throws -> Sample
        {
            let duration = Double(seconds)
            let started = Date()
            let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
                for client in 0..<clients {
                    group.addTask {
                        // A thread per client: blocking reads inside tasks would take the cooperative
                        // pool's few threads, which the server's commands need to answer them.
                        try await Self.onThread {
                            let connection = try AdminClient(host: "127.0.0.1", port: port)
                            var latencies: [Double] = []
                            var done = 0
                            var index = client * 7919
                            while Date().timeIntervalSince(started) < duration {
                                var lines = ""
                                for _ in 0..<batch {
                                    lines += request(index) + "\n"
                                    index += 1
                                }
                                let begin = ContinuousClock.now
                                try connection.send(lines)
                                for _ in 0..<batch {
                                    guard let reply = try connection.readReply(), reply.first?.hasPrefix("OK") == true
                                    else {
                                        throw BenchError("unexpected reply")
                                    }
                                }
                                latencies.append(Sample.microseconds(ContinuousClock.now - begin))
                                done += batch
                            }
                            return (latencies, done)
                        }
                    }
                }
                return try await group.reduce(into: ([Double](), 0)) {
                    $0.0 += $1.0
                    $0.1 += $1.1
                }
            }
            let elapsed = Date().timeIntervalSince(started)
            return Sample(latencies: results.0, seconds: elapsed, count: results.1)
        }

        private func pgbenchSelect(configuration: PostgresConfiguration, clients: Int) throws -> Sample {
            try Pgbench.run(pgbench, builtin: ["-S"], clients: clients, seconds: seconds, configuration: configuration)
        }

        static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
            try await withCheckedThrowingContinuation { continuation in
                Thread { continuation.resume(with: Result { try body() }) }.start()
            }
        }

        static func residentMiB() -> Double {
            guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
            else { return .nan }
            return kilobytes / 1024
        }
    }
}

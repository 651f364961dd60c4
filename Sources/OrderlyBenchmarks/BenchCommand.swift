import ArgumentParser
import Foundation
import LibPQ
import OrderlyCommands
import OrderlyDevCluster

/// `orderly bench`: load generators that print figures next to a reference tool run on the same cluster.
public struct BenchCommand: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures next to pgbench on the same cluster.",
        subcommands: [RoundTrip.self, Reserve.self, Admin.self, Jobs.self]
    )

    struct RoundTrip: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "roundtrip",
            abstract: "SELECT 1 through Orderly's pool vs pgbench (extended protocol) at each client count.",
            discussion: """
                Both sides send the same statement over libpq's extended protocol, one at a time per \
                client, for the same duration. Latencies are per statement; p50/p99 come from every \
                sample (pgbench's per-transaction log).

                Example:
                  orderly bench roundtrip --clients 1,16 --seconds 5
                """
        )

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Comma-separated client counts.")
        var clients: String = "1,16"

        @Option(help: "Seconds per run.")
        var seconds: Int = 5

        @Option(help: "Path to pgbench (default: on PATH).")
        var pgbench: String = "pgbench"

        func validate() throws {
            guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be 1...3600") }
            _ = try clientCounts
        }

        var clientCounts: [Int] {
            get throws { try BenchCommand.counts(clients, in: 1...512, option: "--clients") }
        }

        func run() async throws {
            let logger = CommandLogging.logger("orderly.bench")
            let configuration = PostgresConfiguration(
                conninfo: try database.resolve(logger: logger, fallback: .privateCluster).url
            )
            print("clients  client             statements/s     p50 µs     p99 µs")
            for count in try clientCounts {
                let ours = try await orderlyRun(configuration: configuration, clients: count, hopPerStatement: true)
                print(ours.row(clients: count, label: "orderly pool"))
                let onThread = try await orderlyRun(
                    configuration: configuration,
                    clients: count,
                    hopPerStatement: false
                )
                print(onThread.row(clients: count, label: "orderly in-thread"))
                do {
                    let reference = try pgbenchRun(configuration: configuration, clients: count)
                    print(reference.row(clients: count, label: "pgbench -M extended"))
                    print(
                        String(
                            format: "%7d  orderly/pgbench    %11.0f%%",
                            count,
                            100 * ours.throughput / max(reference.throughput, 1)
                        )
                    )
                } catch {
                    print("        pgbench failed: \(error)")
                }
            }
        }

        /// With `hopPerStatement`, every statement is its own `pool.query` (an async hop to the connection's
        /// thread and back); without, each client runs its whole loop inside one `withConnection`, which is
        /// how a multi-statement transaction pays: one hop for all of its statements.
        private func orderlyRun(
            configuration: PostgresConfiguration,
            clients: Int,
            hopPerStatement: Bool
        ) async throws -> Sample {
            let pool = PostgresPool(
                configuration: configuration,
                options: PostgresPoolOptions(maxConnections: clients),
                logger: CommandLogging.logger("orderly.bench")
            )
            defer { Task { await pool.close() } }
            // Warm the pool so connection set-up is not measured.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<clients { group.addTask { try await pool.query("SELECT pg_sleep(0.05)") } }
                try await group.waitForAll()
            }
            let duration = Duration.seconds(seconds)
            let started = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        guard hopPerStatement else {
                            return try await pool.withConnection { connection in
                                var samples: [Double] = []
                                while ContinuousClock.now - started < duration {
                                    let begin = ContinuousClock.now
                                    _ = try connection.query("SELECT 1")
                                    samples.append(Sample.microseconds(ContinuousClock.now - begin))
                                }
                                return samples
                            }
                        }
                        var samples: [Double] = []
                        samples.reserveCapacity(100_000)
                        while ContinuousClock.now - started < duration {
                            let begin = ContinuousClock.now
                            _ = try await pool.query("SELECT 1")
                            samples.append(Sample.microseconds(ContinuousClock.now - begin))
                        }
                        return samples
                    }
                }
                return try await group.reduce(into: [Double]()) { $0 += $1 }
            }
            let elapsed = ContinuousClock.now - started
            return Sample(
                latencies: latencies,
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            )
        }

        private func pgbenchRun(configuration: PostgresConfiguration, clients: Int) throws -> Sample {
            try Pgbench.run(
                pgbench,
                script: "SELECT 1;\n",
                clients: clients,
                seconds: seconds,
                configuration: configuration
            )
        }
    }
}

extension BenchCommand {
    /// Comma-separated counts such as `1,16,64`, each in `range`; an empty list, a word or a number out
    /// of range is an error naming the option.
    static func counts(_ text: String, in range: ClosedRange<Int>, option: String) throws -> [Int] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let counts = items.compactMap { Int($0) }.filter { range.contains($0) }
        guard !items.isEmpty, counts.count == items.count else {
            throw ValidationError(
                "\(option) must be comma-separated numbers in \(range.lowerBound)...\(range.upperBound), not '\(text)'"
            )
        }
        return counts
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Latencies in microseconds over a run of known length.
struct Sample {
    /// Sorted once, for the percentiles.
    let latencies: [Double]
    let seconds: Double
    /// Operations done: one per latency unless each latency covers several (a pipelined batch).
    let count: Int

    init(latencies: [Double], seconds: Double, count: Int? = nil) {
        self.latencies = latencies.sorted()
        self.seconds = seconds
        self.count = count ?? latencies.count
    }

    var throughput: Double { Double(count) / seconds }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        return latencies[min(latencies.count - 1, Int(Double(latencies.count - 1) * p))]
    }

    func row(clients: Int, label: String) -> String {
        let padded = label.padding(toLength: 19, withPad: " ", startingAt: 0)
        return String(
            format: "%7d  %@ %12.0f %10.0f %10.0f",
            clients,
            padded,
            throughput,
            percentile(0.5),
            percentile(0.99)
        )
    }

    static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }
}

/// Runs pgbench for the benchmarks: `script` (a custom script's text) or `builtin` options (such as
/// `-S`), `clients` clients for `seconds`, extended protocol, with a per-transaction log whose
/// latencies become the sample. `cpu`, if given, is finished when pgbench has exited.
enum Pgbench {
    static func run(
        _ pgbench: String,
        script: String? = nil,
        builtin: [String] = [],
        clients: Int,
        seconds: Int,
        configuration: PostgresConfiguration
    ) throws -> Sample {
        let directory = FileManager.default.temporaryDirectory.appending(path: "orderly-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var arguments = [pgbench, "-n", "-M", "extended"] + builtin
        if let script {
            let file = directory.appending(path: "script.sql")
            try Data(script.utf8).write(to: file)
            arguments += ["-f", file.path]
        }
        let threads = min(clients, ProcessInfo.processInfo.activeProcessorCount)
        arguments += [
            "-c", String(clients), "-j", String(threads), "-T", String(seconds), "-l", "--log-prefix",
            directory.appending(path: "log").path,
        ]
        let conninfo = try configuration.keywordConninfo()
        if !conninfo.isEmpty { arguments.append(conninfo) }
        // Blocks this (otherwise idle) command until pgbench is done.
        let result = try ChildProcess.run(arguments, workingDirectory: directory.path)
        guard result.status == 0 else { throw BenchError("pgbench exited \(result.status): \(result.output)") }
        // Log lines: client_id transaction_no latency_us script_no epoch epoch_us
        var latencies: [Double] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasPrefix("log") {
            let log = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
            for line in log.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count >= 3, let latency = Double(fields[2]) { latencies.append(latency) }
            }
        }
        return Sample(latencies: latencies, seconds: Double(seconds))
    }
}

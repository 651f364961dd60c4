import ArgumentParser
import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyCommands
import OrderlyCore
import OrderlyDevCluster
import OrderlyStore
import OrderlyWorker
import Synchronization

extension BenchCommand {
    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jobs",
            abstract: "Job queue: enqueue (one by one, bulk) and drain no-op jobs vs pgqueuer on the same cluster.",
            discussion: """
                Creates scratch databases on the configured cluster (dropped afterwards) and measures, for \
                Orderly: --single jobs enqueued one statement and commit each; --jobs enqueued in one bulk \
                statement; then, per worker count, --jobs no-op jobs drained by that many workers each \
                running --batch-size jobs at once (each job's completion commits with its effects, one \
                transaction per job).

                With --pgqueuer DIR (made by Benchmarks/pgqueuer/setup.sh: pgqueuer 1.6.0's source \
                distribution and a venv), the same figures for pgqueuer: its bulk enqueue timed through \
                its Queries.enqueue, and its drain through its own tools/benchmark.py (-s drain, --dequeue \
                = workers, --dequeue-batch-size = batch size).

                Example:
                  Benchmarks/pgqueuer/setup.sh .orderly/pgqueuer
                  orderly bench jobs --workers 1,4 --jobs 20000 --pgqueuer .orderly/pgqueuer
                """
        )

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Comma-separated worker counts for the drain.")
        var workers: String = "1,4"

        @Option(help: "Jobs per bulk enqueue and per drain.")
        var jobs: Int = 20_000

        @Option(help: "Jobs enqueued one by one.")
        var single: Int = 5_000

        @Option(help: "Jobs each worker runs at once (pgqueuer: --dequeue-batch-size).")
        var batchSize: Int = 10

        @Option(help: "pgqueuer's directory from Benchmarks/pgqueuer/setup.sh (omit to measure Orderly alone).")
        var pgqueuer: String?

        func validate() throws {
            guard (100...1_000_000).contains(jobs) else { throw ValidationError("--jobs must be 100...1000000") }
            guard (1...1_000_000).contains(single) else { throw ValidationError("--single must be 1...1000000") }
            guard (1...1000).contains(batchSize) else { throw ValidationError("--batch-size must be 1...1000") }
            _ = try workerCounts
            if let pgqueuer {
                for file in ["venv/bin/python", "tools/benchmark.py"]
                where !FileManager.default.fileExists(atPath: pgqueuer + "/" + file) {
                    throw ValidationError(
                        "--pgqueuer: \(pgqueuer)/\(file) is missing (run Benchmarks/pgqueuer/setup.sh)"
                    )
                }
            }
        }

        var workerCounts: [Int] {
            get throws { try BenchCommand.counts(workers, in: 1...64, option: "--workers") }
        }

        func run() async throws {
            var logger = CommandLogging.logger("orderly.bench")
            let server = PostgresConfiguration(
                conninfo: try database.resolve(logger: logger, fallback: .privateCluster).url
            )
            logger.logLevel = .warning
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let ours = "orderly_bench_jobs_\(suffix)"
            let theirs = "pgqueuer_bench_\(suffix)"
            let admin = try PostgresConnection(configuration: server, logger: logger)
            defer {
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(identifier: ours) WITH (FORCE)")
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(identifier: theirs) WITH (FORCE)")
                admin.close()
            }
            try admin.execute("CREATE DATABASE \(identifier: ours)")
            let configuration = server.with(database: ours)
            let connection = try PostgresConnection(configuration: configuration, logger: logger)
            defer { connection.close() }
            try Migrator(logger: logger).migrate(on: connection)

            var reference: Reference?
            if let pgqueuer {
                try admin.execute("CREATE DATABASE \(identifier: theirs)")
                reference = try Reference(directory: pgqueuer, server: server.with(database: theirs))
                try reference?.install()
            }

            print(
                "what                                orderly jobs/s   pgqueuer jobs/s   orderly/pgqueuer   CPU µs/job: postgres, client (orderly | pgqueuer)"
            )
            let single = try enqueueOneByOne(connection)
            let theirSingle = try reference?.enqueue(jobs: self.single, batch: 1)
            print(Self.row("enqueue one by one", single, theirSingle))
            let bulk = try enqueueBulk(connection)
            let theirBulk = try reference?.enqueue(jobs: jobs, batch: jobs)
            print(Self.row("enqueue bulk (\(jobs) in one)", bulk, theirBulk))
            try connection.execute("TRUNCATE jobs")
            for count in try workerCounts {
                var theirs: (rate: Double, cpu: (server: Double?, client: Double))?
                if let reference {
                    let meter = CPUMeter()
                    let rate = try reference.drain(jobs: jobs, workers: count, batch: batchSize)
                    theirs = (rate, meter.finish(operations: jobs))
                }
                // In flight per worker: the batch size (strict), and twice it: pgqueuer's benchmark sets
                // no cap on a worker's running jobs, and a cap it accepts must be >= 2 x the batch size.
                for inFlight in [batchSize, 2 * batchSize] {
                    let drained = try await drain(
                        configuration: configuration,
                        connection: connection,
                        workers: count,
                        inFlight: inFlight
                    )
                    print(
                        Self.row("drain, \(count) x batch \(batchSize), <=\(inFlight) run", drained.rate, theirs?.rate)
                            + "   " + Self.cpu(drained.cpu) + " | " + (theirs.map { Self.cpu($0.cpu) } ?? "-")
                    )
                }
            }
            if reference != nil {
                print(
                    "(pgqueuer: batch size \(batchSize), no cap on running jobs; its CPU includes enqueueing the jobs "
                        + "and start-up, Orderly's does not.)"
                )
            }
        }

        static func cpu(_ cpu: (server: Double?, client: Double)) -> String {
            (cpu.server.map { String(format: "%.0f", $0) } ?? "-") + String(format: ", %.0f", cpu.client)
        }

        static func row(_ label: String, _ ours: Double, _ theirs: Double?) -> String {
            let padded = label.padding(toLength: 36, withPad: " ", startingAt: 0)
            guard let theirs else { return String(format: "%@ %14.0f   %15@", padded, ours, "-") }
            return String(format: "%@ %14.0f   %15.0f   %15.2fx", padded, ours, theirs, ours / max(theirs, 1))
        }

        func enqueueOneByOne(_ connection: PostgresConnection) throws -> Double {
            let started = ContinuousClock.now
            for _ in 0..<single {
                _ = try JobQueue.enqueue(connection, OrderlyCore.Jobs.Noop.self, .init())
            }
            let rate = Double(single) / (ContinuousClock.now - started).seconds
            try connection.execute("TRUNCATE jobs")
            return rate
        }

        func enqueueBulk(_ connection: PostgresConnection) throws -> Double {
            let batch = (0..<jobs).map { _ in NewJob(OrderlyCore.Jobs.Noop.self, .init()) }
            let started = ContinuousClock.now
            let inserted = try JobQueue.enqueue(connection, batch)
            let rate = Double(inserted) / (ContinuousClock.now - started).seconds
            try connection.execute("TRUNCATE jobs")
            return rate
        }

        /// Enqueues --jobs (not timed), then times `workers` workers draining them, each running at most
        /// `inFlight` jobs, `batchSize` per transaction.
        func drain(
            configuration: PostgresConfiguration,
            connection: PostgresConnection,
            workers count: Int,
            inFlight: Int
        ) async throws
            -> (rate: Double, cpu: (server: Double?, client: Double))
        {
            _ = try JobQueue.enqueue(connection, (0..<jobs).map { _ in NewJob(OrderlyCore.Jobs.Noop.self, .init()) })
            try connection.execute("VACUUM ANALYZE jobs")
            var logger = Logger(label: "orderly.bench.worker")
            logger.logLevel = .error
            let done = Counter()
            let total = jobs
            let pools = (0..<count).map { _ in
                PostgresPool(
                    configuration: configuration,
                    options: PostgresPoolOptions(maxConnections: inFlight / batchSize + 3),
                    logger: logger
                )
            }
            let runners = pools.enumerated().map { index, pool in
                var settings = WorkerConfiguration(
                    id: "bench-\(index)",
                    queues: ["bench"],
                    concurrency: inFlight,
                    leaseSeconds: 60,
                    pollInterval: .milliseconds(20)
                )
                settings.batchSize = batchSize
                return Worker(
                    database: OrderlyDatabase(pool: pool),
                    listens: false,
                    handlers: [TransactionalJob(OrderlyCore.Jobs.Noop.self, batchable: true) { _, _, _ in done.add() }],
                    configuration: settings,
                    logger: logger
                )
            }
            let meter = CPUMeter()
            let started = ContinuousClock.now
            let tasks = runners.map { runner in Task { try await runner.run() } }
            while done.value < total { try await Task.sleep(for: .milliseconds(5)) }
            runners.forEach { $0.shutdown() }
            for task in tasks { try await task.value }
            let elapsed = (ContinuousClock.now - started).seconds
            let cpu = meter.finish(operations: total)
            for pool in pools { await pool.close() }
            let completed = try connection.query(
                "SELECT count(*) FROM jobs WHERE queue = 'bench' AND state = 'completed'"
            ).scalar(Int64.self)
            guard completed == Int64(total) else {
                throw BenchError("drain: \(completed) of \(total) jobs completed")
            }
            try connection.execute("TRUNCATE jobs")
            return (Double(total) / elapsed, cpu)
        }
    }
}

/// Counts handler runs across the drain's workers.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// pgqueuer 1.6.0, driven through its own code: `pgq install`, its Queries.enqueue, tools/benchmark.py.
struct Reference {
    let directory: String
    let environment: [String: String]

    init(directory: String, server: PostgresConfiguration) throws {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        var environment = ProcessInfo.processInfo.environment
        // asyncpg reads libpq's variables; the keyword conninfo carries host, port, user, password, dbname.
        let keys = [
            "host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE",
        ]
        for pair in try server.keywordConninfo().split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let name = keys[String(parts[0])] else { continue }
            environment[name] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        self.environment = environment
    }

    var python: String { directory + "/venv/bin/python" }

    func run(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run([python] + arguments, environment: environment, workingDirectory: directory)
        guard result.status == 0 else {
            throw BenchError("pgqueuer: \(arguments.prefix(2)) exited \(result.status): \(result.output.suffix(2000))")
        }
        return result.output
    }

    func install() throws { _ = try run(["-m", "pgqueuer", "install"]) }

    /// Jobs/s of pgqueuer's Queries.enqueue, `batch` jobs per call.
    func enqueue(jobs: Int, batch: Int) throws -> Double {
        let script = """
            import asyncio, time, asyncpg
            from pgqueuer.db import AsyncpgDriver
            from pgqueuer.queries import Queries
            async def main():
                q = Queries(AsyncpgDriver(await asyncpg.connect()))
                await q.clear_queue()
                jobs, batch = \(jobs), \(batch)
                start = time.perf_counter()
                for _ in range(jobs // batch):
                    await q.enqueue(["fetch"] * batch, [None] * batch, [0] * batch)
                print(jobs / (time.perf_counter() - start))
                await q.clear_queue()
            asyncio.run(main())
            """
        let output = try run(["-c", script])
        guard let rate = output.split(separator: "\n").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) })
        else { throw BenchError("pgqueuer enqueue printed no rate: \(output.suffix(500))") }
        return rate
    }

    /// The Rate row of `tools/benchmark.py -s drain`.
    func drain(jobs: Int, workers: Int, batch: Int) throws -> Double {
        let output = try run([
            "tools/benchmark.py", "-s", "drain", "--jobs", String(jobs), "--dequeue", String(workers),
            "--dequeue-batch-size", String(batch),
        ])
        for line in output.split(separator: "\n") where line.contains("Rate") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if let rate = cells.compactMap(Double.init).first { return rate }
        }
        throw BenchError("pgqueuer's benchmark printed no rate: \(output.suffix(500))")
    }
}

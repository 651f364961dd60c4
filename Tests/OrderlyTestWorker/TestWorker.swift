import Foundation
import LibPQ
import Orderly
import OrderlyCommands
import OrderlyCore
import OrderlyWorker

/// `orderly worker` with test hooks, for the worker process tests: the `probe` job kind and pauses
/// inside jobs' transactions. Takes `orderly worker`'s options; the hooks come from the environment:
///
/// - ORDERLY_WORKER_PROBE=1: a `probe` job inserts (job id, attempt, worker) into `worker_probe`, which
///   the test creates, in the job's transaction, so a test can count each job's effects across
///   processes. With args {"fail": true} it fails after writing, so its write must roll back.
/// - ORDERLY_WORKER_PAUSE=kind:ms[,kind:ms]: a job of that kind sleeps inside its transaction after
///   its effects, before its completion (fault injection for crash tests).
@main
struct TestWorker {
    static func main() async {
        do {
            let command = try WorkerCommand.parse(Array(CommandLine.arguments.dropFirst()))
            let environment = ProcessInfo.processInfo.environment
            let hooks = WorkerCommand.TestHooks(
                handlers: environment["ORDERLY_WORKER_PROBE"] == "1" ? [probe] : [],
                pauses: try pauses(environment["ORDERLY_WORKER_PAUSE"] ?? "")
            )
            try await command.run(hooks: hooks)
        } catch {
            WorkerCommand.exit(withError: error)
        }
    }

    enum Probe: JobKind {
        struct Arguments: Codable, Hashable {
            var fail: Bool?
        }
        static let name = "probe"
        static let queue = "probe"
    }

    static let probe = TransactionalJob(Probe.self, batchable: true) { args, job, tx in
        // Test support may write SQL on the job's transaction (`package` access); Sources may not.
        let worker = ProcessInfo.processInfo.processIdentifier.description
        try tx.connection.run(
            .command(
                "INSERT INTO worker_probe (job_id, attempt, worker) VALUES (\(job.id), \(Int64(job.attempt)), \(worker))"
            )
        )
        if args.fail == true { throw WorkerError("probe asked to fail") }
    }

    static func pauses(_ text: String) throws -> [String: Duration] {
        var result: [String: Duration] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let ms = Int(parts[1]), (0...600_000).contains(ms) else {
                throw WorkerError("ORDERLY_WORKER_PAUSE must be kind:milliseconds[,kind:milliseconds]")
            }
            result[String(parts[0])] = .milliseconds(ms)
        }
        return result
    }
}

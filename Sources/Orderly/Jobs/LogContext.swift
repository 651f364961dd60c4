public import Logging

/// What a log line is about, carried by the task that logs it: the worker sets `job` around each job
/// it runs (a batch: its ids, comma-separated), so every line logged while it runs names the job.
/// Loggers made with `metadataProvider` add it as a field. Work the pool runs on its own threads (the
/// bodies of transactions) does not see it: a line logged there names its job itself.
public enum LogContext {
    @TaskLocal public static var job: String?

    public static let metadataProvider = Logger.MetadataProvider {
        guard let job else { return [:] }
        return ["job": .string(job)]
    }
}

public import Logging

/// What a log line is about, carried by the task that logs it: the worker sets `job` around each job
/// it runs (a batch: its ids, comma-separated), the admin server `request` around each command it
/// runs as a task (`<connection>.<n>`), so every line logged meanwhile names them. Loggers made with
/// `metadataProvider` add them as fields. Work the pool runs on its own threads (the bodies of
/// transactions, the admin server's one-statement reads) sees them too: `OrderlyDatabase` hands the
/// pool `carrier`, which binds the borrower's values again on the connection's thread.
public enum LogContext {
    @TaskLocal public static var job: String?
    @TaskLocal public static var request: String?

    /// Captures the values where a connection is borrowed; runs the connection thread's work with them.
    public static let carrier: @Sendable () -> @Sendable (() -> Void) -> Void = {
        let job = LogContext.job
        let request = LogContext.request
        return { work in
            LogContext.$job.withValue(job) { LogContext.$request.withValue(request) { work() } }
        }
    }

    public static let metadataProvider = Logger.MetadataProvider {
        var metadata: Logger.Metadata = [:]
        if let job { metadata["job"] = .string(job) }
        if let request { metadata["request"] = .string(request) }
        return metadata
    }
}

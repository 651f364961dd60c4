/// One queue's depth as a monitor reads it (`/metrics`): jobs due and waiting, waiting for a later
/// time, held by a worker, discarded (kept for their retention), and how long the oldest due one
/// has waited.
public struct QueueGauge: Sendable, Hashable {
    public var queue: String
    public var due: Int64
    public var scheduled: Int64
    public var running: Int64
    public var discarded: Int64
    /// Seconds since the oldest due job's `run_at`; zero when none is due.
    public var oldestDueAgeSeconds: Double

    public init(
        queue: String,
        due: Int64,
        scheduled: Int64,
        running: Int64,
        discarded: Int64,
        oldestDueAgeSeconds: Double
    ) {
        self.queue = queue
        self.due = due
        self.scheduled = scheduled
        self.running = running
        self.discarded = discarded
        self.oldestDueAgeSeconds = oldestDueAgeSeconds
    }
}

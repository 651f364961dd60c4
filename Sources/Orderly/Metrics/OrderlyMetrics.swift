public import CoreMetrics
import Synchronization

/// What the services count and time, through swift-metrics: whichever backend the process chose
/// (`orderly serve` and `orderly worker` scrape theirs as Prometheus text at `/metrics`), or nothing
/// when none was chosen. The names and labels are docs/operations.md's "Metrics".
///
/// A label whose values come from the database or a client (a channel's name, a job's kind, a
/// command) is capped at `OrderlyMetrics.labelLimit` distinct values; later ones count as `other`, so
/// no input can grow the exposition without bound.
public struct OrderlyMetrics: Sendable {
    public let factory: any MetricsFactory
    private let labels: LabelCap

    /// Metrics through `factory` (default: the process's `MetricsSystem`, a no-op until bootstrapped).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        self.labels = LabelCap()
    }

    /// Distinct values kept per label before the rest count as `other`.
    public static let labelLimit = 200

    /// Bucket upper bounds of the reservation and pool-wait histograms.
    public static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5),
    ]

    // MARK: Orders

    /// An order captured (stored, in whatever state), or a capture replayed (`status` "replayed").
    func orderPlaced(channel: String, status: String) {
        counter("orderly_orders_placed_total", [("channel", capped("channel", channel)), ("status", status)])
    }

    /// A capture refused: nothing stored. `reason` is the reply code the caller sees.
    func orderRefused(channel: String, reason: String) {
        counter("orderly_orders_refused_total", [("channel", capped("channel", channel)), ("reason", reason)])
    }

    /// A channel's order document, by what it came to: `created`, `replayed`, `held`,
    /// `cancelled` (before capture) or `refused`.
    func channelDocument(channel: String, outcome: String) {
        counter(
            "orderly_channel_documents_total",
            [("channel", capped("channel", channel)), ("outcome", outcome)]
        )
    }

    /// The placement transaction, from borrowing a connection to its commit (retries included).
    func reservation(_ duration: Duration) {
        Timer(label: "orderly_reservation_duration_seconds", dimensions: [], factory: factory)
            .recordNanoseconds(duration.nanosecondsClamped)
    }

    /// A service transaction run again after a serialization failure, a deadlock or a stale plan.
    func retried(_ operation: String) {
        counter("orderly_transaction_retries_total", [("operation", operation)])
    }

    // MARK: Jobs

    /// Jobs claimed, completed, failed (to be retried) or discarded, by kind.
    public func job(_ kind: String, _ outcome: JobOutcome) {
        counter("orderly_jobs_total", [("kind", capped("kind", kind)), ("outcome", outcome.rawValue)])
    }

    public enum JobOutcome: String, Sendable {
        case claimed, completed, failed, discarded
    }

    // MARK: The admin server

    /// A command answered: `result` is `ok` or the error code.
    public func adminRequest(command: String, result: String) {
        counter(
            "orderly_admin_requests_total",
            [("command", capped("command", command)), ("result", capped("result", result))]
        )
    }

    // MARK: The pool

    /// How long borrowing a connection took (zero when one was idle).
    public func poolWait(_ duration: Duration) {
        Timer(label: "orderly_pool_wait_seconds", dimensions: [], factory: factory)
            .recordNanoseconds(duration.nanosecondsClamped)
    }

    // MARK: Gauges set when scraped

    /// Sets a gauge (a value read at scrape time: queue depth, connections in use).
    public func gauge(_ name: String, _ dimensions: [(String, String)] = [], _ value: Double) {
        Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }

    // MARK: Helpers

    private func counter(_ name: String, _ dimensions: [(String, String)]) {
        Counter(label: name, dimensions: dimensions, factory: factory).increment()
    }

    private func capped(_ label: String, _ value: String) -> String {
        labels.admit(label, value) ? value : "other"
    }
}

/// The distinct values each label has taken, up to `OrderlyMetrics.labelLimit`.
private final class LabelCap: Sendable {
    private let seen = Mutex<[String: Set<String>]>([:])

    func admit(_ label: String, _ value: String) -> Bool {
        seen.withLock { seen in
            if seen[label, default: []].contains(value) { return true }
            guard seen[label, default: []].count < OrderlyMetrics.labelLimit else { return false }
            seen[label, default: []].insert(value)
            return true
        }
    }
}

extension Duration {
    /// Nanoseconds, clamped to Int64.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

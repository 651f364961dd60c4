public import Orderly
import OrderlyCore
public import Prometheus
import Synchronization

/// A process's metrics as Prometheus scrapes them: the services' counters and histograms (through
/// `metrics`, an `OrderlyMetrics` over this registry) and, read at each scrape, the pool's
/// connections and the job queue's depth.
public final class MetricsExposition: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// What the services are handed (`OrderlyComponents.metrics`, the worker's, the pool's).
    public let metrics: OrderlyMetrics
    private let sources = Mutex<[Source]>([])
    /// Queues seen at an earlier scrape: one gone from the table reads 0, not its last depth.
    private let queuesSeen = Mutex<Set<String>>([])

    enum Source: Sendable {
        case pool(OrderlyDatabase)
        case queues(OrderlyDatabase)
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = OrderlyMetrics.latencyBuckets
        self.metrics = OrderlyMetrics(factory: factory)
    }

    /// Reads the pool's connections at each scrape: `orderly_pool_connections{state}` (open, idle,
    /// in_use, waiting) and `orderly_pool_connections_max`.
    public func observePool(of database: OrderlyDatabase) {
        sources.withLock { $0.append(.pool(database)) }
    }

    /// Reads the job queue at each scrape: `orderly_queue_jobs{queue,state}` (due, scheduled, running,
    /// discarded) and `orderly_queue_oldest_due_seconds{queue}`; `orderly_queue_up` is 0 when the read
    /// failed.
    public func observeQueues(in database: OrderlyDatabase) {
        sources.withLock { $0.append(.queues(database)) }
    }

    /// The exposition text, with the scrape-time gauges read first.
    public func render() async -> [UInt8] {
        for source in sources.withLock({ $0 }) {
            switch source {
            case .pool(let database): recordPool(database)
            case .queues(let database): await recordQueues(database)
            }
        }
        return registry.emitToBuffer()
    }

    private func recordPool(_ database: OrderlyDatabase) {
        let pool = database.poolStatistics
        for (state, value) in [
            ("open", pool.open), ("idle", pool.idle), ("in_use", pool.open - pool.idle), ("waiting", pool.waiting),
        ] {
            metrics.gauge("orderly_pool_connections", [("state", state)], Double(value))
        }
        metrics.gauge("orderly_pool_connections_max", [], Double(pool.maximum))
    }

    private func recordQueues(_ database: OrderlyDatabase) async {
        let gauges: [QueueGauge]
        do {
            gauges = try await JobService(database: database).gauges()
        } catch {
            metrics.gauge("orderly_queue_up", [], 0)
            return
        }
        metrics.gauge("orderly_queue_up", [], 1)
        let now = Set(gauges.map(\.queue))
        let gone = queuesSeen.withLock { seen in
            defer { seen.formUnion(now) }
            return seen.subtracting(now)
        }
        let rows =
            gauges
            + gone.map { QueueGauge(queue: $0, due: 0, scheduled: 0, running: 0, discarded: 0, oldestDueAgeSeconds: 0) }
        for gauge in rows {
            for (state, value) in [
                ("due", gauge.due), ("scheduled", gauge.scheduled), ("running", gauge.running),
                ("discarded", gauge.discarded),
            ] {
                metrics.gauge("orderly_queue_jobs", [("queue", gauge.queue), ("state", state)], Double(value))
            }
            metrics.gauge("orderly_queue_oldest_due_seconds", [("queue", gauge.queue)], gauge.oldestDueAgeSeconds)
        }
    }
}

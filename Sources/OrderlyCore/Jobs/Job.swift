/// A job to enqueue. `args` is a JSON object.
public struct NewJob: Sendable {
    public var queue: String
    public var kind: String
    public var args: String
    public var priority: Int
    /// Seconds from now before it may run (0: at once).
    public var delaySeconds: Double
    /// At most one pending job per key (a unique job).
    public var uniqueKey: String?
    public var maxAttempts: Int

    public init(
        queue: String = "default",
        kind: String,
        args: String = "{}",
        priority: Int = 100,
        delaySeconds: Double = 0,
        uniqueKey: String? = nil,
        maxAttempts: Int = 20
    ) {
        self.queue = queue
        self.kind = kind
        self.args = args
        self.priority = priority
        self.delaySeconds = delaySeconds
        self.uniqueKey = uniqueKey
        self.maxAttempts = maxAttempts
    }

    /// A job of a kind Orderly defines, with the kind's queue, priority, attempts and key.
    public init<Kind: JobKind>(_ kind: Kind.Type, _ arguments: Kind.Arguments, delaySeconds: Double = 0) {
        self.init(
            queue: Kind.queue,
            kind: Kind.name,
            args: Kind.encode(arguments),
            priority: Kind.priority,
            delaySeconds: delaySeconds,
            uniqueKey: Kind.uniqueKey(arguments),
            maxAttempts: Kind.maxAttempts
        )
    }
}

/// A claimed job.
public struct ClaimedJob: Hashable, Sendable {
    public var id: Int64
    public var queue: String
    public var kind: String
    public var args: String
    /// This run's attempt number, from 1.
    public var attempt: Int
    public var maxAttempts: Int

    public init(
        id: Int64,
        queue: String,
        kind: String,
        args: String,
        attempt: Int,
        maxAttempts: Int
    ) {
        self.id = id
        self.queue = queue
        self.kind = kind
        self.args = args
        self.attempt = attempt
        self.maxAttempts = maxAttempts
    }
}

/// What a worker process says about itself on each heartbeat (`worker_processes`).
public struct WorkerHeartbeat: Hashable, Sendable {
    public var id: String
    public var host: String
    public var pid: Int32
    public var queues: [String]
    public var concurrency: Int
    public var heartbeatSeconds: Double
    public var jobsRunning: Int
    /// The first beat of this process: its row starts a new life (started now, not stopped).
    public var starting: Bool

    public init(
        id: String,
        host: String,
        pid: Int32,
        queues: [String],
        concurrency: Int,
        heartbeatSeconds: Double,
        jobsRunning: Int,
        starting: Bool
    ) {
        self.id = id
        self.host = host
        self.pid = pid
        self.queues = queues
        self.concurrency = concurrency
        self.heartbeatSeconds = heartbeatSeconds
        self.jobsRunning = jobsRunning
        self.starting = starting
    }
}

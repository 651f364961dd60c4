import Foundation
public import Logging
import Synchronization

/// Settings for `PostgresPool`.
public struct PostgresPoolOptions: Sendable {
    /// Connections open at once, busy or idle.
    public var maxConnections: Int
    /// How long `withConnection` waits for a free connection before `.poolTimeout`.
    public var acquireTimeout: Duration
    /// A connection idle for longer than this is pinged (`SELECT 1`) before it is lent out.
    public var pingAfterIdle: Duration
    /// Connections idle for longer than this are closed (the pool keeps at least `minIdle`).
    public var idleTimeout: Duration
    public var minIdle: Int
    /// Told how long each borrowing through `withConnection` took to get its connection (for a
    /// metrics histogram); nil tells no one.
    public var observeAcquire: (@Sendable (Duration) -> Void)?
    /// Carries the borrower's context onto the connection's thread (its task-local values, so that a
    /// line logged there names the request or job it works for): called where `withConnection` is
    /// called, it captures what it needs and returns a function that runs the thread's work, once,
    /// inside what it captured. Nil carries nothing.
    public var carryContext: (@Sendable () -> @Sendable (() -> Void) -> Void)?

    public init(
        maxConnections: Int = 10,
        acquireTimeout: Duration = .seconds(10),
        pingAfterIdle: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(300),
        minIdle: Int = 0
    ) {
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeout = acquireTimeout
        self.pingAfterIdle = pingAfterIdle
        self.idleTimeout = idleTimeout
        self.minIdle = max(0, minIdle)
    }
}

/// How a transaction is retried after a serialization failure (40001) or deadlock (40P01).
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(2), maxDelay: Duration = .milliseconds(100)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let none = RetryPolicy(maxAttempts: 1)
    public static let `default` = RetryPolicy()

    /// Exponential backoff with full jitter: a random delay in [0, min(max, base * 2^attempt)].
    func delay(afterAttempt attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(attempt - 1, 20)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos, using: &random))
    }
}

/// A pool of libpq connections for async code.
///
/// Each connection has a thread of its own; `withConnection` borrows one and runs your synchronous
/// closure on that thread, so a whole transaction costs one hop between threads, and libpq never
/// blocks the cooperative pool. Broken connections (a killed backend, a restarted server) are noticed
/// before they are lent out, or when a statement fails on them, and replaced. Waiting for a free
/// connection is bounded by `acquireTimeout`.
///
/// State lives in a `Mutex` guarding a small synchronous state machine; connecting, pinging and
/// closing happen outside the lock.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    public let options: PostgresPoolOptions
    let logger: Logger

    private struct Pooled: Sendable {
        let connection: PostgresConnection
        let thread: ConnectionThread
    }

    private typealias Waiter = CheckedContinuation<Pooled, any Error>

    private let state: Mutex<PoolStateMachine<Pooled, Waiter>>

    public init(
        configuration: PostgresConfiguration,
        options: PostgresPoolOptions = PostgresPoolOptions(),
        logger: Logger = Logger(label: "orderly.pool")
    ) {
        self.configuration = configuration
        self.options = options
        self.logger = logger
        self.state = Mutex(
            PoolStateMachine(
                limits: .init(
                    maxConnections: options.maxConnections,
                    idleTimeout: options.idleTimeout,
                    minIdle: options.minIdle,
                    pingAfterIdle: options.pingAfterIdle
                )
            )
        )
    }

    /// A snapshot of the pool's counters.
    public struct Statistics: Sendable, Equatable {
        public var open: Int
        public var idle: Int
        public var waiting: Int
        /// Connections opened since the pool started.
        public var created: Int
        /// Connections closed because they were broken or idle too long.
        public var discarded: Int
    }

    public var statistics: Statistics {
        state.withLock {
            Statistics(
                open: $0.open,
                idle: $0.idle.count,
                waiting: $0.waiters.count,
                created: $0.created,
                discarded: $0.discarded
            )
        }
    }

    // MARK: Borrowing

    /// Borrows a connection and runs `body` on its thread.
    ///
    /// If the task is cancelled while `body` runs, the running statement is cancelled on the server.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await borrow(inBorrowersContext(body))
    }

    /// `withConnection` for a body already in its borrower's context.
    private func borrow<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let pooled = try await acquire()
        pooled.connection.clearCancellation()
        do {
            try Task.checkCancellation()
            let value = try await withTaskCancellationHandler {
                try await pooled.thread.run { try body(pooled.connection) }
            } onCancel: {
                pooled.connection.cancelRunningStatement()
            }
            release(pooled)
            return value
        } catch {
            release(pooled)
            throw error
        }
    }

    /// The callback flavour of `withConnection`, for event-loop code. When an idle connection is at hand
    /// (and needs no ping), `body` runs on its thread and `completion` is called there: no hop through
    /// Swift's cooperative pool. Otherwise (no idle connection, one to ping or replace, waiting) it takes
    /// the async path in a task. `completion` is called exactly once, on some thread.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let body = inBorrowersContext(body)
        if let pooled = takeIdleForImmediateUse() {
            pooled.connection.clearCancellation()
            let accepted = pooled.thread.submit { [self] in
                let result = Result { try body(pooled.connection) }
                release(pooled)
                completion(result)
            }
            if accepted { return }
            Task { await self.discard(pooled, reason: "its thread stopped") }
        }
        Task {
            do {
                completion(.success(try await self.borrow(body)))
            } catch {
                completion(.failure(error))
            }
        }
    }

    /// `body` run inside the context of the code borrowing now (`PostgresPoolOptions.carryContext`).
    private func inBorrowersContext<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) -> @Sendable (PostgresConnection) throws -> T {
        guard let bind = options.carryContext?() else { return body }
        return { connection in
            var result: Result<T, any Error>?
            bind { result = Result { try body(connection) } }
            guard let result else {
                throw PostgresError(code: .misuse, message: "carryContext did not run the connection's work")
            }
            return try result.get()
        }
    }

    /// The most recently used idle connection, if it may be used without a ping and its socket is sound.
    private func takeIdleForImmediateUse() -> Pooled? {
        let now = ContinuousClock.now
        guard let pooled = state.withLock({ $0.takeIdleWithoutPing(now: now) }) else { return nil }
        // The socket check does not block, and the connection is ours alone now.
        guard pooled.connection.isUsable else {
            Task { await self.discard(pooled, reason: "broken before use") }
            return nil
        }
        return pooled
    }

    /// Runs `body` in a transaction on a borrowed connection, retrying the whole transaction on
    /// 40001/40P01 as `retry` allows.
    public func transaction<T: Sendable>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        retry: RetryPolicy = .default,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try connection.retrying(retry) { _ in
                try connection.transaction(isolation: isolation, readOnly: readOnly, body)
            }
        }
    }

    /// Runs one statement on a borrowed connection.
    @discardableResult
    public func query(_ statement: PostgresStatement) async throws -> PostgresRows {
        try await withConnection { try $0.query(statement) }
    }

    /// Runs one statement on a borrowed connection.
    ///
    /// For SQL text held in a `String`, bindings required (see `PostgresConnection.query(_:_:)`).
    @discardableResult
    public func query(_ sql: String, _ bindings: [any PostgresEncodable]) async throws -> PostgresRows {
        try await withConnection { try $0.query(sql, bindings) }
    }

    /// Closes idle connections and refuses new work; borrowed connections close when returned.
    public func close() async {
        let (idle, waiters) = state.withLock { $0.close() }
        for waiter in waiters {
            waiter.resume(throwing: PostgresError(code: .poolClosed, message: "the pool was closed"))
        }
        for pooled in idle { await shut(pooled) }
    }

    // MARK: Acting on the state machine's decisions

    private func acquire() async throws -> Pooled {
        guard let observe = options.observeAcquire else { return try await acquireUnobserved() }
        let started = ContinuousClock.now
        let pooled = try await acquireUnobserved()
        observe(ContinuousClock.now - started)
        return pooled
    }

    private func acquireUnobserved() async throws -> Pooled {
        while true {
            try Task.checkCancellation()
            let now = ContinuousClock.now
            let outcome = state.withLock { $0.acquire(now: now) }
            for pooled in outcome.stale { await shut(pooled) }
            let decision = outcome.0
            let pooled: Pooled
            switch decision {
            case .use(let idle, let ping):
                guard await isHealthy(idle, ping: ping) else {
                    await discard(idle, reason: "broken before use")
                    continue
                }
                return idle
            case .fail(let error):
                throw error
            case .create(let threadID):
                pooled = try await create(threadID: threadID)
            case .wait:
                pooled = try await waitForRelease()
            }
            if pooled.connection.isUsable { return pooled }
            await discard(pooled, reason: "broken before use")
        }
    }

    private func isHealthy(_ pooled: Pooled, ping: Bool) async -> Bool {
        // The socket check does not block: fine to run on the caller's thread, the connection is ours.
        guard pooled.connection.isUsable else { return false }
        guard ping else { return true }
        do {
            _ = try await pooled.thread.run { try pooled.connection.query("SELECT 1", []) }
            return true
        } catch {
            return false
        }
    }

    private func create(threadID: Int) async throws -> Pooled {
        let thread = ConnectionThread(name: "orderly-pg-\(threadID)")
        let configuration = self.configuration
        let logger = self.logger
        do {
            let connection = try await thread.run {
                try PostgresConnection(configuration: configuration, logger: logger)
            }
            state.withLock { $0.connected() }
            return Pooled(connection: connection, thread: thread)
        } catch {
            thread.stop()
            let failure = error as? PostgresError
            state.withLock { $0.connectFailed(failure) }
            throw error
        }
    }

    private func waitForRelease() async throws -> Pooled {
        let id = state.withLock { $0.makeWaiterID() }
        let timeout = options.acquireTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            guard let self else { return }
            let reason = self.state.withLock { $0.lastConnectError.map { " (last connection error: \($0))" } ?? "" }
            self.removeWaiter(
                id,
                error: PostgresError(
                    code: .poolTimeout,
                    message: "no connection became free within \(timeout)\(reason)"
                )
            )
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                if !state.withLock({ $0.addWaiter(id, continuation) }) {
                    continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the pool is closed"))
                }
            }
        } onCancel: {
            self.removeWaiter(id, error: CancellationError())
        }
    }

    private func removeWaiter(_ id: Int, error: any Error) {
        state.withLock { $0.removeWaiter(id) }?.resume(throwing: error)
    }

    /// Returns a connection: to the longest waiter, to the idle stack, or closed if it is broken.
    private func release(_ pooled: Pooled) {
        let connection = pooled.connection
        guard !connection.isClosed, !connection.isInTransaction, connection.isUsable else {
            Task { await self.discard(pooled, reason: "broken or left in a transaction") }
            return
        }
        let now = ContinuousClock.now
        switch state.withLock({ $0.release(pooled, now: now) }) {
        case .handTo(let waiter): waiter.resume(returning: pooled)
        case .kept: break
        case .close: Task { await self.shut(pooled) }
        }
    }

    /// Closes a broken connection and, if someone is waiting, opens a replacement for them.
    private func discard(_ pooled: Pooled, reason: String) async {
        logger.info(
            "discarding connection",
            metadata: ["backend_pid": "\(pooled.connection.backendPID)", "reason": "\(reason)"]
        )
        await shut(pooled)
        guard let replacement = state.withLock({ $0.discard() }) else { return }
        // The replacement goes to the longest waiter through the normal release path.
        if let pooled = try? await create(threadID: replacement) { release(pooled) }
    }

    private func shut(_ pooled: Pooled) async {
        _ = try? await pooled.thread.run { pooled.connection.close() }
        pooled.thread.stop()
    }
}

extension PostgresConnection {
    /// Runs `body` again when it fails with 40001 or 40P01 (or whatever `retryable` accepts), up to
    /// `policy.maxAttempts` times in all, sleeping this (connection) thread for a jittered, growing
    /// delay between attempts. `body` gets the attempt number, from 1.
    public func retrying<T>(
        _ policy: RetryPolicy,
        when retryable: (any Error) -> Bool = { ($0 as? PostgresError)?.isRetryable == true },
        _ body: (Int) throws -> T
    ) throws -> T {
        var generator = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            do {
                return try body(attempt)
            } catch  where retryable(error) && attempt < policy.maxAttempts {
                let delay = policy.delay(afterAttempt: attempt, using: &generator)
                logger.debug(
                    "retrying transaction",
                    metadata: ["attempt": "\(attempt)", "error": "\(error)"]
                )
                attempt += 1
                Thread.sleep(
                    forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                )
            }
        }
    }
}

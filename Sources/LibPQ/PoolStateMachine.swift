/// The pool's decisions as a synchronous value with no I/O and no clock of its own: the pool calls it
/// under its lock with the time it read, and does what it answers (connect, ping, close, resume a
/// waiter) outside the lock. Generic over the connection and the waiter, so the tests drive it with
/// plain values and an instant they move (`PoolStateMachineTests`).
struct PoolStateMachine<Connection, Waiter> {
    struct Limits {
        var maxConnections: Int
        /// Idle connections closed past this, keeping `minIdle`.
        var idleTimeout: Duration
        var minIdle: Int
        /// Idle longer than this, a connection is pinged before it is lent out.
        var pingAfterIdle: Duration
    }

    let limits: Limits
    /// Idle connections with when they were last returned, oldest first (lent out last in, first out).
    private(set) var idle: [(connection: Connection, lastUsed: ContinuousClock.Instant)] = []
    /// Connections open or being opened, lent out or idle.
    private(set) var open = 0
    private(set) var waiters: [(id: Int, waiter: Waiter)] = []
    private(set) var closed = false
    private(set) var created = 0
    private(set) var discarded = 0
    private(set) var lastConnectError: PostgresError?
    private var nextWaiterID = 0
    private var nextThreadID = 0

    init(limits: Limits) {
        self.limits = limits
    }

    enum Acquire {
        /// Lend this idle connection (ping it first when `ping`).
        case use(Connection, ping: Bool)
        /// Open a connection on a new thread with this number.
        case create(threadID: Int)
        /// Every connection is lent out: wait for one (`addWaiter`).
        case wait
        case fail(PostgresError)
    }

    /// A borrower wants a connection at `now`. Also returns the idle connections past the idle
    /// timeout, which the pool must close.
    mutating func acquire(now: ContinuousClock.Instant) -> (Acquire, stale: [Connection]) {
        if closed { return (.fail(PostgresError(code: .poolClosed, message: "the pool is closed")), []) }
        var stale: [Connection] = []
        while idle.count > limits.minIdle, let oldest = idle.first, now - oldest.lastUsed > limits.idleTimeout {
            stale.append(idle.removeFirst().connection)
            open -= 1
            discarded += 1
        }
        if let (connection, lastUsed) = idle.popLast() {
            return (.use(connection, ping: now - lastUsed > limits.pingAfterIdle), stale)
        }
        if open < limits.maxConnections {
            open += 1
            nextThreadID += 1
            return (.create(threadID: nextThreadID), stale)
        }
        return (.wait, stale)
    }

    /// The callback fast path: the most recently returned connection, if it needs no ping.
    mutating func takeIdleWithoutPing(now: ContinuousClock.Instant) -> Connection? {
        guard !closed, let last = idle.last, now - last.lastUsed <= limits.pingAfterIdle else { return nil }
        return idle.removeLast().connection
    }

    /// A connection opened for `create`.
    mutating func connected() {
        created += 1
    }

    /// Opening a connection for `create` failed: its slot is free again.
    mutating func connectFailed(_ error: PostgresError?) {
        open -= 1
        lastConnectError = error
    }

    /// A new waiter's id, to add it (or time it out) by.
    mutating func makeWaiterID() -> Int {
        nextWaiterID += 1
        return nextWaiterID
    }

    /// Queues a waiter; false when the pool closed meanwhile (fail it).
    mutating func addWaiter(_ id: Int, _ waiter: Waiter) -> Bool {
        guard !closed else { return false }
        waiters.append((id, waiter))
        return true
    }

    /// Takes a waiter out (timed out, or cancelled); nil when a connection or the close got it first.
    mutating func removeWaiter(_ id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    enum Release {
        /// Resume the longest waiter with the connection.
        case handTo(Waiter)
        /// Kept idle.
        case kept
        /// The pool is closed: close the connection.
        case close
    }

    /// A healthy connection comes back at `now` (a broken one goes to `discard`).
    mutating func release(_ connection: Connection, now: ContinuousClock.Instant) -> Release {
        if closed {
            open -= 1
            return .close
        }
        if !waiters.isEmpty { return .handTo(waiters.removeFirst().waiter) }
        idle.append((connection, now))
        return .kept
    }

    /// A broken connection was closed. Returns a thread number when a waiter should get a
    /// replacement (open it and `release` it to them).
    mutating func discard() -> Int? {
        open -= 1
        discarded += 1
        guard !closed, !waiters.isEmpty, open < limits.maxConnections else { return nil }
        open += 1
        nextThreadID += 1
        return nextThreadID
    }

    /// Refuses new work. Returns the idle connections to close and the waiters to fail; lent-out
    /// connections close when returned.
    mutating func close() -> (idle: [Connection], waiters: [Waiter]) {
        closed = true
        let result = (idle.map(\.connection), waiters.map(\.waiter))
        open -= idle.count
        idle = []
        waiters = []
        return result
    }
}

extension PoolStateMachine: Sendable where Connection: Sendable, Waiter: Sendable {}
extension PoolStateMachine.Acquire: Sendable where Connection: Sendable {}
extension PoolStateMachine.Release: Sendable where Waiter: Sendable {}

/// Where one admin connection stands, as a value with no I/O (postgres-nio's connection state machine
/// is the model): the handler tells it what happened and does what it answers. Tested on its own, one
/// event at a time (`AdminConnectionStateTests`).
struct AdminConnectionState: Sendable {
    /// Who the connection acts as.
    enum Auth: Equatable, Sendable {
        /// A loopback server is reading the principals table to learn whether AUTH is needed.
        case checkingPrincipals
        /// AUTH is needed and has not succeeded.
        case required
        /// No principal exists: commands run as admin without AUTH (re-checked with each command).
        case devMode
        case authenticated(AdminPrincipal)
    }

    /// What the connection waits for besides its client.
    enum Work: Equatable, Sendable {
        case none
        /// The principals lookup, an AUTH check or a command: later lines wait in the queue.
        case running
    }

    enum Life: Equatable, Sendable {
        case open
        /// The client half-closed: answer what it sent, then close.
        case inputClosed
        /// The server shuts down: the running command finishes and its reply is written, nothing
        /// more runs, then the connection closes.
        case quiescing
        /// Closing: nothing more is read or run.
        case closing
    }

    private(set) var auth: Auth = .required
    private(set) var work: Work = .none
    private(set) var life: Life = .open
    /// The next read is held (the queue is full or the client does not read its replies).
    private(set) var readHeld = false

    var principal: AdminPrincipal? {
        if case .authenticated(let principal) = auth { principal } else { nil }
    }

    var devMode: Bool { auth == .devMode }
    var authenticated: Bool { principal != nil || devMode }
    var busy: Bool { work == .running }
    var closing: Bool { life == .closing }

    /// Whether the next queued line may run now.
    var mayRunNext: Bool { work == .none && (life == .open || life == .inputClosed) }

    /// Whether the connection closes once the reply being written is flushed.
    var closesAfterReply: Bool { life == .quiescing }

    // MARK: Events

    enum Greeting: Equatable {
        /// Greet now; start the AUTH timer when `authRequired`.
        case greet(authRequired: Bool)
        /// Look up the principals first (`principalsLooked`), then greet.
        case lookUpPrincipals
    }

    /// The connection is up.
    mutating func activated(devModeAllowed: Bool) -> Greeting {
        guard devModeAllowed else {
            auth = .required
            return .greet(authRequired: true)
        }
        auth = .checkingPrincipals
        work = .running
        return .lookUpPrincipals
    }

    /// The principals lookup ended: none exist (dev mode), some do, or it failed (nil: fail closed,
    /// AUTH required). Returns whether to greet (not when the connection closed meanwhile).
    mutating func principalsLooked(exist: Bool?) -> Greeting? {
        work = .none
        auth = exist == false ? .devMode : .required
        guard life == .open || life == .inputClosed else { return nil }
        return .greet(authRequired: !devMode)
    }

    /// A command (or AUTH's check) starts off the event loop.
    mutating func started() {
        work = .running
    }

    /// AUTH succeeded: the connection acts as `principal` from now on (never another: a second AUTH
    /// is refused while authenticated).
    mutating func authenticated(as principal: AdminPrincipal) {
        work = .none
        auth = .authenticated(principal)
    }

    /// AUTH's check ended without a principal (wrong secret, or the check failed).
    mutating func authFailed() {
        work = .none
    }

    /// What a finished command means for the connection.
    enum Finished: Equatable {
        /// Write its reply (unless closing) and go on with the queue.
        case reply
        /// A dev-mode connection found a principal: it must AUTH now; start the AUTH timer.
        case devModeEnded
        /// The connection closed meanwhile: write nothing.
        case closed
    }

    mutating func finished(devModeEnded: Bool) -> Finished {
        work = .none
        guard life != .closing else { return .closed }
        if devModeEnded {
            auth = .required
            return .devModeEnded
        }
        return .reply
    }

    /// The server shuts down (swift-nio-extras' `ChannelShouldQuiesceEvent`). Returns whether to
    /// close now (no command runs); otherwise the command's reply is the last thing written.
    mutating func quiesce() -> Bool {
        guard life != .closing else { return false }
        life = .quiescing
        return work == .none
    }

    /// The client half-closed. Returns whether to close now (nothing left to answer).
    mutating func inputClosed(queueEmpty: Bool) -> Bool {
        if life == .open { life = .inputClosed }
        return shouldFinish(queueEmpty: queueEmpty)
    }

    /// After the queue moved: close once a half-closed connection has answered everything.
    func shouldFinish(queueEmpty: Bool) -> Bool {
        life == .inputClosed && queueEmpty && work == .none
    }

    enum IdleVerdict: Equatable {
        /// Replies would never flush: close at once, dropping them.
        case closeNow
        /// Nothing runs or waits: close after flushing.
        case close
        /// A command runs or lines wait: it is not idle.
        case keep
    }

    /// No traffic for the idle timeout.
    func idle(writable: Bool, queueEmpty: Bool) -> IdleVerdict {
        if !writable { return .closeNow }
        return work == .none && queueEmpty ? .close : .keep
    }

    /// A line took longer than the line deadline to arrive. Whether to answer TIMEOUT and close: not
    /// when the server is the slow one (a command runs, lines wait, or reading is held).
    func lineDeadlineExceeded(queueEmpty: Bool) -> Bool {
        work == .none && queueEmpty && !readHeld
    }

    /// Whether to hold the next read.
    mutating func readRequested(queueFull: Bool, writable: Bool) -> Bool {
        readHeld = queueFull || !writable
        return readHeld
    }

    /// Whether a held read may go ahead now.
    mutating func resumeReading(queueFull: Bool, writable: Bool) -> Bool {
        guard readHeld, !queueFull, writable else { return false }
        readHeld = false
        return true
    }

    /// The connection is closing (by either side). Returns false if it already was.
    mutating func close() -> Bool {
        guard life != .closing else { return false }
        life = .closing
        return true
    }
}

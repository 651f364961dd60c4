import Logging
import NIOCore
import NIOExtras
import Orderly
import OrderlyAdminProtocol
import Synchronization

/// What every connection of one server shares.
final class AdminServerShared: Sendable {
    let configuration: AdminServerConfiguration
    let executor: AdminExecutor
    let table = CommandTable.standard
    let logger: Logger
    let throttle: AuthThrottle
    let clients = Atomic<Int>(0)
    /// Numbers connections for request ids (`LogContext.request`).
    let connectionNumbers = Atomic<Int>(0)

    init(configuration: AdminServerConfiguration, executor: AdminExecutor, logger: Logger) {
        self.configuration = configuration
        self.executor = executor
        self.logger = logger
        self.throttle = AuthThrottle(
            freeFailures: configuration.authFailuresBeforeDelay,
            maximumDelay: configuration.maximumAuthDelay,
            now: configuration.clock
        )
    }

    /// A loopback server without principals runs in dev mode: no AUTH. Whether it is in dev mode
    /// follows the principals table as it is when a connection asks, never as it was at start.
    var devModeAllowed: Bool { configuration.isLoopback }
}

/// One admin connection: lines in, replies out, in order. Pure commands answer at once, at most
/// `commandsPerTurn` of them before the connection yields the event loop to the others; commands that
/// touch the database run one at a time off the event loop, and later lines wait in a queue of at
/// most `maximumInFlight` (past it the handler stops reading). A slow reader stops the queue at the
/// output high-water mark, so memory stays bounded either way.
final class AdminConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shared: AdminServerShared
    private var queue = CircularBuffer<ByteBuffer>()
    /// Who it acts as, whether a command runs, whether it is closing: the state machine decides, this
    /// handler does the I/O.
    private var state = AdminConnectionState()
    private var format = AdminFormat.text
    private var authFailures = 0
    private var authTimer: Scheduled<Void>?
    private var counted = false
    /// Pure commands this connection may still answer before it yields the event loop.
    private var turnBudget: Int
    private var continuationScheduled = false
    private var peer = "unknown"
    /// This connection's number and its requests so far: a request's id is `<number>.<n>`.
    private var number = 0
    private var requests = 0

    init(shared: AdminServerShared) {
        self.shared = shared
        self.turnBudget = shared.configuration.commandsPerTurn
    }

    private var authenticated: Bool { state.authenticated }
    private var principal: AdminPrincipal? { state.principal }
    private var devMode: Bool { state.devMode }
    private var busy: Bool { state.busy }
    private var closing: Bool { state.closing }

    // MARK: Connection life

    func channelActive(context: ChannelHandlerContext) {
        let clients = shared.clients.add(1, ordering: .relaxed).newValue
        counted = true
        peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        number = shared.connectionNumbers.add(1, ordering: .relaxed).newValue
        guard clients <= shared.configuration.maximumClients else {
            write(
                context,
                .error(AdminError(.maxClients, "the server has \(shared.configuration.maximumClients) clients")),
                tag: nil
            )
            closeAfterFlush(context)
            return
        }
        context.fireChannelActive()
        guard state.activated(devModeAllowed: shared.devModeAllowed) == .lookUpPrincipals else {
            greet(context)
            return
        }
        // Whether this connection needs AUTH is what the principals table says now. Lines that
        // arrive meanwhile wait in the queue.
        let promise = context.eventLoop.makePromise(of: Bool.self)
        shared.executor.principalsExist { promise.completeWith($0) }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            var exist: Bool?
            switch result {
            case .success(let found): exist = found
            case .failure(let error):
                // Fail closed: without the table, AUTH is required.
                shared.logger.error("cannot read admin principals", metadata: ["error": "\(error)"])
            }
            guard state.principalsLooked(exist: exist) != nil else {
                if state.closesAfterReply { closeAfterFlush(context) }
                return
            }
            greet(context)
            process(context)
        }
    }

    private func greet(_ context: ChannelHandlerContext) {
        let auth = devMode ? "none" : "required"
        context.writeAndFlush(
            wrapOutboundOut(context.channel.allocator.buffer(string: "OK orderly protocol=1 auth=\(auth)\n")),
            promise: nil
        )
        if !devMode { startAuthTimer(context) }
    }

    private func startAuthTimer(_ context: ChannelHandlerContext) {
        guard authTimer == nil, principal == nil else { return }
        let loop = context.eventLoop.assumeIsolated()
        authTimer = loop.scheduleTask(in: shared.configuration.authTimeout) { [weak self] in
            guard let self, self.principal == nil, !self.devMode, !self.closing else { return }
            self.write(context, .error(AdminError(.noAuth, "no AUTH within the time allowed")), tag: nil)
            self.closeAfterFlush(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { shared.clients.subtract(1, ordering: .relaxed) }
        counted = false
        _ = state.close()
        authTimer?.cancel()
        queue.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // A half-close (nc -N): answer everything already sent, then close.
            if state.inputClosed(queueEmpty: queue.isEmpty) { closeAfterFlush(context) }
            return
        }
        if event is ChannelShouldQuiesceEvent {
            // The server shuts down: a running command finishes and its reply is written, lines not
            // yet run are not, then the connection closes.
            queue.removeAll()
            if state.quiesce() { closeAfterFlush(context) }
            return
        }
        if event is ConnectionIdleHandler.Idle {
            // Idle past the timeout: close. A connection whose command is still running (or queued)
            // is not idle, however long the database takes; one whose replies the peer does not read
            // is, whatever waits behind them.
            switch state.idle(writable: context.channel.isWritable, queueEmpty: queue.isEmpty) {
            case .closeNow:
                // Its replies would never flush: close now.
                _ = state.close()
                queue.removeAll()
                context.close(promise: nil)
            case .close: closeAfterFlush(context)
            case .keep: break
            }
            return
        }
        if event is LineDeadlineHandler.Exceeded {
            // A line arriving slower than the deadline (slowloris). Not when the server is the slow
            // one: while a command runs or lines wait, the rest of the line may sit unread.
            if state.lineDeadlineExceeded(queueEmpty: queue.isEmpty) {
                let seconds = shared.configuration.lineTimeout.nanoseconds / 1_000_000_000
                write(
                    context,
                    .error(AdminError(.timeout, "a request line took longer than \(seconds) s to arrive")),
                    tag: nil
                )
                closeAfterFlush(context)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is ByteToMessageDecoderError.PayloadTooLargeError {
            write(
                context,
                .error(AdminError(.lineTooLong, "a line is longer than \(AdminLimits.maximumLineLength) bytes")),
                tag: nil
            )
        } else {
            shared.logger.debug("connection error", metadata: ["error": "\(error)"])
        }
        closeAfterFlush(context)
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        queue.append(unwrapInboundIn(data))
        process(context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Holds the next read while the queue is full or the peer is not reading its replies.
    func read(context: ChannelHandlerContext) {
        let full = queue.count >= shared.configuration.maximumInFlight
        if !state.readRequested(queueFull: full, writable: context.channel.isWritable) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            process(context)
            resumeReading(context)
        }
        context.fireChannelWritabilityChanged()
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        let full = queue.count >= shared.configuration.maximumInFlight
        if state.resumeReading(queueFull: full, writable: context.channel.isWritable) { context.read() }
    }

    // MARK: Requests

    private func process(_ context: ChannelHandlerContext) {
        while state.mayRunNext, context.channel.isWritable, turnBudget > 0, let line = queue.popFirst() {
            turnBudget -= 1
            handle(line, context)
        }
        context.flush()
        if turnBudget == 0 && !queue.isEmpty && !continuationScheduled && !closing {
            // This connection had its share: the others' reads and replies go first, then it goes on.
            continuationScheduled = true
            context.eventLoop.assumeIsolated().execute { [self] in
                continuationScheduled = false
                turnBudget = shared.configuration.commandsPerTurn
                process(context)
            }
        }
        resumeReading(context)
        finishIfDrained(context)
    }

    private func finishIfDrained(_ context: ChannelHandlerContext) {
        if state.shouldFinish(queueEmpty: queue.isEmpty) { closeAfterFlush(context) }
    }

    private func handle(_ buffer: ByteBuffer, _ context: ChannelHandlerContext) {
        let bytes = buffer.readableBytesView
        // An HTTP header line anywhere means a confused client: stop before running anything more.
        if bytes.count >= 5, bytes.prefix(5).map({ $0 | 0x20 }) == Array("host:".utf8) {
            _ = state.close()
            queue.removeAll()
            context.close(promise: nil)
            return
        }
        let allowed = authenticated ? AdminLimits.maximumArguments : AdminLimits.maximumArgumentsBeforeAuth
        let command: BoundCommand
        do {
            // The framer removed the line ending: a CR left over is a stray one.
            guard let request = try AdminRequest.parse(bytes, maximumTokens: allowed + 2, framed: true) else {
                return
            }
            do throws(AdminError) {
                // Counted before the arguments are checked, so too many is reported as too many.
                guard shared.table.argumentCount(request) <= allowed else {
                    throw AdminError(
                        .tooManyArguments,
                        "more than \(allowed) arguments\(authenticated ? "" : " before AUTH")"
                    )
                }
                command = try shared.table.bind(request)
            } catch {
                write(context, .error(error), tag: request.tag, command: "unknown")
                return
            }
        } catch {
            write(context, .error(error), tag: nil, command: "unknown")
            if error.code == .lineTooLong { closeAfterFlush(context) }
            return
        }
        let tag = command.tag
        do throws(AdminError) {
            try dispatch(command, tag: tag, context)
        } catch {
            write(context, .error(error), tag: tag, command: command.spec.name)
        }
    }

    /// One bound command: the connection's own (PING, QUIT, HELLO, HELP, AUTH) here; the rest, once
    /// authenticated and allowed, to the executor.
    private func dispatch(
        _ command: BoundCommand,
        tag: String?,
        _ context: ChannelHandlerContext
    ) throws(AdminError) {
        switch command.spec.name {
        case "PING":
            write(context, .ok(AdminField("pong", true)), tag: tag, command: "PING")
        case "QUIT":
            write(context, .ok(AdminField("bye", true)), tag: tag, command: "QUIT")
            closeAfterFlush(context)
        case "HELLO":
            if let requested = try command.text(optional: "format").flatMap(AdminFormat.init(rawValue:)) {
                format = requested
            }
            write(
                context,
                .ok(
                    AdminField("server", "orderly"),
                    AdminField("protocol", 1),
                    AdminField("auth", devMode ? "none" : "required"),
                    AdminField("user", principal?.name),
                    AdminField("format", format.rawValue)
                ),
                tag: tag,
                command: "HELLO"
            )
        case "HELP":
            let (verb, sub) = (try command.text(optional: "verb"), try command.text(optional: "sub"))
            write(context, try shared.table.help(verb: verb, sub: sub), tag: tag, command: "HELP")
        case "AUTH":
            try authenticate(command, context)
        default:
            guard authenticated else { throw AdminError(.noAuth, "AUTH first; HELP lists what runs before it") }
            try AdminExecutor.authorize(command, principal: principal)
            try run(command, context)
        }
    }

    private func authenticate(_ command: BoundCommand, _ context: ChannelHandlerContext) throws(AdminError) {
        if let principal {
            // One principal per connection: a second AUTH would silently change who the log says acted.
            write(
                context,
                .error(
                    AdminError(
                        .conflict,
                        "already authenticated as \(principal.name); open a new connection for another principal"
                    )
                ),
                tag: command.tag,
                command: command.spec.name
            )
            return
        }
        let user = try command.text(required: "user")
        let secret = try command.text(required: "secret")
        let keys = AuthThrottle.keys(user: user, peer: peer)
        if let wait = shared.throttle.delay(for: keys) {
            // Refused without checking the secret: guesses cost the guesser time, not the server CPU.
            let seconds = max(1, (wait.nanoseconds + 999_999_999) / 1_000_000_000)
            write(
                context,
                .error(
                    AdminError(
                        .authFailed,
                        "too many failed AUTHs for this user or address; try again in \(seconds) s"
                    )
                ),
                tag: command.tag,
                command: command.spec.name
            )
            shared.logger.warning(
                "AUTH refused",
                metadata: ["user": "\(user)", "peer": "\(peer)", "reason": "throttled: too many failures"]
            )
            countFailure(context)
            return
        }
        let executor = shared.executor
        let promise = context.eventLoop.makePromise(of: AdminPrincipal?.self)
        state.started()
        let iterations = shared.configuration.passwordIterations
        promise.completeWithTask { try await executor.authenticate(user: user, secret: secret, iterations: iterations) }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            turnBudget = shared.configuration.commandsPerTurn
            if case .success(let principal?) = result {
                state.authenticated(as: principal)
            } else {
                state.authFailed()
            }
            switch result {
            case .success(let principal?):
                shared.logger.info("AUTH", metadata: ["user": "\(principal.name)", "peer": "\(peer)"])
                shared.throttle.succeeded(keys)
                authTimer?.cancel()
                write(
                    context,
                    .ok(AdminField("user", principal.name), AdminField("role", principal.role.rawValue)),
                    tag: command.tag,
                    command: command.spec.name
                )
            case .success(nil):
                shared.logger.warning(
                    "AUTH refused",
                    metadata: ["user": "\(user)", "peer": "\(peer)", "reason": "wrong user or secret"]
                )
                shared.throttle.failed(keys)
                write(
                    context,
                    .error(AdminError(.authFailed, "wrong user or secret")),
                    tag: command.tag,
                    command: command.spec.name
                )
                countFailure(context)
            case .failure(let error):
                shared.logger.error("AUTH failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
                write(
                    context,
                    .error(AdminError(.internal, "authentication is unavailable")),
                    tag: command.tag,
                    command: command.spec.name
                )
            }
            if state.closesAfterReply {
                closeAfterFlush(context)
                return
            }
            process(context)
        }
    }

    private func countFailure(_ context: ChannelHandlerContext) {
        authFailures += 1
        if authFailures >= shared.configuration.maximumAuthFailures { closeAfterFlush(context) }
    }

    private func run(_ command: BoundCommand, _ context: ChannelHandlerContext) throws(AdminError) {
        let executor = shared.executor
        // A handler out of step with the table is answered here, without borrowing a connection.
        let work = try executor.connectionWork(command)
        let principal = self.principal
        let shared = self.shared
        // A dev-mode connection asks the table again with every command: a principal created since
        // takes its rights away at once.
        let recheck = principal == nil
        let promise = context.eventLoop.makePromise(of: AdminExecutor.Outcome.self)
        state.started()
        // The command runs to its end even if the client goes away: its transaction commits or rolls
        // back as a whole, never half.
        requests += 1
        let request = "\(number).\(requests)"
        if let work {
            // A read that is one piece of work on a connection: event loop → connection thread → event loop.
            // The request id is bound while the pool is asked, which carries it to the connection's thread.
            LogContext.$request.withValue(request) {
                executor.database.read(executor.guarded(work, devMode: recheck)) { result in
                    switch result {
                    case .success(let outcome): promise.succeed(outcome)
                    case .failure(let error): promise.succeed(.reply(executor.reply(for: error, command: command)))
                    }
                }
            }
        } else {
            promise.completeWithTask {
                await LogContext.$request.withValue(request) {
                    await executor.run(command, principal: principal, devMode: recheck)
                }
            }
        }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            turnBudget = shared.configuration.commandsPerTurn
            var ended = false
            if case .success(.devModeEnded) = result { ended = true }
            guard state.finished(devModeEnded: ended) != .closed else { return }
            defer { if state.closesAfterReply { closeAfterFlush(context) } }
            switch result {
            case .success(.reply(let reply)): write(context, reply, tag: command.tag, command: command.spec.name)
            case .success(.devModeEnded):
                write(
                    context,
                    .error(AdminError(.noAuth, "a principal exists now: AUTH first (the server left dev mode)")),
                    tag: command.tag,
                    command: command.spec.name
                )
                startAuthTimer(context)
            case .failure:
                write(
                    context,
                    .error(AdminError(.internal, "the command did not report its outcome")),
                    tag: command.tag,
                    command: command.spec.name
                )
            }
            process(context)
        }
    }

    // MARK: Writing

    /// Writes a reply; one to a command (`command` its name) is counted in
    /// `orderly_admin_requests_total` by command and result, whether or not the client is still there.
    private func write(_ context: ChannelHandlerContext, _ reply: AdminReply, tag: String?, command: String? = nil) {
        if let command {
            let result =
                switch reply {
                case .ok, .rows: "ok"
                case .error(let error): error.code.rawValue
                }
            shared.executor.components.metrics.adminRequest(command: command, result: result)
        }
        guard context.channel.isActive else { return }
        let text = reply.encoded(format, tag: tag)
        context.write(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    private func closeAfterFlush(_ context: ChannelHandlerContext) {
        guard state.close() else { return }
        authTimer?.cancel()
        queue.removeAll()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated()
            .whenComplete { _ in context.close(promise: nil) }
    }
}

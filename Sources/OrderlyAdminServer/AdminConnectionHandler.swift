import Logging
import NIOCore
import OrderlyAdminProtocol
import Synchronization

/// What every connection of one server shares.
final class AdminServerShared: Sendable {
    let configuration: AdminServerConfiguration
    let executor: AdminExecutor
    let table = CommandTable.standard
    let logger: Logger
    /// No principal can be required (loopback, none created): every connection acts as admin.
    let authRequired: Bool
    let clients = Atomic<Int>(0)
    let runningCommands = Atomic<Int>(0)

    init(configuration: AdminServerConfiguration, executor: AdminExecutor, logger: Logger, authRequired: Bool) {
        self.configuration = configuration
        self.executor = executor
        self.logger = logger
        self.authRequired = authRequired
    }
}

/// One admin connection: lines in, replies out, in order. Pure commands answer at once; commands
/// that touch the database run one at a time off the event loop, and later lines wait in a queue of
/// at most `maximumInFlight` (past it the handler stops reading). A slow reader stops the queue at
/// the output high-water mark, so memory stays bounded either way.
final class AdminConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shared: AdminServerShared
    private var queue = CircularBuffer<ByteBuffer>()
    private var busy = false
    private var format = AdminFormat.text
    private var principal: AdminPrincipal?
    private var authFailures = 0
    private var closing = false
    private var inputClosed = false
    private var readHeld = false
    private var counted = false

    init(shared: AdminServerShared) {
        self.shared = shared
    }

    private var authenticated: Bool { principal != nil || !shared.authRequired }

    // MARK: Connection life

    func channelActive(context: ChannelHandlerContext) {
        let clients = shared.clients.add(1, ordering: .relaxed).newValue
        counted = true
        guard clients <= shared.configuration.maximumClients else {
            write(
                context,
                .error(AdminError(.maxClients, "the server has \(shared.configuration.maximumClients) clients")),
                tag: nil
            )
            closeAfterFlush(context)
            return
        }
        let auth = shared.authRequired ? "required" : "none"
        context.writeAndFlush(
            wrapOutboundOut(context.channel.allocator.buffer(string: "OK orderly protocol=1 auth=\(auth)\n")),
            promise: nil
        )
        if shared.authRequired {
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(in: shared.configuration.authTimeout) { [weak self] in
                guard let self, self.principal == nil, !self.closing else { return }
                self.write(context, .error(AdminError(.noAuth, "no AUTH within the time allowed")), tag: nil)
                self.closeAfterFlush(context)
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { shared.clients.subtract(1, ordering: .relaxed) }
        counted = false
        closing = true
        queue.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // A half-close (nc -N): answer everything already sent, then close.
            inputClosed = true
            finishIfDrained(context)
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            // Idle past the timeout: close. A connection whose command is still running (or queued)
            // is not idle, however long the database takes.
            if !busy && queue.isEmpty { closeAfterFlush(context) }
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
        if queue.count >= shared.configuration.maximumInFlight || !context.channel.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            process(context)
            resumeReading(context)
        }
        context.fireChannelWritabilityChanged()
    }

    private func resumeReading(_ context: ChannelHandlerContext) {
        if readHeld && queue.count < shared.configuration.maximumInFlight && context.channel.isWritable {
            readHeld = false
            context.read()
        }
    }

    // MARK: Requests

    private func process(_ context: ChannelHandlerContext) {
        while !busy, !closing, context.channel.isWritable, let line = queue.popFirst() {
            handle(line, context)
        }
        context.flush()
        resumeReading(context)
        finishIfDrained(context)
    }

    private func finishIfDrained(_ context: ChannelHandlerContext) {
        if inputClosed && queue.isEmpty && !busy && !closing { closeAfterFlush(context) }
    }

    private func handle(_ buffer: ByteBuffer, _ context: ChannelHandlerContext) {
        let bytes = buffer.readableBytesView
        // An HTTP header line anywhere means a confused client: stop before running anything more.
        if bytes.count >= 5, bytes.prefix(5).map({ $0 | 0x20 }) == Array("host:".utf8) {
            closing = true
            queue.removeAll()
            context.close(promise: nil)
            return
        }
        let limit = (authenticated ? AdminLimits.maximumArguments : AdminLimits.maximumArgumentsBeforeAuth) + 2
        let command: BoundCommand
        do {
            guard let request = try AdminRequest.parse(bytes, maximumTokens: limit) else { return }
            do throws(AdminError) {
                command = try shared.table.bind(request)
                let arguments = request.tokens.count - (command.spec.sub == nil ? 1 : 2)
                let allowed = limit - 2
                guard arguments <= allowed else {
                    throw AdminError(
                        .tooManyArguments,
                        "more than \(allowed) arguments\(authenticated ? "" : " before AUTH")"
                    )
                }
            } catch {
                write(context, .error(error), tag: request.tag)
                return
            }
        } catch {
            write(context, .error(error), tag: nil)
            if error.code == .lineTooLong { closeAfterFlush(context) }
            return
        }
        let tag = command.tag
        switch command.spec.name {
        case "PING":
            write(context, .ok(AdminField("pong", true)), tag: tag)
        case "QUIT":
            write(context, .ok(AdminField("bye", true)), tag: tag)
            closeAfterFlush(context)
        case "HELLO":
            if let requested = command.text("format").flatMap(AdminFormat.init(rawValue:)) { format = requested }
            write(
                context,
                .ok(
                    AdminField("server", "orderly"),
                    AdminField("protocol", 1),
                    AdminField("auth", shared.authRequired ? "required" : "none"),
                    AdminField("user", principal?.name),
                    AdminField("format", format.rawValue)
                ),
                tag: tag
            )
        case "HELP":
            do {
                write(context, try shared.table.help(verb: command.text("verb"), sub: command.text("sub")), tag: tag)
            } catch {
                write(context, .error(error), tag: tag)
            }
        case "AUTH":
            authenticate(command, context)
        default:
            guard authenticated else {
                write(context, .error(AdminError(.noAuth, "AUTH first; HELP lists what runs before it")), tag: tag)
                return
            }
            let role = principal?.role ?? .admin
            if let needed = command.spec.role, role < needed {
                write(
                    context,
                    .error(
                        AdminError(
                            .forbidden,
                            "\(command.spec.name) needs the \(needed.rawValue) role; you are \(role.rawValue)"
                        )
                    ),
                    tag: tag
                )
                return
            }
            run(command, context)
        }
    }

    private func authenticate(_ command: BoundCommand, _ context: ChannelHandlerContext) {
        let user = command.text("user") ?? ""
        let secret = command.text("secret") ?? ""
        let executor = shared.executor
        let promise = context.eventLoop.makePromise(of: AdminPrincipal?.self)
        busy = true
        promise.completeWithTask { try await executor.authenticate(user: user, secret: secret) }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            busy = false
            switch result {
            case .success(let principal?):
                self.principal = principal
                write(
                    context,
                    .ok(AdminField("user", principal.name), AdminField("role", principal.role.rawValue)),
                    tag: command.tag
                )
            case .success(nil):
                authFailures += 1
                write(context, .error(AdminError(.authFailed, "wrong user or secret")), tag: command.tag)
                if authFailures >= shared.configuration.maximumAuthFailures { closeAfterFlush(context) }
            case .failure(let error):
                shared.logger.error("AUTH failed", metadata: ["error": "\(error)"])
                write(context, .error(AdminError(.internal, "authentication is unavailable")), tag: command.tag)
            }
            process(context)
        }
    }

    private func run(_ command: BoundCommand, _ context: ChannelHandlerContext) {
        let executor = shared.executor
        let principal = self.principal
        let shared = self.shared
        let promise = context.eventLoop.makePromise(of: AdminReply.self)
        busy = true
        shared.runningCommands.add(1, ordering: .relaxed)
        // The command runs to its end even if the client goes away: its transaction commits or rolls
        // back as a whole, never half.
        if let work = executor.connectionWork(command) {
            // A read that is one piece of work on a connection: event loop → connection thread → event loop.
            executor.database.pool.withConnection(work) { result in
                shared.runningCommands.subtract(1, ordering: .relaxed)
                switch result {
                case .success(let reply): promise.succeed(reply)
                case .failure(let error): promise.succeed(executor.reply(for: error, command: command))
                }
            }
        } else {
            promise.completeWithTask {
                defer { shared.runningCommands.subtract(1, ordering: .relaxed) }
                return await executor.run(command, principal: principal)
            }
        }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            busy = false
            guard !closing else { return }
            switch result {
            case .success(let reply): write(context, reply, tag: command.tag)
            case .failure: write(context, .error(AdminError(.internal, "the command did not finish")), tag: command.tag)
            }
            process(context)
        }
    }

    // MARK: Writing

    private func write(_ context: ChannelHandlerContext, _ reply: AdminReply, tag: String?) {
        guard context.channel.isActive else { return }
        let text = reply.encoded(format, tag: tag)
        context.write(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    private func closeAfterFlush(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        queue.removeAll()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated()
            .whenComplete { _ in context.close(promise: nil) }
    }
}

import NIOCore

/// Tells the connection handler (a user event) when nothing was read and no write completed for
/// `timeout`. Like NIO's `IdleStateHandler` with an all-timeout, but on the event loop's own clock
/// (`EventLoop.now`), so a test on an `EmbeddedEventLoop` moves it exactly. A write counts when it
/// completes: a peer that never reads its replies goes idle.
final class ConnectionIdleHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The user event: idle for the timeout.
    struct Idle: Sendable {}

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.distantPast
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        schedule(context, at: lastActivity + timeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            self?.lastActivity = context.eventLoop.now
        }
        context.write(data, promise: written)
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self, context.channel.isActive else { return }
            let due = self.lastActivity + self.timeout
            if context.eventLoop.now >= due {
                self.schedule(context, at: context.eventLoop.now + self.timeout)
                context.fireUserInboundEventTriggered(Idle())
            } else {
                self.schedule(context, at: due)
            }
        }
    }
}

import NIOCore

/// Bounds how long one request line may take to arrive, from its first byte to its LF.
///
/// The idle timeout alone cannot stop a peer that sends a byte just before it fires (slowloris):
/// 1,024 of them hold every connection slot forever. This handler sits before the line framer, sees
/// the raw bytes, and tells the connection handler (a user event) when a line has been incomplete for
/// longer than `timeout`; the connection handler decides, since only it knows whether the server was
/// the slow one (a command running, reads held back). While the line stays incomplete the event
/// repeats every `timeout`.
final class LineDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The user event: a line has been arriving for longer than the deadline.
    struct Exceeded: Sendable {}

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        if let lastLF = bytes.lastIndex(of: UInt8(ascii: "\n")) {
            // The line that was arriving is complete; whatever follows the last LF starts a new one now.
            timer?.cancel()
            timer = nil
            if lastLF < bytes.index(before: bytes.endIndex) { arm(context) }
        } else if !bytes.isEmpty && timer == nil {
            arm(context)
        }
        context.fireChannelRead(data)
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

    private func arm(_ context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.arm(context)
            context.fireUserInboundEventTriggered(Exceeded())
        }
    }
}

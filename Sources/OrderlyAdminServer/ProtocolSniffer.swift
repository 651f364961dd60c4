import NIOCore

/// Looks at the first bytes of a connection: a TLS ClientHello (first byte 0x16) or an HTTP request
/// line closes it before anything is parsed, so nothing pipelined after them runs. Otherwise it
/// removes itself and passes the bytes on.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let httpMethods = ["GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "]
        .map { Array($0.utf8) }
    private var seen: [UInt8] = []
    private var held: [ByteBuffer] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        held.append(buffer)
        seen += buffer.readableBytesView.prefix(8 - min(8, seen.count))
        if seen.first == 0x16 || Self.httpMethods.contains(where: { seen.starts(with: $0) }) {
            held.removeAll()
            context.close(promise: nil)
            return
        }
        // Undecided while what came so far could still become an HTTP method.
        let undecided = seen.count < 8 && Self.httpMethods.contains { $0.starts(with: seen) }
        if undecided { return }
        for buffer in held { context.fireChannelRead(wrapInboundOut(buffer)) }
        held.removeAll()
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if held.isEmpty { context.fireChannelReadComplete() } else { context.read() }
    }
}

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// What a TLS client trusts and checks: the server's certificate must chain to `trustRoots` (the
/// system's store when nil) and name the server: `serverName`, or when that is nil the host given
/// (a host given as an address is sent no SNI). swift-nio-ssl's rule: a certificate is also taken
/// when one of its IP addresses is the address connected to.
public struct TLSClientSettings: Sendable {
    /// A PEM file of the certificate authorities to trust, instead of the system's.
    public var trustRoots: String?
    /// The name the certificate must carry, when it is not the host connected to.
    public var serverName: String?

    public init(trustRoots: String? = nil, serverName: String? = nil) {
        self.trustRoots = trustRoots
        self.serverName = serverName
    }
}

/// TLS on a socket that is already connected, read and written blocking: swift-nio-ssl runs the
/// protocol on an event loop, and this hands the bytes across, each wait bounded by a timeout. The
/// channel gets a duplicate of the descriptor, which it owns and closes; the caller keeps owning
/// (and closes) its own, whatever happens here.
final class TLSStream {
    private let channel: any Channel
    private let inbox: TLSInbox

    init(socket: Int32, host: String, settings: TLSClientSettings, timeout: Double) throws(LineSocketError) {
        let inbox = TLSInbox()
        let context: NIOSSLContext
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .fullVerification
            if let path = settings.trustRoots { configuration.trustRoots = .file(path) }
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw LineSocketError("cannot use the TLS settings: \(error)")
        }
        let duplicate = dup(socket)
        guard duplicate >= 0 else { throw LineSocketError("dup() failed: \(String(cString: strerror(errno)))") }
        // SNI carries names, never addresses: a host given as an address is checked against the
        // certificate's addresses (swift-nio-ssl does that when no name is given).
        let name = settings.serverName ?? (Self.isAddress(host) ? nil : host)
        do {
            channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: name)
                        )
                        try channel.pipeline.syncOperations.addHandler(inbox)
                    }
                }
                .withConnectedSocket(duplicate).wait()
        } catch {
            // The duplicate is not closed here: past the point where NIO made its channel, NIO has
            // closed it, and closing a number twice could close another thread's new descriptor.
            throw LineSocketError("cannot start TLS with \(host): \(error)")
        }
        self.inbox = inbox
        do {
            try inbox.waitForHandshake(timeout: timeout)
        } catch {
            channel.close(promise: nil)
            throw LineSocketError("TLS handshake with \(host) failed: \(error.description)")
        }
    }

    deinit { channel.close(promise: nil) }

    static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    func send(_ bytes: [UInt8], timeout: Double) throws(LineSocketError) {
        let written = channel.writeAndFlush(ByteBuffer(bytes: bytes))
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        written.whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else {
            channel.close(promise: nil)
            throw LineSocketError("send failed: timed out")
        }
        if case .failure(let error) = outcome.withLock({ $0 }) { throw LineSocketError("send failed: \(error)") }
    }

    /// The next bytes the peer sent, or nil once it has closed.
    func receive(timeout: Double) throws(LineSocketError) -> [UInt8]? {
        try inbox.take(timeout: timeout)
    }

    func shutdownWrite() { channel.close(mode: .output, promise: nil) }
}

/// The end of the channel the blocking side reads from: bytes, the handshake, the close, an error.
private final class TLSInbox: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    // Everything below is read and written under `condition`'s lock only.
    private let condition = NSCondition()
    private var bytes: [UInt8] = []
    private var handshaken = false
    private var closed = false
    private var failure: (any Error)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        update { $0.bytes += buffer.readableBytesView }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { update { $0.handshaken = true } }
        if case ChannelEvent.inputClosed = event { update { $0.closed = true } }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A peer that closes the socket without TLS's close_notify has closed, nothing worse.
        if case NIOSSLError.uncleanShutdown = error {
            update { $0.closed = true }
        } else {
            update { $0.failure = $0.failure ?? error }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        update { $0.closed = true }
    }

    private func update(_ change: (TLSInbox) -> Void) {
        condition.lock()
        change(self)
        condition.broadcast()
        condition.unlock()
    }

    func waitForHandshake(timeout: Double) throws(LineSocketError) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !handshaken {
            if let failure { throw LineSocketError("\(failure)") }
            if closed { throw LineSocketError("the server closed the connection") }
            guard condition.wait(until: deadline) else { throw LineSocketError("timed out") }
        }
    }

    func take(timeout: Double) throws(LineSocketError) -> [UInt8]? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while bytes.isEmpty {
            if let failure { throw LineSocketError("read failed: \(failure)") }
            if closed { return nil }
            guard condition.wait(until: deadline) else { throw LineSocketError("read failed: timed out") }
        }
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}

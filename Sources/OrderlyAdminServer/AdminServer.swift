public import Logging
public import NIOCore
import NIOExtras
public import NIOPosix
import NIOSSL
public import Orderly
import OrderlyAdminProtocol
public import ServiceLifecycle
import Synchronization

/// `orderly serve`: the admin protocol on TCP, as a swift-service-lifecycle `Service`. On graceful
/// shutdown (SIGTERM through the ServiceGroup) it stops accepting, waits for running commands to
/// finish (up to `shutdownGrace`), then closes the connections.
public final class AdminServer: Service, Sendable {
    let configuration: AdminServerConfiguration
    let database: OrderlyDatabase
    let components: OrderlyComponents
    let logger: Logger
    let group: any EventLoopGroup
    private let bound = Mutex<(channel: any Channel, quiesce: ServerQuiescingHelper)?>(nil)
    private let children = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let ready = Mutex<[CheckedContinuation<SocketAddress, any Error>]>([])
    private let address = Mutex<SocketAddress?>(nil)
    private let accepting = Atomic<Bool>(false)

    public init(
        configuration: AdminServerConfiguration,
        database: OrderlyDatabase,
        components: OrderlyComponents = .standard,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.database = database
        self.components = components
        self.logger = logger
        self.group = group
    }

    /// The address the server listens on, once it does (port 0 binds a free one).
    public func localAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let known: SocketAddress? = address.withLock { address in
                if address == nil { ready.withLock { $0.append(continuation) } }
                return address
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    public func run() async throws {
        if !configuration.isLoopback && configuration.tls == nil && !configuration.insecurePlaintext {
            throw AdminServerError(
                "a server bound to \(configuration.host) must use TLS: give --tls-cert and --tls-key, "
                    + "or --insecure-plaintext where something else encrypts the traffic (a TLS proxy, a private network)"
            )
        }
        let principals = try await AdminAccess(database: database).principalCount()
        if !configuration.isLoopback && principals == 0 {
            throw AdminServerError(
                "a server bound to \(configuration.host) requires auth, and no principal exists: "
                    + "create one with `orderly admin-user add NAME --role admin`"
            )
        }
        let shared = AdminServerShared(
            configuration: configuration,
            executor: AdminExecutor(database: database, components: components, logger: logger),
            logger: logger
        )
        let configuration = self.configuration
        let quiesce = ServerQuiescingHelper(group: group)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.outputHighWaterMark / 2, high: configuration.outputHighWaterMark)
            )
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    try channel.pipeline.syncOperations.addHandlers(Self.connectionHandlers(shared))
                    self?.track(channel)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        bound.withLock { $0 = (channel, quiesce) }
        accepting.store(true, ordering: .releasing)
        let local = channel.localAddress
        let waiting = address.withLock { address in
            address = local
            return ready.withLock { waiting in
                defer { waiting.removeAll() }
                return waiting
            }
        }
        if let local { waiting.forEach { $0.resume(returning: local) } }
        logger.info(
            "admin server listening",
            metadata: [
                "address": "\(local.map { "\($0)" } ?? "?")",
                "tls": "\(configuration.tls == nil ? "off" : "on")",
                "auth":
                    "\(principals > 0 || !configuration.isLoopback ? "required" : "none (dev mode until a principal exists)")",
            ]
        )

        let drained = group.next().makePromise(of: Void.self)
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.accepting.store(false, ordering: .releasing)
            quiesce.initiateShutdown(promise: nil)
        }
        accepting.store(false, ordering: .releasing)
        // Stopped accepting (swift-nio-extras' quiescing helper closed the listener and told every
        // connection to quiesce: each finishes its running command, writes the reply and closes).
        // Whatever is still open after the grace period is closed.
        quiesce.initiateShutdown(promise: drained)
        let grace = drained.futureResult.eventLoop.scheduleTask(in: configuration.shutdownGrace) {
            for child in self.children.withLock({ Array($0.values) }) {
                child.close(promise: Optional<EventLoopPromise<Void>>.none)
            }
        }
        try? await drained.futureResult.get()
        grace.cancel()
        logger.info("admin server stopped")
    }

    /// One connection's pipeline (after the TLS handler, when the port has TLS), in order: the idle timer, the HTTP/TLS sniffer, the line deadline
    /// (which must see raw bytes), the line framer (bounded), the protocol.
    static func connectionHandlers(_ shared: AdminServerShared) -> [any ChannelHandler] {
        [
            ConnectionIdleHandler(timeout: shared.configuration.idleTimeout),
            ProtocolSniffer(),
            LineDeadlineHandler(timeout: shared.configuration.lineTimeout),
            ByteToMessageHandler(
                LineBasedFrameDecoder(),
                maximumBufferSize: AdminLimits.maximumLineLength + 2
            ),
            AdminConnectionHandler(shared: shared),
        ]
    }

    /// Whether the server listens and takes connections: false before it binds and from the moment a
    /// shutdown begins (a readiness probe's "accepting").
    public var isAccepting: Bool { accepting.load(ordering: .acquiring) }

    /// Stops accepting and ends `run()` as a graceful shutdown would (for embedding and tests).
    public func shutdown() {
        accepting.store(false, ordering: .releasing)
        bound.withLock { $0 }?.quiesce.initiateShutdown(promise: nil)
    }

    private func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        children.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.children.withLock { $0.removeValue(forKey: key) }
        }
    }
}

public struct AdminServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

import Hummingbird
public import Logging
import NIOCore
public import Orderly
public import ServiceLifecycle
import Synchronization

/// The HTTP side door of `orderly serve` and `orderly worker` (`--http-port`), a Hummingbird 2
/// application run as a swift-service-lifecycle `Service`:
///
/// - `GET /healthz`: 200 while the process runs (a liveness probe);
/// - `GET /readyz`: 200 when the process can do its work (the database answers, its schema is one this
///   binary works with, and for `serve` the admin port accepts), else 503 with one line per problem;
/// - `GET /metrics`: the Prometheus text exposition (`MetricsExposition`);
/// - `POST /channels/{name}/orders` (`orderly serve`, with an ingest): a platform's order document
///   for a connected channel (`ChannelIngest`), authenticated the way the platform signs it.
///
/// Binds 127.0.0.1 unless told otherwise. Put it behind a TLS-terminating proxy before exposing the
/// ingest beyond the host.
public final class HTTPSideDoor: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 binds any free port (`localPort()` says which).
        public var port: Int
        /// The largest order document accepted (413 beyond).
        public var maximumBodyBytes: Int

        public init(host: String = "127.0.0.1", port: Int, maximumBodyBytes: Int = 4 << 20) {
            self.host = host
            self.port = port
            self.maximumBodyBytes = maximumBodyBytes
        }
    }

    let configuration: Configuration
    let readiness: @Sendable () async -> [String]
    let exposition: MetricsExposition
    let ingest: ChannelIngest?
    let logger: Logger
    private let bound = Mutex<(port: Int?, waiting: [CheckedContinuation<Int, Never>])>((nil, []))

    /// `readiness` lists what keeps the process from working (empty: ready).
    public init(
        configuration: Configuration,
        readiness: @escaping @Sendable () async -> [String],
        exposition: MetricsExposition,
        ingest: ChannelIngest? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.readiness = readiness
        self.exposition = exposition
        self.ingest = ingest
        self.logger = logger
    }

    /// The port the side door listens on, once it does.
    public func localPort() async -> Int {
        await withCheckedContinuation { continuation in
            let known: Int? = bound.withLock { state in
                if state.port == nil { state.waiting.append(continuation) }
                return state.port
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    public func run() async throws {
        let application = Application(
            router: router(),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "orderly"
            ),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? configuration.port
                let waiting = bound.withLock { state in
                    state.port = port
                    defer { state.waiting.removeAll() }
                    return state.waiting
                }
                waiting.forEach { $0.resume(returning: port) }
                logger.info("http side door listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
            },
            logger: logger
        )
        try await application.runService()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let (readiness, exposition) = (self.readiness, self.exposition)
        router.get("healthz") { _, _ in Self.text(.ok, "ok\n") }
        router.get("readyz") { _, _ in
            let problems = await readiness()
            return problems.isEmpty
                ? Self.text(.ok, "ready\n")
                : Self.text(.serviceUnavailable, problems.map { $0 + "\n" }.joined())
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: await exposition.render()))
            )
        }
        if let ingest {
            let (limit, logger) = (configuration.maximumBodyBytes, self.logger)
            router.post("channels/:name/orders") { request, context in
                await ChannelRoute(ingest: ingest, maximumBodyBytes: limit, logger: logger)
                    .respond(request, channel: context.parameters.get("name") ?? "")
            }
        }
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}

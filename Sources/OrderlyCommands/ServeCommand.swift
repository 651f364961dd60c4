import ArgumentParser
import Logging
import Orderly
import OrderlyAdminServer
import OrderlyHTTP
import ServiceLifecycle
import UnixSignals

/// `orderly serve`: the admin protocol server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the admin protocol over TCP (docs/admin-protocol.md).",
        discussion: """
            Binds 127.0.0.1 by default. A server bound elsewhere requires AUTH and refuses to start \
            until a principal exists (orderly admin-user add), and requires TLS (--tls-cert and \
            --tls-key, PEM files) unless --insecure-plaintext says something else encrypts the \
            traffic. On loopback with no principal, every connection acts as admin (dev mode). \
            SIGHUP: read the certificate and key again (new connections get them; a pair that does not \
            load is logged and the old one kept). SIGTERM or SIGINT: stop accepting, finish running \
            commands, close.

            Example:
              orderly serve --port 7420
              printf 'PING\\n' | nc -q1 127.0.0.1 7420
              orderly serve --host 0.0.0.0 --tls-cert /etc/orderly/cert.pem --tls-key /etc/orderly/key.pem
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var logging: LoggingOptions

    @OptionGroup var http: HTTPOptions

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 for any free port).")
    var port = 7420

    @Option(help: "Most clients at once.")
    var maxClients = 1024

    @Option(help: "Most PostgreSQL connections this process opens.")
    var poolSize = 10

    @Option(help: "A PEM file with the admin port's certificate (and its chain): the port speaks TLS.")
    var tlsCert: String?

    @Option(help: "A PEM file with the private key of --tls-cert.")
    var tlsKey: String?

    @Flag(help: "Serve plaintext on a non-loopback address (a TLS proxy or a private network encrypts).")
    var insecurePlaintext = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard (1...100_000).contains(maxClients) else { throw ValidationError("--max-clients must be 1...100000") }
        guard (1...1000).contains(poolSize) else { throw ValidationError("--pool-size must be 1...1000") }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together: give both or neither")
        }
        guard tlsCert == nil || !insecurePlaintext else {
            throw ValidationError("--insecure-plaintext contradicts --tls-cert: choose one")
        }
    }

    func run() async throws {
        let logger = logging.logger("orderly.serve")
        let exposition = http.exposition()
        let orderly = try await OrderlyDatabase.open(
            url: try database.resolve(logger: logger).url,
            poolSize: poolSize,
            metrics: exposition?.metrics,
            logger: logger
        )
        var settings = AdminServerConfiguration(host: host, port: port)
        settings.maximumClients = maxClients
        settings.insecurePlaintext = insecurePlaintext
        if let tlsCert, let tlsKey { settings.tls = try AdminTLS(certificatePath: tlsCert, keyPath: tlsKey) }
        // The composition root: what this process routes, holds, quotes and verifies with, decided here.
        var components = OrderlyComponents.standard
        if let exposition { components.metrics = exposition.metrics }
        try await warnAboutUnroutableChannels(database: orderly, components: components, logger: logger)
        let server = AdminServer(configuration: settings, database: orderly, components: components, logger: logger)
        let sideDoor = http.sideDoor(
            database: orderly,
            exposition: exposition,
            ingest: ChannelIngest(database: orderly, actor: "http", components: components),
            logger: logger
        ) {
            await orderly.readinessProblems() + (server.isAccepting ? [] : ["admin: not accepting connections"])
        }
        // SIGHUP is trapped before the port opens: a signal that came before the trap would end the
        // process (its default action).
        var reloader: TLSReloadOnHangup?
        if let tls = settings.tls {
            reloader = TLSReloadOnHangup(
                tls: tls,
                hangups: await UnixSignalsSequence(trapping: .sighup),
                logger: logger
            )
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [server] + (sideDoor.map { [$0] } ?? []) + (reloader.map { [$0] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            await orderly.close()
            throw error
        }
        await orderly.close()
    }
}

/// SIGHUP makes the admin port read its certificate and key again (a renewed certificate without a
/// restart); one that does not load is logged and the pair in use kept.
struct TLSReloadOnHangup: Service {
    let tls: AdminTLS
    let hangups: UnixSignalsSequence
    let logger: Logger

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            do {
                try tls.reload()
                logger.info("admin TLS certificate reloaded", metadata: ["certificate": "\(tls.certificatePath)"])
            } catch {
                logger.error(
                    "admin TLS certificate not reloaded; the one in use stays",
                    metadata: ["error": "\(error.description)"]
                )
            }
        }
    }
}

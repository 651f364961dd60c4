import ArgumentParser
import Foundation
import LineSocket
import Logging
import Orderly
import OrderlyHTTP

/// `--http-host` and `--http-port`: the side door of `serve` and `worker` (`/healthz`, `/readyz`,
/// `/metrics`). Off unless a port is given.
package struct HTTPOptions: ParsableArguments {
    @Option(help: "Address the HTTP side door (/healthz, /readyz, /metrics) binds.")
    var httpHost = "127.0.0.1"

    @Option(
        help:
            "Port of the HTTP side door (0 for any free port; serve adds POST /channels/{name}/orders); none: no side door."
    )
    var httpPort: Int?

    @Option(help: "Largest order document POST /channels/{name}/orders accepts, in bytes (serve).")
    var httpMaxBody = 4 << 20

    package init() {}

    package func validate() throws {
        if let httpPort, !(0...65535).contains(httpPort) {
            throw ValidationError("--http-port must be 0...65535")
        }
        guard (1024...(256 << 20)).contains(httpMaxBody) else {
            throw ValidationError("--http-max-body must be 1024...268435456")
        }
    }

    /// Where the services' metrics go: a Prometheus registry when the side door is on, else nowhere.
    func exposition() -> MetricsExposition? {
        httpPort == nil ? nil : MetricsExposition()
    }

    /// The side door, when a port is given; the pool and the queue are read at each scrape.
    func sideDoor(
        database: OrderlyDatabase,
        exposition: MetricsExposition?,
        ingest: ChannelIngest? = nil,
        logger: Logger,
        readiness: @escaping @Sendable () async -> [String]
    ) -> HTTPSideDoor? {
        guard let httpPort, let exposition else { return nil }
        exposition.observePool(of: database)
        exposition.observeQueues(in: database)
        return HTTPSideDoor(
            configuration: .init(host: httpHost, port: httpPort, maximumBodyBytes: httpMaxBody),
            readiness: readiness,
            exposition: exposition,
            ingest: ingest,
            logger: logger
        )
    }
}

/// `orderly probe`: one GET against a side door, for a container's health check (the image has no
/// curl). Exit 0 on a 2xx answer, 1 otherwise, with the answer's body on standard error.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "GET a path of a local HTTP side door; exit 0 on 2xx (a container's health check).",
        discussion: """
            Example (the image's health check, with ORDERLY_HTTP_PORT set):
              orderly probe --path /readyz
            """
    )

    @Option(help: "Host of the side door.")
    var httpHost = "127.0.0.1"

    @Option(help: "Port of the side door.")
    var httpPort: Int

    @Option(help: "Path to GET.")
    var path = "/readyz"

    @Option(help: "Seconds to wait for the answer.")
    var timeout = 5.0

    func validate() throws {
        guard (1...65535).contains(httpPort) else { throw ValidationError("--http-port must be 1...65535") }
        guard path.hasPrefix("/"), path.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw ValidationError("--path must start with / and hold no spaces or control characters")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be > 0") }
    }

    func run() throws {
        let answer: HTTPAnswer
        do {
            answer = try HTTPAnswer.get(host: httpHost, port: httpPort, path: path, timeout: timeout)
        } catch {
            JSONLogHandler.standardError("probe: \(httpHost):\(httpPort)\(path): \(error)\n")
            throw ExitCode.failure
        }
        guard (200..<300).contains(answer.status) else {
            JSONLogHandler.standardError("probe: \(path) answered \(answer.status)\n\(answer.body)\n")
            throw ExitCode.failure
        }
    }
}

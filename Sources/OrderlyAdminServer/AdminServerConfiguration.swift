import NIOCore

/// Where the admin server listens and the limits it enforces (docs/admin-protocol.md, "Limits").
public struct AdminServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var maximumClients = 1024
    /// Requests read but not yet answered, per connection, before the server stops reading.
    public var maximumInFlight = 128
    /// Reply bytes queued for a slow reader before the server stops running its requests.
    public var outputHighWaterMark = 1 << 20
    public var idleTimeout = TimeAmount.seconds(300)
    public var authTimeout = TimeAmount.seconds(10)
    public var maximumAuthFailures = 3
    /// How long a graceful shutdown waits for running commands.
    public var shutdownGrace = TimeAmount.seconds(30)

    public init(host: String = "127.0.0.1", port: Int = 7420) {
        self.host = host
        self.port = port
    }

    /// Loopback addresses: the only ones a server may bind without auth.
    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }
}

public import NIOCore

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
    /// The longest one request line may take from its first byte to its LF (slowloris).
    public var lineTimeout = TimeAmount.seconds(60)
    public var maximumAuthFailures = 3
    /// Failed AUTHs per principal name or peer address (across connections) before each further
    /// attempt must wait a delay that doubles up to `maximumAuthDelay`.
    public var authFailuresBeforeDelay = 5
    public var maximumAuthDelay = TimeAmount.seconds(60)
    /// Pure commands (PING, HELP, ...) one connection answers before it yields the event loop to the
    /// other connections on it: 100,000 pipelined PINGs cannot hold the others back.
    public var commandsPerTurn = 64
    /// How long a graceful shutdown waits for running commands.
    public var shutdownGrace = TimeAmount.seconds(30)
    /// The clock of the AUTH throttle (injected by tests).
    public var clock: @Sendable () -> NIODeadline = { NIODeadline.now() }

    /// PBKDF2 rounds for re-hashed secrets: a principal whose stored hash has fewer is upgraded at
    /// its next successful AUTH (and an unknown user's check costs as much).
    public var passwordIterations = PasswordHash.iterations

    /// The certificate and key of a TLS port; nil for plaintext.
    public var tls: AdminTLS?
    /// Lets a server bound off loopback run without TLS (something else encrypts the traffic).
    public var insecurePlaintext = false

    public init(host: String = "127.0.0.1", port: Int = 7420) {
        self.host = host
        self.port = port
    }

    /// Loopback addresses: the only ones a server may bind without auth.
    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }
}

public import ArgumentParser
import Foundation
import LineSocket
import Logging
import Orderly
import OrderlyCore
import OrderlyHTTP
public import OrderlyWorker
import ServiceLifecycle
import UnixSignals

/// `orderly worker`: drains the job queue (fulfillment, notifications, alerts, sweeps).
public struct WorkerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run jobs: pick, pack, label, ship, carrier events, notifications, alerts, sweeps.",
        discussion: """
            Claims due jobs with FOR UPDATE SKIP LOCKED, so any number of workers can run against one \
            database. Wakes on NOTIFY (channel orderly_jobs) and polls as a fallback. SIGTERM or SIGINT: \
            stop claiming, finish running jobs, exit.

            Sweeps (every --sweep-seconds, one pending per kind across all workers): unpaid \
            reservation expiry, backorder retry, promises at risk, the channels' stock feed, the \
            analytics refresh, and pruning of finished jobs past their retention.

            Webhook notifications (a connected channel's order updates and stock feed) are POSTed to \
            the channel's URL, signed with --webhook-secret-file (X-Orderly-Signature: sha256=HMAC). \
            E-mail goes to the log unless --smtp names a relay or a provider (SMS is logged). Port 587 means STARTTLS and 465 TLS unless --smtp-security says \
            otherwise; STARTTLS is required once asked for (no fallback to the clear), and \
            --smtp-user with --smtp-password-file authenticates (AUTH PLAIN or LOGIN, over TLS only). \
            Low-stock alerts go to --alerts-to over --alerts-channel.

            Example:
              orderly worker --concurrency 8
              orderly worker --smtp 127.0.0.1:25 --mail-from orders@example.com
              orderly worker --smtp smtp.example.net:587 --smtp-user orders --smtp-password-file /run/secrets/smtp \
                --smtp-helo worker1.shop.example --mail-from orders@shop.example
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var logging: LoggingOptions

    @OptionGroup var http: HTTPOptions

    @Option(help: "Jobs running at once.")
    var concurrency = 4

    @Option(help: "Most PostgreSQL connections this process opens (default: --concurrency + 3).")
    var poolSize: Int?

    @Option(help: "Queues to drain, comma-separated.")
    var queues = "default,fulfillment,payments,notifications,alerts,maintenance"

    @Option(help: "Seconds a claimed job is leased for (extended while it runs; another worker rescues it after).")
    var leaseSeconds = 30.0

    @Option(help: "Seconds between looks for due jobs when no NOTIFY arrives.")
    var pollSeconds = 1.0

    @Option(help: "A file whose modification time the worker renews every second or so, for health checks.")
    var heartbeatFile: String?

    @Option(help: "Seconds between this worker's heartbeats in the database (WORKER LIST); three missed, it is dead.")
    var heartbeatSeconds = 5.0

    @Option(help: "Seconds between sweeps (unpaid reservation expiry, backorder retry); 0 turns them off.")
    var sweepSeconds = 60.0

    @Option(
        help: "Seconds between refreshes of the analytics views (checked at each sweep); 0 never refreshes them."
    )
    var analyticsRefreshSeconds = 900.0

    @Option(help: "Base of the retry backoff in seconds (attempt n waits up to base * 2^(n-1), jittered).")
    var backoffBase = 1.0

    @Option(help: "Longest retry backoff in seconds.")
    var backoffCap = 3600.0

    @Option(help: "Names this worker in jobs.attempted_by (default host-pid).")
    var id: String?

    @Option(help: "SMTP relay host:port for e-mail notifications.")
    var smtp: String?

    @Option(help: "Sender address of e-mail notifications.")
    var mailFrom = "orderly@localhost"

    @Option(help: "none, starttls or tls (default: starttls on port 587, tls on 465, none otherwise).")
    var smtpSecurity: String?

    @Option(help: "A PEM file of the authorities that sign the SMTP server's certificate (default: the system's).")
    var smtpCa: String?

    @Option(help: "SMTP AUTH user (needs --smtp-password-file and TLS).")
    var smtpUser: String?

    @Option(help: "A file holding the SMTP password (not readable by group or others).")
    var smtpPasswordFile: String?

    @Option(
        help: "A file holding the secret that signs outbound webhooks (X-Orderly-Signature; not readable by others)."
    )
    var webhookSecretFile: String?

    @Option(help: "A PEM file of the authorities to trust for https webhooks (default: the system's).")
    var webhookCa: String?

    @Option(help: "Seconds a webhook receiver has to answer.")
    var webhookTimeout = 10.0

    @Option(
        help:
            "This host's fully qualified name for EHLO and Message-IDs (default: the host's, else --mail-from's domain)."
    )
    var smtpHelo: String?

    @Option(help: "Hours to keep completed and cancelled jobs before the prune sweep deletes them.")
    var retainCompletedHours = 24.0

    @Option(help: "Hours to keep discarded jobs (their errors, for a retry) before the prune sweep deletes them.")
    var retainDiscardedHours = 168.0

    @Option(
        help: """
            Payment gateway for captures at shipment, voids and refunds: 'recording' (grants each request \
            and writes it to the outbox as a payment_instruction webhook for your payment system) or \
            'test' (scripted by the authorization's reference: capture_declines:N, capture_hangs:N).
            """
    )
    var paymentGateway = "recording"

    @Option(help: "Seconds a payment gateway request may go unanswered before it is retried.")
    var paymentTimeout = 30.0

    @Option(help: "Recipient of low-stock alerts.")
    var alertsTo = "operations"

    @Option(help: "Channel of low-stock alerts: email, sms, webhook or log.")
    var alertsChannel = "log"

    public func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1...256") }
        guard (0.1...600).contains(webhookTimeout) else { throw ValidationError("--webhook-timeout must be 0.1...600") }
        if let poolSize, !(2...1000).contains(poolSize) { throw ValidationError("--pool-size must be 2...1000") }
        guard (0.05...3600).contains(heartbeatSeconds) else {
            throw ValidationError("--heartbeat-seconds must be 0.05...3600")
        }
        guard leaseSeconds >= 1, leaseSeconds <= 86_400 else {
            throw ValidationError("--lease-seconds must be 1...86400")
        }
        guard pollSeconds >= 0.01, pollSeconds <= 3600 else {
            throw ValidationError("--poll-seconds must be 0.01...3600")
        }
        guard sweepSeconds >= 0 else { throw ValidationError("--sweep-seconds must be 0 or more") }
        guard analyticsRefreshSeconds >= 0 else {
            throw ValidationError("--analytics-refresh-seconds must be 0 or more")
        }
        guard retainCompletedHours >= 0, retainDiscardedHours >= 0, retainCompletedHours <= 87_600,
            retainDiscardedHours <= 87_600
        else { throw ValidationError("--retain-completed-hours and --retain-discarded-hours must be 0...87600") }
        guard backoffBase > 0, backoffCap >= backoffBase else {
            throw ValidationError("--backoff-base must be > 0 and --backoff-cap at least the base")
        }
        let names = queueList
        guard !names.isEmpty, names.allSatisfy({ $0.wholeMatch(of: /[a-z0-9_]{1,64}/) != nil }) else {
            throw ValidationError("--queues: comma-separated names of [a-z0-9_]{1,64}")
        }
        if let smtp {
            _ = try smtpSecurityMode(port: try Self.hostPort(smtp).1)
        } else if smtpSecurity != nil || smtpCa != nil || smtpUser != nil || smtpPasswordFile != nil || smtpHelo != nil
        {
            throw ValidationError("the --smtp-* options need --smtp host:port")
        }
        guard (smtpUser == nil) == (smtpPasswordFile == nil) else {
            throw ValidationError("--smtp-user and --smtp-password-file go together")
        }
        if let smtpHelo {
            guard SMTPNotifier.isDomain(smtpHelo) || smtpHelo.wholeMatch(of: /\[[0-9a-fA-F:.]+\]/) != nil else {
                throw ValidationError(
                    "--smtp-helo must be a fully qualified domain name or an address literal, not '\(smtpHelo)'"
                )
            }
        }
        guard ["email", "sms", "webhook", "log"].contains(alertsChannel) else {
            throw ValidationError("--alerts-channel must be email, sms, webhook or log")
        }
        if alertsChannel == "email", !SMTPNotifier.isAddress(alertsTo) {
            throw ValidationError("--alerts-to must be an e-mail address when --alerts-channel is email")
        }
        guard ["recording", "test"].contains(paymentGateway) else {
            throw ValidationError("--payment-gateway must be recording or test")
        }
        guard paymentTimeout > 0 else { throw ValidationError("--payment-timeout must be > 0") }
        guard SMTPNotifier.isAddress(mailFrom) else { throw ValidationError("--mail-from must be an e-mail address") }
    }

    public init() {}

    var queueList: [String] { queues.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    /// The SMTP connection's protection, from --smtp-security or the port's convention.
    func smtpSecurityMode(port: Int) throws -> SMTPNotifier.Security {
        let tls = TLSClientSettings(trustRoots: smtpCa)
        let mode = smtpSecurity ?? (port == 587 ? "starttls" : port == 465 ? "tls" : "none")
        switch mode {
        case "none":
            guard smtpUser == nil else {
                throw ValidationError(
                    "--smtp-user needs TLS: a password is never sent in the clear (--smtp-security starttls or tls)"
                )
            }
            guard smtpCa == nil else { throw ValidationError("--smtp-ca needs --smtp-security starttls or tls") }
            return .none
        case "starttls": return .startTLS(tls)
        case "tls": return .implicitTLS(tls)
        default: throw ValidationError("--smtp-security must be none, starttls or tls, not '\(mode)'")
        }
    }

    /// The SMTP password from --smtp-password-file: its first line, the file private to its owner.
    func smtpCredentials() throws -> SMTPNotifier.Credentials? {
        guard let smtpUser, let path = smtpPasswordFile else { return nil }
        let text = try PrivateFile.read(path)
        let password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        guard !password.isEmpty else { throw ValidationError("\(path) holds no password") }
        return SMTPNotifier.Credentials(user: smtpUser, password: password)
    }

    static func hostPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon > text.startIndex
        else { throw ValidationError("--smtp must be host:port, not '\(text)'") }
        return (String(text[..<colon]), port)
    }

    /// What a test build of the worker adds (`orderly-test-worker`, in Tests/): handlers of its own job
    /// kinds and pauses inside jobs' transactions. `orderly worker` has none.
    public struct TestHooks: Sendable {
        public var handlers: [any JobHandler]
        public var pauses: [String: Duration]

        public init(handlers: [any JobHandler] = [], pauses: [String: Duration] = [:]) {
            self.handlers = handlers
            self.pauses = pauses
        }
    }

    public func run() async throws { try await run(hooks: TestHooks()) }

    public func run(hooks: TestHooks) async throws {
        let logger = logging.logger("orderly.worker")
        let exposition = http.exposition()
        let orderly = try await OrderlyDatabase.open(
            url: try database.resolve(logger: logger).url,
            poolSize: poolSize ?? concurrency + 3,
            metrics: exposition?.metrics,
            logger: logger
        )
        var settings = WorkerConfiguration(
            queues: queueList,
            concurrency: concurrency,
            leaseSeconds: leaseSeconds,
            pollInterval: .milliseconds(Int(pollSeconds * 1000)),
            backoffBase: backoffBase,
            backoffCap: backoffCap,
            sweepInterval: sweepSeconds > 0 ? .milliseconds(Int(sweepSeconds * 1000)) : nil
        )
        if let id { settings.id = id }
        settings.heartbeatPath = heartbeatFile
        settings.heartbeatSeconds = heartbeatSeconds
        settings.pauseInTransaction = hooks.pauses
        let actor = "worker:" + settings.id
        let log = LogNotifier(logger: logger)
        let mail: any Notifier =
            if let smtp {
                try {
                    let (host, port) = try Self.hostPort(smtp)
                    return SMTPNotifier(
                        host: host,
                        port: port,
                        from: mailFrom,
                        heloName: smtpHelo,
                        security: try smtpSecurityMode(port: port),
                        credentials: try smtpCredentials(),
                        fallback: log
                    )
                }()
            } else {
                log
            }
        // The last line break of the file is not part of the secret.
        let webhookSecret = try webhookSecretFile.map { try PrivateFile.read($0).trimmingCharacters(in: .newlines) }
        if let webhookSecret, webhookSecret.utf8.count < 16 {
            throw ValidationError("--webhook-secret-file: the secret must be at least 16 bytes")
        }
        let notifier = WebhookNotifier(
            secret: webhookSecret,
            timeout: webhookTimeout,
            tls: TLSClientSettings(trustRoots: webhookCa),
            fallback: mail
        )
        // The composition root: what this process routes, holds, quotes and verifies with, decided here.
        var components = OrderlyComponents.standard
        components.gateway = paymentGateway == "test" ? ScriptedGateway() : RecordingGateway()
        components.gatewayTimeoutSeconds = paymentTimeout
        if let exposition { components.metrics = exposition.metrics }
        try await warnAboutUnroutableChannels(database: orderly, components: components, logger: logger)
        let orders = OrderService(database: orderly, actor: actor, components: components)
        let handlers = StandardJobs.handlers(
            orders: orders,
            fulfillment: FulfillmentService(database: orderly, actor: actor, components: components),
            notifier: notifier,
            alerts: AlertRoute(recipient: alertsTo, channel: alertsChannel),
            retention: JobRetention(
                completedSeconds: retainCompletedHours * 3600,
                discardedSeconds: retainDiscardedHours * 3600
            ),
            analyticsRefreshSeconds: analyticsRefreshSeconds,
            logger: logger
        )
        let worker = Worker(
            database: orderly,
            listens: true,
            handlers: handlers.transactional + hooks.handlers,
            idempotentHandlers: handlers.idempotent,
            configuration: settings,
            onDiscard: StandardJobs.onDiscard(
                orders: orders,
                alerts: AlertRoute(recipient: alertsTo, channel: alertsChannel)
            ),
            metrics: components.metrics,
            logger: logger
        )
        logger.info(
            "worker started",
            metadata: ["id": "\(settings.id)", "queues": "\(queues)", "concurrency": "\(concurrency)"]
        )
        let sideDoor = http.sideDoor(database: orderly, exposition: exposition, logger: logger) {
            await orderly.readinessProblems()
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [worker] + (sideDoor.map { [$0] } ?? []),
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
        logger.info("worker stopped", metadata: ["id": "\(settings.id)"])
        await orderly.close()
    }
}

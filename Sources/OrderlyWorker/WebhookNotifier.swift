import Foundation
public import LineSocket
import Orderly
public import OrderlyCore

/// Sends `webhook` messages (a channel's order updates, `channel_update`): `POST` of the message's
/// JSON body to its recipient URL, with
///
/// - `X-Orderly-Signature: sha256=<hex>`: HMAC-SHA256 of the body under the webhook secret, which the
///   receiver recomputes over the raw bytes (and compares in constant time);
/// - `X-Orderly-Delivery`: the notification's id, the same on every attempt: the receiver drops a
///   delivery it has seen (delivery is at least once: a worker that dies after the receiver answered
///   and before its commit sends it again);
/// - `X-Orderly-Topic`: `order.shipped`, `order.delivered`, `order.cancelled`, `order.refunded`.
///
/// A 2xx answer is delivered; anything else (or no answer within the timeout) fails the attempt and
/// the notify job retries it with backoff. Messages of other channels, and webhook messages whose
/// recipient is a name rather than an http(s) URL, go to `fallback`.
public struct WebhookNotifier: Notifier {
    /// Nil: no secret was configured, and webhook messages fail (unsigned, a receiver could not tell
    /// them from forgeries) until one is.
    public var secret: String?
    public var timeout: Double
    /// For https URLs: the authorities to trust (nil: the system's).
    public var tls: TLSClientSettings
    public var fallback: any Notifier

    public init(
        secret: String?,
        timeout: Double = 10,
        tls: TLSClientSettings = TLSClientSettings(),
        fallback: any Notifier
    ) {
        self.secret = secret
        self.timeout = timeout
        self.tls = tls
        self.fallback = fallback
    }

    public func send(_ message: OutboxEntry) throws {
        // A webhook message addressed by name, not URL (the recording gateway's `payments`), is for a
        // system that reads the outbox itself: it goes to the fallback (the log), as before.
        let lowered = message.recipient.lowercased()
        guard message.channel == "webhook", lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            return try fallback.send(message)
        }
        guard let secret else {
            throw LineSocketError("no webhook secret is configured (orderly worker --webhook-secret-file)")
        }
        let target = try WebhookTarget(message.recipient)
        let body = Array(message.body.utf8)
        var settings = tls
        if settings.serverName == nil { settings.serverName = target.host }
        let answer = try HTTPAnswer.exchange(
            method: "POST",
            host: target.host,
            port: target.port,
            path: target.path,
            headers: [
                ("Content-Type", "application/json"), ("User-Agent", "orderly"),
                ("X-Orderly-Delivery", "\(message.id)"), ("X-Orderly-Topic", message.subject),
                ("X-Orderly-Signature", "sha256=" + ChannelCredentials.webhookSignature(body, secret: secret)),
            ],
            body: body,
            tls: target.secure ? settings : nil,
            timeout: timeout
        )
        guard (200..<300).contains(answer.status) else {
            throw LineSocketError("the webhook \(message.recipient) answered \(answer.status)")
        }
    }
}

/// A webhook's URL, split: `http(s)://host[:port][/path]`.
struct WebhookTarget: Hashable {
    var secure: Bool
    var host: String
    var port: Int
    var path: String

    init(_ url: String) throws(LineSocketError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { throw LineSocketError("'\(url)' is not an http:// or https:// URL") }
        secure = scheme == "https"
        self.host = host
        port = components.port ?? (secure ? 443 : 80)
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.path = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }
}

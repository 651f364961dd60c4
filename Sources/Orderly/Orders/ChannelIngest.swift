import Crypto
import Foundation
import LibPQ
public import OrderlyChannels
public import OrderlyCore
import OrderlyStore

/// What one document came to.
public struct ChannelIngestResult: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// Captured by this delivery: its order, in the state capture left it (reserved, held by a
        /// hold rule, backordered...).
        case created(orderID: Int64, status: OrderStatus)
        /// Captured before: its order, and what this delivery changed on it (a cancellation, a new
        /// ship-to), or why a change could not be made.
        case replayed(orderID: Int64, changes: [String])
        /// Held before capture: no order yet. It is imported again when the document is sent again or
        /// an alias is added.
        case held(holds: [ChannelHold], unmapped: [String])
        /// Cancelled on the platform before Orderly captured it: no order.
        case cancelledBeforeCapture
    }

    public var externalID: String
    public var outcome: Outcome
}

/// Why a document was refused. Nothing of it is stored.
public enum ChannelIngestRefusal: Error, Hashable, CustomStringConvertible {
    /// The bytes are not a JSON document.
    case malformed(String)
    /// The document does not map: the field's path and what is wrong with it.
    case unmappable(path: String, problem: String)
    /// It maps, but to an order Orderly does not capture (the validator's reason).
    case refused(String)

    public var description: String {
        switch self {
        case .malformed(let problem): "not a JSON document: \(problem)"
        case .unmappable(let path, let problem): path.isEmpty ? problem : "\(path): \(problem)"
        case .refused(let problem): problem
        }
    }
}

/// Orders from where they are sold (docs/channels.md): a platform's document is mapped by its
/// `ChannelImporter`, its lines' identifiers matched against Orderly's SKUs and the channel's
/// `sku_aliases`, and captured through `OrderService.place` with the document recorded in the same
/// transaction; idempotent on (channel, external id). A document sent again for an order captured
/// already applies what changed on the platform through the change paths: a cancellation
/// (`OrderService.cancel`), a new ship-to (`OrderService.edit`). What cannot be mapped without a
/// guess (an unknown SKU, an address the platform withholds) is held before capture.
public struct ChannelIngest: Sendable {
    public let database: OrderlyDatabase
    public let actor: String
    public let components: OrderlyComponents

    public init(database: OrderlyDatabase, actor: String, components: OrderlyComponents = .standard) {
        self.database = database
        self.actor = actor
        self.components = components
    }

    var orders: OrderService { OrderService(database: database, actor: actor, components: components) }

    // MARK: Connections and aliases

    /// The channel's connection, or nil when it has none.
    public func connection(_ channel: SalesChannel) async throws -> ChannelConnectionRecord? {
        try await database.pool.withConnection { try $0.run(ChannelIngestStore.connection(channel)) }
    }

    /// Connects `channel` to `platform`: Shopify with its app's `secret` (the HMAC key of its
    /// webhooks), the others with the bearer `token` their connector sends (kept only as its SHA-256);
    /// `webhookURL` receives the channel's order updates and, per `stockFeed`, its stock feed.
    /// Replaces an earlier connection.
    public func connect(
        _ channel: SalesChannel,
        platform: String,
        secret: String?,
        token: String?,
        webhookURL: String?,
        stockFeed: StockFeed = StockFeed()
    ) async throws {
        guard ChannelImporters.all[platform] != nil else {
            throw OrderlyError(
                .badArgument,
                "platform: '\(platform)' is not one Orderly imports (\(ChannelImporters.all.keys.sorted().joined(separator: ", ")))"
            )
        }
        let isShopify = platform == "shopify"
        guard isShopify ? (secret != nil && token == nil) : (token != nil && secret == nil) else {
            throw OrderlyError(
                .badArgument,
                isShopify
                    ? "shopify signs its webhooks: give the app's secret, not a token"
                    : "\(platform) authenticates with a bearer token: give a token, not a secret"
            )
        }
        if let secret, !(16...512).contains(secret.utf8.count) {
            throw OrderlyError(.badArgument, "secret: \(secret.utf8.count) bytes; a secret is 16 to 512")
        }
        if let token, token.utf8.count < 16 || token.contains(where: \.isWhitespace) {
            throw OrderlyError(.badArgument, "token: at least 16 characters and no spaces")
        }
        if let webhookURL, webhookURL.wholeMatch(of: /https?:\/\/[^\/\s]+(\/\S*)?/) == nil {
            throw OrderlyError(.badArgument, "webhook: '\(webhookURL)' is not an http:// or https:// URL")
        }
        guard (0...1_000_000).contains(stockFeed.buffer), (0...1_000_000).contains(stockFeed.threshold),
            (1...1_000_000).contains(stockFeed.minimumChange)
        else {
            throw OrderlyError(
                .badArgument,
                "stock feed: buffer and threshold 0...1000000, minimum change 1...1000000"
            )
        }
        let record = ChannelConnectionRecord(
            channel: channel,
            platform: platform,
            signingSecret: secret,
            tokenSHA256: token.map(ChannelCredentials.digest),
            webhookURL: webhookURL,
            stockFeed: stockFeed
        )
        let actor = self.actor
        let rows = try await database.pool.withConnection {
            try $0.run(ChannelIngestStore.connect(record, actor: actor))
        }
        guard rows == 1 else {
            throw OrderlyError(.notFound, "there is no channel '\(channel)' (CHANNEL SET creates one)")
        }
    }

    /// Maps the channel's identifier `alias` (its SKU, an ASIN, an eBay legacyItemId) to the SKU
    /// `sku`, then imports again the channel's documents held before capture (what the alias may
    /// have unblocked). Returns what they came to.
    public func alias(_ channel: SalesChannel, alias: String, sku: String) async throws -> [ChannelIngestResult] {
        guard (1...128).contains(alias.count), !alias.contains(where: \.isNewline) else {
            throw OrderlyError(.badArgument, "alias: 1 to 128 characters on one line")
        }
        let actor = self.actor
        let id = try await database.pool.withConnection {
            try $0.run(ChannelIngestStore.alias(channel, alias: alias, skuCode: sku, actor: actor))
        }
        guard id != nil else {
            throw OrderlyError(.notFound, "there is no SKU '\(sku)' or no channel '\(channel)'")
        }
        return try await retryHeld(channel)
    }

    /// Imports again every document of the channel held before capture, oldest first.
    public func retryHeld(_ channel: SalesChannel, limit: Int = 1000) async throws -> [ChannelIngestResult] {
        let held = try await database.pool.withConnection {
            try $0.run(ChannelIngestStore.held(channel, limit: Int64(limit)))
        }
        var results: [ChannelIngestResult] = []
        for document in held {
            results.append(
                try await ingest(
                    Array(document.body.utf8),
                    channel: channel,
                    platform: document.platform,
                    redelivery: false
                )
            )
        }
        return results
    }

    // MARK: The stock feed

    /// Publishes `channel`'s stock feed (nil: every channel with a webhook) as `stock.updated`
    /// webhooks: the SKUs whose availability for the channel crossed its threshold, reached 0 or moved
    /// by its minimum change since last published, or every SKU when `full` (a resync). Returns the
    /// webhook messages written and the SKUs in them. The `publish_stock` sweep runs it for all.
    @discardableResult
    public func publishStock(
        _ channel: SalesChannel? = nil,
        full: Bool = false
    ) async throws -> (
        messages: Int, skus: Int
    ) {
        if let channel, full {
            guard let connection = try await connection(channel) else {
                throw OrderlyError(.notFound, "\(channel) is not connected (orderly channel connect)")
            }
            guard connection.webhookURL != nil else {
                throw OrderlyError(.badArgument, "\(channel) has no webhook URL to publish its stock to")
            }
        }
        let (messages, skus) = try await database.pool.transaction { tx in
            try tx.run(ChannelIngestStore.publishStock(channel, full: full))
        }
        return (messages, skus)
    }

    // MARK: Importing

    /// Imports one delivery: `body` is the platform's document (for Amazon's Orders v0, a JSON array
    /// of the order and its items). Refusals (`ChannelIngestRefusal`) store nothing. Counted in
    /// `orderly_channel_documents_total` by channel and outcome.
    public func ingest(
        _ body: [UInt8],
        channel: SalesChannel,
        platform: String,
        redelivery: Bool = true
    ) async throws -> ChannelIngestResult {
        let metrics = components.metrics
        do {
            let result = try await importing(body, channel: channel, platform: platform, redelivery: redelivery)
            let outcome =
                switch result.outcome {
                case .created: "created"
                case .replayed: "replayed"
                case .held: "held"
                case .cancelledBeforeCapture: "cancelled"
                }
            metrics.channelDocument(channel: channel.rawValue, outcome: outcome)
            return result
        } catch let refusal as ChannelIngestRefusal {
            metrics.channelDocument(channel: channel.rawValue, outcome: "refused")
            throw refusal
        }
    }

    private func importing(
        _ body: [UInt8],
        channel: SalesChannel,
        platform: String,
        redelivery: Bool
    ) async throws -> ChannelIngestResult {
        guard let importer = ChannelImporters.all[platform] else {
            throw OrderlyError(.badArgument, "platform: '\(platform)' is not one Orderly imports")
        }
        let documents = try Self.documents(body, platform: platform)
        let order: ChannelOrder
        do {
            order = try importer.importOrder(documents)
        } catch let error as ChannelImportError {
            throw ChannelIngestRefusal.unmappable(path: error.path, problem: error.problem)
        }
        let text = String(decoding: body, as: UTF8.self)
        let externalID = order.externalID.precomposedStringWithCanonicalMapping
        guard (1...128).contains(externalID.utf8.count) else {
            throw ChannelIngestRefusal.refused(
                "the order's id is \(externalID.utf8.count) bytes; Orderly keeps 1 to 128"
            )
        }
        // Whether it was captured, and what its lines' identifiers are, in one round trip.
        let (aliases, skuCodes) = Self.identifiers(order.lines)
        let (captured, found) = try await database.pool.withConnection {
            try $0.pipeline(
                ChannelIngestStore.capturedOrder(channel, externalID: externalID),
                ChannelIngestStore.resolve(channel, aliases: aliases, codes: skuCodes)
            )
        }
        if let orderID = captured {
            let changes = try await applyChanges(order, to: orderID)
            try await store(channel, externalID, platform, text, .captured, orderID: orderID, redelivery: redelivery)
            return ChannelIngestResult(externalID: externalID, outcome: .replayed(orderID: orderID, changes: changes))
        }
        if order.cancelled {
            try await store(channel, externalID, platform, text, .cancelled, redelivery: redelivery)
            return ChannelIngestResult(externalID: externalID, outcome: .cancelledBeforeCapture)
        }
        let (codes, unmapped) = Self.match(order.lines, found)
        var holds = order.holds
        if !unmapped.isEmpty { holds.append(.unmappedSKU) }
        guard holds.isEmpty, let shipTo = order.shipTo else {
            try await store(
                channel,
                externalID,
                platform,
                text,
                .held,
                holds: holds.map(\.rawValue),
                unmapped: unmapped,
                redelivery: redelivery
            )
            return ChannelIngestResult(externalID: externalID, outcome: .held(holds: holds, unmapped: unmapped))
        }
        let capture = Self.newOrder(order, channel: channel, externalID: externalID, shipTo: shipTo, codes: codes)
        let outcome: OrderOutcome
        do {
            // Orderly's total as capture computes it (checked: an overflow is refused, not trapped).
            let total = try components.policy.validator.validateWithoutCatalog(capture).totalMinor
            let channelTotal = order.totalMinor.flatMap { $0 == total ? nil : $0 }
            outcome = try await orders.place(
                capture,
                alongside: CommitAlongside { outcome in
                    [
                        ChannelIngestStore.record(
                            channel,
                            externalID: externalID,
                            platform: platform,
                            body: text,
                            state: .captured,
                            orderID: outcome.orderID,
                            channelTotalMinor: channelTotal,
                            redelivery: redelivery
                        )
                    ]
                }
            )
        } catch let error as OrderlyError where error.code == .badArgument || error.code == .insufficientStock {
            throw ChannelIngestRefusal.refused(error.message)
        }
        return ChannelIngestResult(
            externalID: externalID,
            outcome: outcome.replayed
                ? .replayed(orderID: outcome.orderID, changes: [])
                : .created(orderID: outcome.orderID, status: outcome.status)
        )
    }

    private func store(
        _ channel: SalesChannel,
        _ externalID: String,
        _ platform: String,
        _ body: String,
        _ state: ChannelDocumentState,
        holds: [String] = [],
        unmapped: [String] = [],
        orderID: Int64? = nil,
        redelivery: Bool
    ) async throws {
        try await database.pool.withConnection { connection in
            try connection.run(
                .command(
                    ChannelIngestStore.record(
                        channel,
                        externalID: externalID,
                        platform: platform,
                        body: body,
                        state: state,
                        holds: holds,
                        unmapped: unmapped,
                        orderID: orderID,
                        redelivery: redelivery
                    )
                )
            )
        }
    }

    /// The platform's documents in `body`: one, or Amazon's v0 pair as a two-element array.
    static func documents(_ body: [UInt8], platform: String) throws(ChannelIngestRefusal) -> [JSONValue] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw .malformed(error.description)
        }
        if platform == "amazon", case .array(let pair) = value, pair.count == 2 { return pair }
        return [value]
    }

    /// What to look the lines up by: every identifier as an alias, the SKUs as Orderly's codes.
    static func identifiers(_ lines: [ChannelLine]) -> (aliases: [String], codes: [String]) {
        let skus = lines.compactMap(\.sku)
        return (Array(Set(skus + lines.flatMap { $0.keys.values })), Array(Set(skus)))
    }

    /// Each line's Orderly SKU code: the channel's alias for its SKU, its SKU as Orderly's code, or
    /// the alias of one of its other keys (by key name); the identifiers nothing matched.
    static func match(
        _ lines: [ChannelLine],
        _ found: (aliases: [String: String], codes: Set<String>)
    ) -> (codes: [String], unmapped: [String]) {
        var codes: [String] = []
        var unmapped: [String] = []
        for line in lines {
            let byKey = line.keys.sorted { $0.key < $1.key }.lazy.compactMap { found.aliases[$0.value] }.first
            if let sku = line.sku, let code = found.aliases[sku] {
                codes.append(code)
            } else if let sku = line.sku, found.codes.contains(sku) {
                codes.append(sku)
            } else if let byKey {
                codes.append(byKey)
            } else {
                let name =
                    line.sku ?? line.keys.sorted { $0.key < $1.key }.first?.value
                    ?? "line \(codes.count + unmapped.count + 1)"
                if !unmapped.contains(name) { unmapped.append(name) }
                codes.append("")
            }
        }
        return (codes, unmapped)
    }

    /// The capture of a mapped document. Orderly's total is lines + shipping + tax - discount; the
    /// platform's payment is stated as covering it (where the platform's own total differs, it is
    /// kept on the document: tax-inclusive prices, tax a marketplace collects).
    static func newOrder(
        _ order: ChannelOrder,
        channel: SalesChannel,
        externalID: String,
        shipTo: PostalAddress,
        codes: [String]
    ) -> NewOrder {
        var capture = NewOrder(
            channel: channel,
            externalID: externalID,
            currency: order.currency.code,
            lines: zip(order.lines, codes).map {
                NewOrderLine(skuCode: $1, quantity: $0.quantity, unitPriceMinor: $0.unitPriceMinor)
            },
            shipTo: shipTo,
            billingCountry: order.billingCountry,
            email: order.email,
            shippingMinor: order.shippingMinor,
            taxMinor: order.taxMinor,
            discountMinor: order.discountMinor
        )
        capture.statedPayment = StatedPayment(
            status: statedStatus(order.payment),
            amountMinor: nil,
            currency: order.currency.code,
            provider: order.platform,
            reference: externalID
        )
        return capture
    }

    /// The platform's payment state as Orderly states it at capture: paid is captured, partly paid
    /// waits (pending), refunded or voided before capture is voided (nothing to collect).
    static func statedStatus(_ payment: ChannelPayment) -> PaymentStatus {
        switch payment {
        case .pending, .partiallyPaid: .pending
        case .authorized: .authorized
        case .paid, .partiallyRefunded: .captured
        case .refunded, .voided: .voided
        case .failed: .failed
        }
    }

    /// A later delivery of a captured order: what changed on the platform, applied.
    func applyChanges(_ order: ChannelOrder, to orderID: Int64) async throws -> [String] {
        let current = try await orders.order(orderID)
        let reason = "changed on \(order.platform)"
        if order.cancelled {
            guard current.status != .cancelled else { return [] }
            do {
                try await orders.cancel(orderID, reason: "cancelled on \(order.platform)")
                return ["cancelled"]
            } catch let error as IllegalTransition {
                return ["not cancelled: \(error.description)"]
            }
        }
        guard let shipTo = order.shipTo, Self.differs(shipTo, current.shipTo) else { return [] }
        var address = OrderEdit.Address()
        address.name = shipTo.name
        address.line1 = shipTo.line1
        address.line2 = shipTo.line2 ?? ""
        address.city = shipTo.city
        address.region = shipTo.region ?? ""
        address.postalCode = shipTo.postalCode ?? ""
        address.country = shipTo.country
        address.location = shipTo.location
        do {
            try await orders.edit(orderID, OrderEdit(address: address), reason: reason)
            return ["ship_to"]
        } catch let error as IllegalTransition {
            return ["ship_to not changed: \(error.description)"]
        } catch let error as OrderlyError where error.code == .badArgument {
            return ["ship_to not changed: \(error.message)"]
        }
    }

    /// Whether the platform's ship-to is not the order's (where it is does not count: geocodes vary).
    static func differs(_ new: PostalAddress, _ old: PostalAddress) -> Bool {
        var new = new
        new.location = old.location
        return new != old
    }
}

/// How a channel's deliveries are authenticated.
public enum ChannelCredentials {
    /// Shopify's `X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 of the raw body under the app's secret.
    public static func shopifySignature(_ body: [UInt8], secret: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
            .base64EncodedString()
    }

    /// Whether `header` is the body's Shopify signature, compared in constant time.
    public static func verifyShopify(_ body: [UInt8], header: String?, secret: String) -> Bool {
        guard let header, let code = Data(base64Encoded: header.trimmingCharacters(in: .whitespaces)) else {
            return false
        }
        return HMAC<SHA256>.isValidAuthenticationCode(
            code,
            authenticating: body,
            using: SymmetricKey(data: Data(secret.utf8))
        )
    }

    /// Whether `authorization` (an `Authorization` header) carries the token whose SHA-256 is `digest`,
    /// compared in constant time.
    public static func verifyBearer(_ authorization: String?, digest expected: String) -> Bool {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return false }
        let token = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let (given, wanted) = (Array(digest(token).utf8), Array(expected.utf8))
        guard given.count == wanted.count else { return false }
        return zip(given, wanted).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The SHA-256 of a token, lower-case hex: what `channel_connections` keeps of it.
    public static func digest(_ token: String) -> String {
        hex(SHA256.hash(data: Data(token.utf8)))
    }

    /// The signature of an outbound webhook (`X-Orderly-Signature: sha256=...`): HMAC-SHA256 of the
    /// body under the worker's webhook secret, lower-case hex.
    public static func webhookSignature(_ body: [UInt8], secret: String) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// Bytes as lower-case hex.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether a request with these headers is the connected channel's.
    public static func authenticates(
        _ connection: ChannelConnectionRecord,
        body: [UInt8],
        shopifyHMAC: String?,
        authorization: String?
    ) -> Bool {
        if let secret = connection.signingSecret { return verifyShopify(body, header: shopifyHMAC, secret: secret) }
        if let digest = connection.tokenSHA256 { return verifyBearer(authorization, digest: digest) }
        return false
    }
}

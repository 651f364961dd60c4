/// A channel connected to the platform its order documents come from (`channel_connections`).
public struct ChannelConnectionRecord: Hashable, Sendable {
    public var channel: SalesChannel
    /// `shopify`, `magento`, `sfcc`, `amazon` or `ebay`: which importer reads its documents.
    public var platform: String
    /// Shopify's app secret, the key of `X-Shopify-Hmac-Sha256`.
    public var signingSecret: String?
    /// The SHA-256 (hex) of the bearer token the other platforms' connectors send.
    public var tokenSHA256: String?
    /// Where the channel's order updates and stock feed go, if anywhere.
    public var webhookURL: String?
    public var stockFeed: StockFeed

    public init(
        channel: SalesChannel,
        platform: String,
        signingSecret: String?,
        tokenSHA256: String?,
        webhookURL: String?,
        stockFeed: StockFeed = StockFeed()
    ) {
        self.channel = channel
        self.platform = platform
        self.signingSecret = signingSecret
        self.tokenSHA256 = tokenSHA256
        self.webhookURL = webhookURL
        self.stockFeed = stockFeed
    }
}

/// When a channel is told how much of a SKU it may sell: all active warehouses' available units less
/// `buffer` (never below 0), published when that crosses `threshold` or reaches 0, or moves by
/// `minimumChange` or more since it was last published.
public struct StockFeed: Hashable, Sendable {
    public var buffer: Int
    public var threshold: Int
    public var minimumChange: Int

    public init(buffer: Int = 0, threshold: Int = 5, minimumChange: Int = 10) {
        self.buffer = buffer
        self.threshold = threshold
        self.minimumChange = minimumChange
    }
}

/// Where a document a channel sent stands (`channel_documents.state`).
public enum ChannelDocumentState: String, Sendable, Hashable, CaseIterable {
    /// Its order exists.
    case captured
    /// Held before capture: a SKU no alias maps, or an address the platform withholds.
    case held
    /// Cancelled on the platform before Orderly ever captured it.
    case cancelled
}

/// A document as stored, the latest delivery.
public struct ChannelDocumentRecord: Hashable, Sendable {
    public var channel: SalesChannel
    public var externalID: String
    /// The platform whose importer read it.
    public var platform: String
    public var state: ChannelDocumentState
    public var holds: [String]
    public var unmapped: [String]
    public var orderID: Int64?
    public var body: String
    public var deliveries: Int

    public init(
        channel: SalesChannel,
        externalID: String,
        platform: String,
        state: ChannelDocumentState,
        holds: [String],
        unmapped: [String],
        orderID: Int64?,
        body: String,
        deliveries: Int
    ) {
        self.channel = channel
        self.externalID = externalID
        self.platform = platform
        self.state = state
        self.holds = holds
        self.unmapped = unmapped
        self.orderID = orderID
        self.body = body
        self.deliveries = deliveries
    }
}

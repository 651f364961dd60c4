/// A customer (or operations) message waiting in the outbox.
public struct OutboxEntry: Hashable, Sendable {
    public var id: Int64
    public var orderID: Int64?
    public var kind: NotificationKind
    /// email, sms, webhook or log.
    public var channel: String
    public var recipient: String
    public var subject: String
    public var body: String
    public var status: NotificationStatus

    public init(
        id: Int64,
        orderID: Int64?,
        kind: NotificationKind,
        channel: String,
        recipient: String,
        subject: String,
        body: String,
        status: NotificationStatus
    ) {
        self.id = id
        self.orderID = orderID
        self.kind = kind
        self.channel = channel
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.status = status
    }
}

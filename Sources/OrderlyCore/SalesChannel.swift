/// Where an order came from: a channel's name, such as `web`, `pos` or `amazon`. Together with the
/// channel's own order id it makes capture idempotent. What a channel does (its routing, shortage
/// rule, holds...) is its `ChannelPolicy`, a row of `channel_policies` (sql/migrations/0010).
///
/// A name is a lower-case word of `[a-z0-9_]`, at most 32, starting with a letter; `init(rawValue:)`
/// refuses anything else. Whether a channel of that name exists is the database's to say.
public struct SalesChannel: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        let bytes = Array(rawValue.utf8)
        guard (1...32).contains(bytes.count), (97...122).contains(bytes[0]),
            bytes.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "_") })
        else { return nil }
        self.rawValue = rawValue
    }

    fileprivate init(known: String) { rawValue = known }

    /// The channel named after each kind, seeded by the migration.
    public static let web = SalesChannel(known: "web")
    public static let pos = SalesChannel(known: "pos")
    public static let marketplace = SalesChannel(known: "marketplace")
    public static let phone = SalesChannel(known: "phone")
    public static let b2b = SalesChannel(known: "b2b")

    public var description: String { rawValue }

    public static func < (lhs: SalesChannel, rhs: SalesChannel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What sort of channel it is. A new channel starts as a copy of its kind's own channel's policy
/// (`CHANNEL SET channel=zalando kind=marketplace` copies `marketplace`).
public enum ChannelKind: String, CaseIterable, Sendable, Hashable {
    case web
    case pos
    case marketplace
    case phone
    case b2b

    /// The channel named after the kind.
    public var channel: SalesChannel { SalesChannel(known: rawValue) }
}

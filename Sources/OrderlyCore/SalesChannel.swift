/// Where an order came from. Together with the channel's own order id it makes capture idempotent.
///
/// The raw values are what the `orders.channel` column stores (see sql/migrations/0001).
public enum SalesChannel: String, CaseIterable, Sendable, Hashable {
    case web
    case pos
    case marketplace
    case phone
    case b2b
}

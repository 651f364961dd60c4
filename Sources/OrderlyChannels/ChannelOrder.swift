public import Foundation
public import OrderlyCore

/// An order as a platform's document says it, mapped field by field to what Orderly captures and
/// nothing guessed: a line whose SKU the platform left out keeps its other keys for `sku_aliases`, an
/// order without an address is held, amounts are exact minor units of the order's currency.
public struct ChannelOrder: Sendable, Hashable {
    public var platform: String
    public var externalID: String
    public var createdAt: Date?
    public var currency: CurrencyCode
    public var email: String?
    public var customerName: String?
    /// Nil when the document has none (Amazon's restricted data, a Shopify order with nothing to ship).
    public var shipTo: PostalAddress?
    public var billingCountry: String?
    public var lines: [ChannelLine]
    public var shippingMinor: Int64
    public var taxMinor: Int64
    /// Discounts as a positive amount off the order.
    public var discountMinor: Int64
    /// The platform's grand total, when it gives one.
    public var totalMinor: Int64?
    public var payment: ChannelPayment
    public var cancelled: Bool
    /// What keeps the order from going ahead on its own; unmapped SKUs are added when the lines are
    /// matched against the catalog and `sku_aliases`.
    public var holds: [ChannelHold]

    /// Every importer's order: held `missing_address` when the document gives no ship-to.
    init(
        platform: String,
        externalID: String,
        createdAt: Date?,
        currency: CurrencyCode,
        email: String?,
        customerName: String?,
        shipTo: PostalAddress?,
        billingCountry: String?,
        lines: [ChannelLine],
        shippingMinor: Int64,
        taxMinor: Int64,
        discountMinor: Int64,
        totalMinor: Int64?,
        payment: ChannelPayment,
        cancelled: Bool
    ) {
        self.platform = platform
        self.externalID = externalID
        self.createdAt = createdAt
        self.currency = currency
        self.email = email
        self.customerName = customerName
        self.shipTo = shipTo
        self.billingCountry = billingCountry
        self.lines = lines
        self.shippingMinor = shippingMinor
        self.taxMinor = taxMinor
        self.discountMinor = discountMinor
        self.totalMinor = totalMinor
        self.payment = payment
        self.cancelled = cancelled
        holds = shipTo == nil ? [.missingAddress] : []
    }
}

/// One line: `sku` as the platform gives it (nil when it gives none), and the platform's other keys
/// for the line's product (`asin`, `legacy_item_id`, `variant_id`, ...), which `sku_aliases` can map.
public struct ChannelLine: Sendable, Hashable {
    public var sku: String?
    public var keys: [String: String]
    public var quantity: Int64
    public var unitPriceMinor: Int64
    /// The line's discount and tax in all (not per unit).
    public var discountMinor: Int64
    public var taxMinor: Int64
    public var title: String?
}

/// What the platform says about the money.
public enum ChannelPayment: String, Sendable, Hashable, CaseIterable {
    /// Not yet authorized or paid (Amazon's Pending, Shopify's pending, SFCC's not_paid).
    case pending
    case authorized
    case paid
    case partiallyPaid = "partially_paid"
    case partiallyRefunded = "partially_refunded"
    case refunded
    case voided
    case failed
}

public enum ChannelHold: String, Sendable, Hashable, CaseIterable {
    /// The document has no ship-to address (Amazon gives none while an order is Pending or to an app
    /// without a Restricted Data Token).
    case missingAddress = "missing_address"
    /// A line's product is not one Orderly knows by SKU or alias.
    case unmappedSKU = "unmapped_sku"
    /// The ship-to is one the platform forbids shipping to: an eBay Global Shipping Program or
    /// Authenticity Guarantee order addressed to the buyer instead of eBay's hub or the authenticator.
    case shipToNotAllowed = "ship_to_not_allowed"
}

/// Maps one platform's order documents to a `ChannelOrder`. Pure: no network, no database.
public protocol ChannelImporter: Sendable {
    /// The platform's name as channels and `orderly import --channel` call it.
    var platform: String { get }
    /// The order the documents make (2 for Amazon's Orders v0: the order and its items; 1 otherwise).
    /// Throws `ChannelImportError`, naming the field that does not map.
    func importOrder(_ documents: [JSONValue]) throws -> ChannelOrder
}

extension ChannelImporter {
    func single(_ documents: [JSONValue]) throws -> JSONValue {
        guard documents.count == 1, let document = documents.first else {
            throw ChannelImportError(
                path: "",
                problem: "\(platform) sends an order as one document, not \(documents.count)"
            )
        }
        return document
    }
}

public enum ChannelImporters {
    /// Every platform Orderly imports, by name.
    public static let all: [String: any ChannelImporter] = [
        "shopify": ShopifyImporter(), "magento": MagentoImporter(), "sfcc": SalesforceCommerceImporter(),
        "amazon": AmazonImporter(), "ebay": EbayImporter(),
    ]
}

/// Shared reading rules.
enum Read {
    /// ISO 8601 with or without fractional seconds and with any offset; Magento's
    /// `2017-08-21 22:22:19`, which carries no zone, is read as UTC (Magento stores UTC).
    static func date(_ field: Field) throws -> Date? {
        guard let text = try field.optionalString() else { return nil }
        let iso = ISO8601DateFormatter()
        if let date = iso.date(from: text) { return date }
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = iso.date(from: text) { return date }
        let magento = DateFormatter()
        magento.locale = Locale(identifier: "en_US_POSIX")
        magento.timeZone = TimeZone(identifier: "UTC")
        magento.dateFormat = "yyyy-MM-dd HH:mm:ss"
        if let date = magento.date(from: text) { return date }
        throw field.fail("'\(text)' is not a date and time")
    }

    /// A country code, upper case, two letters.
    static func country(_ field: Field) throws -> String {
        let text = try field.string().uppercased()
        guard text.count == 2, text.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw field.fail("'\(text)' is not an ISO 3166 country code")
        }
        return text
    }

    /// A line priced only as a total for `quantity` units (Amazon's ItemPrice, eBay's lineItemCost):
    /// the unit price is the total divided by the quantity, rounded down, and when it does not divide
    /// evenly the remainder's units cost one minor unit more, so the lines add up to the total
    /// exactly: 3 for 10.00 is 2 at 3.33 and 1 at 3.34. The line's discount and tax go with the
    /// first part. A negative total is refused at `field`.
    static func splitTotal(_ line: ChannelLine, total: Int64, at field: Field) throws -> [ChannelLine] {
        guard total >= 0 else { throw field.fail("a line cannot cost less than nothing") }
        let unit = total / line.quantity
        let remainder = total - unit * line.quantity
        var first = line
        first.unitPriceMinor = unit
        guard remainder != 0 else { return [first] }
        first.quantity = line.quantity - remainder
        var rest = line
        rest.quantity = remainder
        rest.unitPriceMinor = unit + 1
        rest.discountMinor = 0
        rest.taxMinor = 0
        return [first, rest]
    }

    /// Sums optional amounts of `currency`.
    static func sum(_ fields: [Field], _ currency: CurrencyCode) throws -> Int64 {
        var amounts: [Int64] = []
        for field in fields { amounts.append(try field.optionalMoney(currency) ?? 0) }
        return try add(amounts, at: fields.first ?? Field(nil, path: ""))
    }

    /// `values` added up, checked: a document whose amounts overflow is refused at `field`, never a
    /// trap or a wrong total. The one place an importer adds amounts.
    static func add(_ values: [Int64], at field: Field) throws -> Int64 {
        var total: Int64 = 0
        for value in values {
            let (sum, overflow) = total.addingReportingOverflow(value)
            guard !overflow else { throw field.fail("the amounts are too large") }
            total = sum
        }
        return total
    }

    /// `units` times `price`, checked like `add`.
    static func product(_ units: Int64, _ price: Int64, at field: Field) throws -> Int64 {
        let (product, overflow) = units.multipliedReportingOverflow(by: price)
        guard !overflow else { throw field.fail("the amounts are too large") }
        return product
    }

    /// An amount written as `{amount-key, currency-key}` (Amazon's Money, eBay's Amount), which must be
    /// in the order's currency: a line in another currency is refused rather than added up wrong.
    static func money(
        _ field: Field,
        amount: String,
        currency currencyKey: String,
        in currency: CurrencyCode
    ) throws -> Int64? {
        guard field.isPresent else { return nil }
        let stated = try field[currencyKey].currency()
        guard stated == currency else {
            throw field[currencyKey].fail("is \(stated), and the order is in \(currency): an order is in one currency")
        }
        return try field[amount].optionalMoney(currency)
    }

    static func name(_ parts: String?...) -> String? {
        let joined = parts.compactMap { $0 }.joined(separator: " ")
        return joined.isEmpty ? nil : joined
    }

    static func geo(_ latitude: Field, _ longitude: Field) -> GeoPoint? {
        guard case .number(let lat)? = latitude.value, case .number(let lon)? = longitude.value,
            let a = Double(lat), let b = Double(lon), (-90...90).contains(a), (-180...180).contains(b)
        else { return nil }
        return GeoPoint(latitude: a, longitude: b)
    }
}

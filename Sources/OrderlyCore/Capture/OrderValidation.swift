/// A SKU as capture sees it: enough to validate a line and weigh a parcel.
public struct CatalogEntry: Hashable, Sendable {
    public var id: Int64
    public var code: String
    public var weightGrams: Int64
    public var active: Bool

    public init(id: Int64, code: String, weightGrams: Int64, active: Bool = true) {
        self.id = id
        self.code = code
        self.weightGrams = weightGrams
        self.active = active
    }
}

/// A line that passed validation, priced with checked arithmetic.
public struct ValidatedLine: Hashable, Sendable {
    public var lineNo: Int
    public var sku: CatalogEntry
    public var quantity: Int64
    public var unitPriceMinor: Int64
    public var lineTotalMinor: Int64
}

/// An order that passed validation: resolved SKUs, totals that add up, nothing out of range.
public struct ValidatedOrder: Hashable, Sendable {
    public var order: NewOrder
    public var currency: CurrencyCode
    public var lines: [ValidatedLine]
    public var subtotalMinor: Int64
    public var totalMinor: Int64

    public var total: Money { Money(minorUnits: totalMinor, currency: currency) }
}

/// Validates a `NewOrder` against the catalogue. Every refusal names the field and the value.
public struct OrderValidator: Sendable {
    /// Currencies the business sells in.
    public var supportedCurrencies: Set<String>
    /// Units on one line beyond which an order is surely a mistake (the schema's bound too).
    public var maximumQuantityPerLine: Int64 = 1_000_000
    public var maximumLines = 500
    /// A unit price beyond which the number is surely a mistake (10^13 minor units).
    public var maximumUnitPriceMinor: Int64 = 10_000_000_000_000

    public init(supportedCurrencies: Set<String>) {
        self.supportedCurrencies = supportedCurrencies
    }

    /// The SKU codes an order names, for the catalogue lookup.
    public static func skuCodes(of order: NewOrder) -> [String] {
        var seen = Set<String>()
        return order.lines.map(\.skuCode).filter { seen.insert($0).inserted }
    }

    public func validate(_ order: NewOrder, catalog: [String: CatalogEntry]) throws(OrderlyError) -> ValidatedOrder {
        try check(order, catalog: catalog)
    }

    /// Everything `validate` checks except the catalogue: enough to price the order (for the payment
    /// check) before any database is asked.
    public func validateWithoutCatalog(_ order: NewOrder) throws(OrderlyError) -> ValidatedOrder {
        try check(order, catalog: nil)
    }

    private func check(_ order: NewOrder, catalog: [String: CatalogEntry]?) throws(OrderlyError) -> ValidatedOrder {
        try checkText(order.externalID, "external_id", maximum: 128)
        guard let currency = CurrencyCode(order.currency) else {
            throw OrderlyError(.badArgument, "currency '\(order.currency)' is not an ISO 4217 code")
        }
        guard supportedCurrencies.contains(currency.code) else {
            throw OrderlyError(
                .badArgument,
                "currency \(currency) is not supported (supported: \(supportedCurrencies.sorted().joined(separator: ", ")))"
            )
        }
        try checkAddress(order.shipTo)
        if let billing = order.billingCountry, !Self.isCountryCode(billing) {
            throw OrderlyError(.badArgument, "billing_country '\(billing)' is not an ISO 3166 alpha-2 code")
        }
        if let email = order.email {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, email.count <= 254,
                !email.contains(where: \.isWhitespace)
            else { throw OrderlyError(.badArgument, "email '\(email)' is not an address") }
        }
        if let score = order.riskScore, !(0...100).contains(score) {
            throw OrderlyError(.badArgument, "risk_score \(score) is outside 0...100")
        }
        if let level = order.serviceLevel,
            level.isEmpty || level.utf8.count > 32
                || !level.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 })
        {
            throw OrderlyError(.badArgument, "service_level '\(level)' is not a service name ([a-z0-9_], at most 32)")
        }
        guard !order.lines.isEmpty else { throw OrderlyError(.badArgument, "the order has no lines") }
        guard order.lines.count <= maximumLines else {
            throw OrderlyError(.badArgument, "the order has \(order.lines.count) lines (at most \(maximumLines))")
        }

        var lines: [ValidatedLine] = []
        var seen: [String: Int] = [:]
        var subtotal: Int64 = 0
        for (index, line) in order.lines.enumerated() {
            let lineNo = index + 1
            if let first = seen[line.skuCode] {
                throw OrderlyError(
                    .badArgument,
                    "line \(lineNo) repeats SKU \(line.skuCode) of line \(first); put all its units on one line"
                )
            }
            seen[line.skuCode] = lineNo
            let placeholder = CatalogEntry(id: 0, code: line.skuCode, weightGrams: 0)
            guard let sku = catalog == nil ? placeholder : catalog?[line.skuCode] else {
                throw OrderlyError(.notFound, "line \(lineNo): unknown SKU '\(line.skuCode)' (SKU LIST shows them)")
            }
            guard sku.active else {
                throw OrderlyError(.badArgument, "line \(lineNo): SKU \(sku.code) is no longer sold")
            }
            guard line.quantity > 0 else {
                throw OrderlyError(.badArgument, "line \(lineNo): quantity \(line.quantity) must be at least 1")
            }
            guard line.quantity <= maximumQuantityPerLine else {
                throw OrderlyError(
                    .badArgument,
                    "line \(lineNo): quantity \(line.quantity) is over the limit of \(maximumQuantityPerLine)"
                )
            }
            guard line.unitPriceMinor >= 0, line.unitPriceMinor <= maximumUnitPriceMinor else {
                throw OrderlyError(
                    .badArgument,
                    "line \(lineNo): unit price \(line.unitPriceMinor) is outside 0...\(maximumUnitPriceMinor)"
                )
            }
            let (lineTotal, lineOverflow) = line.unitPriceMinor.multipliedReportingOverflow(by: line.quantity)
            guard !lineOverflow else {
                throw OrderlyError(
                    .badArgument,
                    "line \(lineNo): price overflow (\(line.unitPriceMinor) x \(line.quantity))"
                )
            }
            let (sum, sumOverflow) = subtotal.addingReportingOverflow(lineTotal)
            guard !sumOverflow else { throw OrderlyError(.badArgument, "price overflow: the subtotal is too large") }
            subtotal = sum
            lines.append(
                ValidatedLine(
                    lineNo: lineNo,
                    sku: sku,
                    quantity: line.quantity,
                    unitPriceMinor: line.unitPriceMinor,
                    lineTotalMinor: lineTotal
                )
            )
        }
        for (name, value) in [
            ("shipping", order.shippingMinor), ("tax", order.taxMinor), ("discount", order.discountMinor),
        ] where value < 0 {
            throw OrderlyError(.badArgument, "\(name) \(value) must not be negative")
        }
        let (withShipping, overflow1) = subtotal.addingReportingOverflow(order.shippingMinor)
        let (withTax, overflow2) = withShipping.addingReportingOverflow(order.taxMinor)
        guard !overflow1, !overflow2 else { throw OrderlyError(.badArgument, "price overflow: the total is too large") }
        guard order.discountMinor <= withTax else {
            throw OrderlyError(.badArgument, "discount \(order.discountMinor) is more than the order's \(withTax)")
        }
        return ValidatedOrder(
            order: order,
            currency: currency,
            lines: lines,
            subtotalMinor: subtotal,
            totalMinor: withTax - order.discountMinor
        )
    }

    static func isCountryCode(_ value: String) -> Bool {
        value.utf8.count == 2 && value.utf8.allSatisfy { (65...90).contains($0) }
    }

    private func checkText(_ value: String, _ field: String, maximum: Int) throws(OrderlyError) {
        guard !value.allSatisfy(\.isWhitespace) else { throw OrderlyError(.badArgument, "\(field) is missing") }
        // Counted as PostgreSQL counts (code points): "e" + U+0301 is two, so a combining run cannot
        // pass here and break the column's CHECK, or hide kilobytes in one "character".
        guard value.unicodeScalars.count <= maximum else {
            throw OrderlyError(.badArgument, "\(field) is longer than \(maximum) characters (Unicode code points)")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw OrderlyError(.badArgument, "\(field) contains control characters")
        }
    }

    private func checkAddress(_ address: PostalAddress) throws(OrderlyError) {
        try checkText(address.name, "ship_name", maximum: 200)
        try checkText(address.line1, "ship_line1", maximum: 200)
        try checkText(address.city, "ship_city", maximum: 100)
        for (field, value) in [
            ("ship_line2", address.line2), ("ship_region", address.region), ("ship_postal_code", address.postalCode),
        ] {
            if let value, !value.isEmpty { try checkText(value, field, maximum: 100) }
        }
        guard Self.isCountryCode(address.country) else {
            throw OrderlyError(.badArgument, "ship_country '\(address.country)' is not an ISO 3166 alpha-2 code")
        }
    }
}

import OrderlyCore

/// Amazon's Selling Partner API, both shapes: Orders 2026-01-01 (one document, `{"order": {...}}`,
/// items inline with a unit price), and Orders v0 (two documents: `getOrder`'s `payload` and
/// `getOrderItems`' `payload.OrderItems`, whose ids must match; the unit price is derived from the
/// line total, `Read.splitTotal`). Amazon takes the buyer's money itself: an order past Pending is
/// paid. A missing address (restricted data, or an order still Pending) is a hold.
public struct AmazonImporter: ChannelImporter {
    public let platform = "amazon"
    public init() {}

    public func importOrder(_ documents: [JSONValue]) throws -> ChannelOrder {
        if documents.count == 2 {
            return try ordersV0(Field(documents[0], path: "order"), Field(documents[1], path: "items"))
        }
        let document = Field(try single(documents), path: "")
        if document["order"].isPresent { return try orders2026(document["order"]) }
        throw ChannelImportError(
            path: "",
            problem:
                "an Amazon order is {\"order\": ...} (Orders 2026-01-01) or the pair getOrder, getOrderItems (Orders v0)"
        )
    }

    func orders2026(_ order: Field) throws -> ChannelOrder {
        let total = order["proceeds"]["grandTotal"]
        let currency =
            try total.isPresent
            ? total["currencyCode"].currency()
            : order["orderItems"][0]["product"]["price"]["unitPrice"]["currencyCode"].currency()
        var lines: [ChannelLine] = []
        for item in try order["orderItems"].optionalArray() {
            let product = item["product"]
            var keys: [String: String] = [:]
            if let asin = try product["asin"].optionalString() { keys["asin"] = asin }
            keys["order_item_id"] = try item["orderItemId"].optionalString()
            let unit = product["price"]["unitPrice"]
            lines.append(
                ChannelLine(
                    sku: try product["sellerSku"].optionalString(),
                    keys: keys,
                    quantity: try item["quantityOrdered"].quantity(),
                    unitPriceMinor: try Read.money(unit, amount: "amount", currency: "currencyCode", in: currency)
                        ?? { throw unit.fail("is required") }(),
                    discountMinor: 0,
                    taxMinor: try breakdown(item["proceeds"]["breakdowns"], "TAX", currency),
                    title: try product["title"].optionalString()
                )
            )
        }
        guard !lines.isEmpty else { throw order["orderItems"].fail("has no line") }
        let address = order["recipient"]["deliveryAddress"]
        let shipTo = try self.address(address, keys: .camel)
        let status = try order["fulfillment"]["fulfillmentStatus"].optionalString()
        let buyer = order["buyer"]
        return ChannelOrder(
            platform: platform,
            externalID: try order["orderId"].identifier(),
            createdAt: try Read.date(order["createdTime"]),
            currency: currency,
            email: try buyer["buyerEmail"].optionalString(),
            customerName: try buyer["buyerName"].optionalString(),
            shipTo: shipTo,
            billingCountry: nil,
            lines: lines,
            shippingMinor: try breakdown(order["proceeds"]["breakdowns"], "SHIPPING", currency),
            taxMinor: try breakdown(order["proceeds"]["breakdowns"], "TAX", currency),
            discountMinor: abs(try breakdown(order["proceeds"]["breakdowns"], "DISCOUNT", currency)),
            totalMinor: try Read.money(total, amount: "amount", currency: "currencyCode", in: currency),
            payment: status == "PENDING" || status == "PENDING_AVAILABILITY"
                ? .pending : status == "CANCELLED" ? .voided : .paid,
            cancelled: status == "CANCELLED"
        )
    }

    /// The sum of a proceeds breakdown's entries of one type.
    func breakdown(_ breakdowns: Field, _ type: String, _ currency: CurrencyCode) throws -> Int64 {
        var amounts: [Int64] = []
        for entry in try breakdowns.optionalArray() where try entry["type"].optionalString() == type {
            amounts.append(
                try Read.money(entry["subtotal"], amount: "amount", currency: "currencyCode", in: currency) ?? 0
            )
        }
        return try Read.add(amounts, at: breakdowns)
    }

    func ordersV0(_ orderDocument: Field, _ itemsDocument: Field) throws -> ChannelOrder {
        let order = orderDocument["payload"]
        let items = itemsDocument["payload"]
        let id = try order["AmazonOrderId"].identifier()
        let itemsID = try items["AmazonOrderId"].identifier()
        guard id == itemsID else {
            throw items["AmazonOrderId"].fail("the items are of order \(itemsID), not of \(id)")
        }
        guard !items["NextToken"].isPresent else {
            throw items["NextToken"].fail("more items follow: fetch every page of getOrderItems and send them as one")
        }
        let first = items["OrderItems"][0]
        let currency =
            try order["OrderTotal"].isPresent
            ? order["OrderTotal"]["CurrencyCode"].currency() : first["ItemPrice"]["CurrencyCode"].currency()
        var lines: [ChannelLine] = []
        var shipping: [Int64] = []
        var tax: [Int64] = []
        var discount: [Int64] = []
        for item in try items["OrderItems"].optionalArray() {
            let money = { (key: String) throws -> Int64 in
                try Read.money(item[key], amount: "Amount", currency: "CurrencyCode", in: currency) ?? 0
            }
            var keys = ["asin": try item["ASIN"].string()]
            keys["order_item_id"] = try item["OrderItemId"].optionalString()
            let line = ChannelLine(
                sku: try item["SellerSKU"].optionalString(),
                keys: keys,
                quantity: try item["QuantityOrdered"].quantity(),
                unitPriceMinor: 0,
                discountMinor: try money("PromotionDiscount"),
                taxMinor: try money("ItemTax"),
                title: try item["Title"].optionalString()
            )
            // ItemPrice is the price of all the units ordered.
            lines += try Read.splitTotal(line, total: try money("ItemPrice"), at: item["ItemPrice"])
            shipping.append(try money("ShippingPrice"))
            tax += [try money("ItemTax"), try money("ShippingTax")]
            discount += [try money("PromotionDiscount"), try money("ShippingDiscount")]
        }
        guard !lines.isEmpty else { throw items["OrderItems"].fail("has no line") }
        let status = try order["OrderStatus"].string()
        let shipTo = try address(order["ShippingAddress"], keys: .pascal)
        let buyer = order["BuyerInfo"]
        return ChannelOrder(
            platform: platform,
            externalID: id,
            createdAt: try Read.date(order["PurchaseDate"]),
            currency: currency,
            email: try buyer["BuyerEmail"].optionalString(),
            customerName: try buyer["BuyerName"].optionalString(),
            shipTo: shipTo,
            billingCountry: nil,
            lines: lines,
            shippingMinor: try Read.add(shipping, at: items["OrderItems"]),
            taxMinor: try Read.add(tax, at: items["OrderItems"]),
            discountMinor: try Read.add(discount, at: items["OrderItems"]),
            totalMinor: try Read.money(order["OrderTotal"], amount: "Amount", currency: "CurrencyCode", in: currency),
            payment: status == "Pending" || status == "PendingAvailability"
                ? .pending : status == "Canceled" ? .voided : .paid,
            cancelled: status == "Canceled"
        )
    }

    enum Keys { case camel, pascal }

    func address(_ field: Field, keys: Keys) throws -> PostalAddress? {
        guard field.isPresent else { return nil }
        let key = { (name: String) in keys == .camel ? name.prefix(1).lowercased() + name.dropFirst() : name }
        let line2 = [try field[key("AddressLine2")].optionalString(), try field[key("AddressLine3")].optionalString()]
            .compactMap { $0 }.joined(separator: ", ")
        return PostalAddress(
            name: try field[key("Name")].optionalString() ?? "",
            line1: try field[key("AddressLine1")].string(),
            line2: line2.isEmpty ? nil : line2,
            city: try field[key("City")].string(),
            region: try field[key("StateOrRegion")].optionalString(),
            postalCode: try field[key("PostalCode")].optionalString(),
            country: try Read.country(field[key("CountryCode")])
        )
    }
}

/// eBay's Sell Fulfillment API `Order` (`GET /sell/fulfillment/v1/order/{orderId}`). Amounts are
/// `{value, currency}` with the value as a string; a line's `lineItemCost` is for all its units
/// (`Read.splitTotal`). A listing without a SKU keeps `legacy_item_id` (and `legacy_variation_id`)
/// for `sku_aliases`. The ship-to is `fulfillmentStartInstructions[0].shippingStep.shipTo`: for the
/// Global Shipping Program and Authenticity Guarantee that is eBay's hub, where the seller must ship.
public struct EbayImporter: ChannelImporter {
    public let platform = "ebay"
    public init() {}

    public func importOrder(_ documents: [JSONValue]) throws -> ChannelOrder {
        let order = Field(try single(documents), path: "")
        let summary = order["pricingSummary"]
        let currency = try summary["total"]["currency"].currency()
        let amount = { (field: Field) throws -> Int64 in
            try Read.money(field, amount: "value", currency: "currency", in: currency) ?? 0
        }
        var lines: [ChannelLine] = []
        for item in try order["lineItems"].optionalArray() {
            var keys: [String: String] = [:]
            keys["legacy_item_id"] = try item["legacyItemId"].optionalString()
            keys["legacy_variation_id"] = try item["legacyVariationId"].optionalString()
            keys["line_item_id"] = try item["lineItemId"].optionalString()
            var discounts: [Int64] = []
            for promotion in try item["appliedPromotions"].optionalArray() {
                discounts.append(abs(try amount(promotion["discountAmount"])))
            }
            var taxes: [Int64] = []
            for entry in try item["taxes"].optionalArray() { taxes.append(try amount(entry["amount"])) }
            let line = ChannelLine(
                sku: try item["sku"].optionalString(),
                keys: keys,
                quantity: try item["quantity"].quantity(),
                unitPriceMinor: 0,
                discountMinor: try Read.add(discounts, at: item["appliedPromotions"]),
                taxMinor: try Read.add(taxes, at: item["taxes"]),
                title: try item["title"].optionalString()
            )
            guard item["lineItemCost"].isPresent else { throw item["lineItemCost"].fail("is required") }
            lines += try Read.splitTotal(line, total: try amount(item["lineItemCost"]), at: item["lineItemCost"])
        }
        guard !lines.isEmpty else { throw order["lineItems"].fail("has no line") }
        let shipToField = order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]
        var shipTo: PostalAddress?
        if shipToField.isPresent {
            let contact = shipToField["contactAddress"]
            shipTo = PostalAddress(
                name: try shipToField["fullName"].optionalString() ?? "",
                line1: try contact["addressLine1"].string(),
                line2: try contact["addressLine2"].optionalString(),
                city: try contact["city"].string(),
                region: try contact["stateOrProvince"].optionalString(),
                postalCode: try contact["postalCode"].optionalString(),
                country: try Read.country(contact["countryCode"])
            )
        }
        let cancelState = try order["cancelStatus"]["cancelState"].optionalString()
        var imported = ChannelOrder(
            platform: platform,
            externalID: try order["orderId"].identifier(),
            createdAt: try Read.date(order["creationDate"]),
            currency: currency,
            email: try shipToField["email"].optionalString(),
            customerName: try shipToField["fullName"].optionalString(),
            shipTo: shipTo,
            billingCountry: nil,
            lines: lines,
            shippingMinor: try amount(summary["deliveryCost"]),
            taxMinor: try amount(summary["tax"]),
            discountMinor: abs(try amount(summary["priceDiscountSubtotal"])),
            totalMinor: try amount(summary["total"]),
            payment: try Self.payment(order["orderPaymentStatus"]),
            cancelled: cancelState == "CANCELED"
        )
        // The Global Shipping Program and Authenticity Guarantee ship through eBay's hub or the
        // authenticator, and eBay's terms forbid shipping to the buyer directly: a ship-to that is the
        // buyer's final destination is held, not shipped.
        let instructions = order["fulfillmentStartInstructions"][0]
        let intermediated =
            try instructions["ebaySupportedFulfillment"].optionalFlag() == true || order["program"].isPresent
        let final = instructions["finalDestinationAddress"]
        if intermediated, let shipTo, final.isPresent,
            try final["addressLine1"].optionalString() == shipTo.line1,
            try final["postalCode"].optionalString() == shipTo.postalCode,
            try final["countryCode"].optionalString()?.uppercased() == shipTo.country
        {
            imported.holds.append(.shipToNotAllowed)
        }
        return imported
    }

    static func payment(_ field: Field) throws -> ChannelPayment {
        switch try field.optionalString() {
        case nil, "PENDING": return .pending
        case "PAID": return .paid
        case "FAILED": return .failed
        case "PARTIALLY_REFUNDED": return .partiallyRefunded
        case "FULLY_REFUNDED": return .refunded
        case let other?: throw field.fail("'\(other)' is not an eBay payment status")
        }
    }
}

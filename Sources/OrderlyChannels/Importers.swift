import OrderlyCore

/// Shopify's Admin REST `Order` (`{"order": {...}}`), and the bare order of an `orders/*` webhook.
/// Amounts are the shop's money (`price`, `total_price`), in `currency`.
public struct ShopifyImporter: ChannelImporter {
    public let platform = "shopify"
    public init() {}

    public func importOrder(_ documents: [JSONValue]) throws -> ChannelOrder {
        let document = Field(try single(documents), path: "")
        let order = document["order"].isPresent ? document["order"] : document
        let currency = try order["currency"].currency()
        var lines: [ChannelLine] = []
        for item in try order["line_items"].optionalArray() {
            // What is still on the order: lines refunded or removed before import have 0 left.
            let quantityField = item["current_quantity"].isPresent ? item["current_quantity"] : item["quantity"]
            if case .number("0")? = quantityField.value { continue }
            var keys: [String: String] = [:]
            for key in ["variant_id", "product_id", "id"] where item[key].isPresent {
                keys[key == "id" ? "line_item_id" : key] = try item[key].identifier()
            }
            lines.append(
                ChannelLine(
                    sku: try item["sku"].optionalString(),
                    keys: keys,
                    quantity: try quantityField.quantity(),
                    unitPriceMinor: try item["price"].money(currency),
                    discountMinor: try Read.sum(
                        try item["discount_allocations"].optionalArray().map { $0["amount"] },
                        currency
                    ),
                    taxMinor: try Read.sum(try item["tax_lines"].optionalArray().map { $0["price"] }, currency),
                    title: try item["title"].optionalString()
                )
            )
        }
        guard !lines.isEmpty else { throw order["line_items"].fail("has no line with units to ship") }
        let address = order["shipping_address"]
        var shipTo: PostalAddress?
        if address.isPresent {
            shipTo = PostalAddress(
                name: try address["name"].optionalString()
                    ?? Read.name(try address["first_name"].optionalString(), try address["last_name"].optionalString())
                    ?? "",
                line1: try address["address1"].string(),
                line2: try address["address2"].optionalString(),
                city: try address["city"].string(),
                region: try address["province_code"].optionalString(),
                postalCode: try address["zip"].optionalString(),
                country: try Read.country(address["country_code"]),
                location: Read.geo(address["latitude"], address["longitude"])
            )
        }
        let customer = order["customer"]
        let email =
            try order["email"].optionalString() ?? order["contact_email"].optionalString()
            ?? customer["email"].optionalString()
        return ChannelOrder(
            platform: platform,
            externalID: try order["id"].identifier(),
            createdAt: try Read.date(order["created_at"]),
            currency: currency,
            email: email,
            customerName: Read.name(
                try customer["first_name"].optionalString(),
                try customer["last_name"].optionalString()
            )
                ?? shipTo?.name,
            shipTo: shipTo,
            billingCountry: order["billing_address"].isPresent
                ? try Read.country(order["billing_address"]["country_code"]) : nil,
            lines: lines,
            shippingMinor: try order["total_shipping_price_set"]["shop_money"]["amount"].optionalMoney(currency)
                ?? Read.sum(try order["shipping_lines"].optionalArray().map { $0["price"] }, currency),
            taxMinor: try order["total_tax"].optionalMoney(currency) ?? 0,
            discountMinor: try order["total_discounts"].optionalMoney(currency) ?? 0,
            totalMinor: try order["total_price"].optionalMoney(currency),
            payment: try Self.payment(order["financial_status"]),
            cancelled: order["cancelled_at"].isPresent
        )
    }

    static func payment(_ field: Field) throws -> ChannelPayment {
        switch try field.optionalString()?.lowercased() {
        case nil, "pending", "expired": return .pending
        case "authorized": return .authorized
        case "paid": return .paid
        case "partially_paid": return .partiallyPaid
        case "partially_refunded": return .partiallyRefunded
        case "refunded": return .refunded
        case "voided": return .voided
        case let other?: throw field.fail("'\(other)' is not a Shopify financial status")
        }
    }
}

/// Magento 2 / Adobe Commerce REST `GET /V1/orders/{id}`. Amounts are JSON numbers in the order's
/// currency (`order_currency_code`; the `base_*` twins are ignored). A composite product's child rows
/// (`parent_item_id` set) are skipped: the parent row carries the SKU ordered and the price.
public struct MagentoImporter: ChannelImporter {
    public let platform = "magento"
    public init() {}

    public func importOrder(_ documents: [JSONValue]) throws -> ChannelOrder {
        let order = Field(try single(documents), path: "")
        let currency = try order["order_currency_code"].currency()
        var lines: [ChannelLine] = []
        for item in try order["items"].optionalArray() where !item["parent_item_id"].isPresent {
            var keys: [String: String] = [:]
            for key in ["item_id", "product_id"] where item[key].isPresent { keys[key] = try item[key].identifier() }
            lines.append(
                ChannelLine(
                    sku: try item["sku"].optionalString(),
                    keys: keys,
                    quantity: try item["qty_ordered"].quantity(),
                    unitPriceMinor: try item["price"].money(currency),
                    discountMinor: abs(try item["discount_amount"].optionalMoney(currency) ?? 0),
                    taxMinor: try item["tax_amount"].optionalMoney(currency) ?? 0,
                    title: try item["name"].optionalString()
                )
            )
        }
        guard !lines.isEmpty else { throw order["items"].fail("has no line") }
        // The ship-to is in the shipping assignment, not at the top level.
        let address = order["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
        var shipTo: PostalAddress?
        if address.isPresent {
            let street = try address["street"].optionalArray()
            shipTo = PostalAddress(
                name: Read.name(try address["firstname"].optionalString(), try address["lastname"].optionalString())
                    ?? "",
                line1: try address["street"][0].string(),
                line2: street.count > 1
                    ? try street.dropFirst().compactMap { field throws in try field.optionalString() }
                        .joined(separator: ", ") : nil,
                city: try address["city"].string(),
                region: try address["region_code"].optionalString(),
                postalCode: try address["postcode"].optionalString(),
                country: try Read.country(address["country_id"])
            )
        }
        let state = try order["state"].string()
        let grandTotal = try order["grand_total"].optionalMoney(currency)
        let due = try order["total_due"].optionalMoney(currency)
        // No financial status: paid when nothing is due on a total above zero, else not yet.
        let payment: ChannelPayment =
            state == "canceled"
            ? .voided
            : (due == 0 && (grandTotal ?? 0) > 0) || state == "complete" || state == "closed" ? .paid : .pending
        return ChannelOrder(
            platform: platform,
            externalID: try order["increment_id"].identifier(),
            createdAt: try Read.date(order["created_at"]),
            currency: currency,
            email: try order["customer_email"].optionalString(),
            customerName: Read.name(
                try order["customer_firstname"].optionalString(),
                try order["customer_lastname"].optionalString()
            ),
            shipTo: shipTo,
            billingCountry: order["billing_address"].isPresent
                ? try Read.country(order["billing_address"]["country_id"]) : nil,
            lines: lines,
            shippingMinor: try order["shipping_amount"].optionalMoney(currency) ?? 0,
            taxMinor: try order["tax_amount"].optionalMoney(currency) ?? 0,
            discountMinor: abs(try order["discount_amount"].optionalMoney(currency) ?? 0),
            totalMinor: grandTotal,
            payment: payment,
            cancelled: state == "canceled"
        )
    }
}

/// Salesforce B2C Commerce, SCAPI's order (admin `GET /orders/{orderNo}`). Amounts are JSON numbers,
/// read from their text. Orderly ships an order to one address: a second shipment to another address
/// is refused.
public struct SalesforceCommerceImporter: ChannelImporter {
    public let platform = "sfcc"
    public init() {}

    public func importOrder(_ documents: [JSONValue]) throws -> ChannelOrder {
        let order = Field(try single(documents), path: "")
        let currency = try order["currency"].currency()
        var lines: [ChannelLine] = []
        for item in try order["productItems"].optionalArray() {
            let quantity = try item["quantity"].quantity()
            let unit = try item["basePrice"].money(currency)
            // The line's price before and after every adjustment, its own and the order's share.
            let before =
                try item["netPrice"].optionalMoney(currency) ?? item["price"].optionalMoney(currency)
                ?? Read.product(quantity, unit, at: item["basePrice"])
            let after = try item["priceAfterOrderDiscount"].optionalMoney(currency) ?? before
            lines.append(
                ChannelLine(
                    sku: try item["productId"].optionalString(),
                    keys: try item["itemId"].optionalString().map { ["item_id": $0] } ?? [:],
                    quantity: quantity,
                    unitPriceMinor: unit,
                    discountMinor: max(0, try Read.add([before, -after], at: item["priceAfterOrderDiscount"])),
                    taxMinor: try item["adjustedTax"].optionalMoney(currency) ?? item["tax"].optionalMoney(currency)
                        ?? 0,
                    title: try item["productName"].optionalString()
                )
            )
        }
        guard !lines.isEmpty else { throw order["productItems"].fail("has no line") }
        var shipTo: PostalAddress?
        for (index, shipment) in try order["shipments"].optionalArray().enumerated() {
            let address = shipment["shippingAddress"]
            guard address.isPresent else { continue }
            let mapped = PostalAddress(
                name: try address["fullName"].optionalString()
                    ?? Read.name(try address["firstName"].optionalString(), try address["lastName"].optionalString())
                    ?? "",
                line1: try address["address1"].string(),
                line2: try address["address2"].optionalString(),
                city: try address["city"].string(),
                region: try address["stateCode"].optionalString(),
                postalCode: try address["postalCode"].optionalString(),
                country: try Read.country(address["countryCode"])
            )
            if let first = shipTo, first != mapped {
                throw order["shipments"][index]["shippingAddress"].fail(
                    "a second ship-to address: Orderly ships an order to one address"
                )
            }
            shipTo = mapped
        }
        let customer = order["customerInfo"]
        let status = try order["status"].optionalString()
        return ChannelOrder(
            platform: platform,
            externalID: try order["orderNo"].identifier(),
            createdAt: try Read.date(order["creationDate"]),
            currency: currency,
            email: try customer["email"].optionalString(),
            customerName: try customer["customerName"].optionalString() ?? order["customerName"].optionalString(),
            shipTo: shipTo,
            billingCountry: order["billingAddress"].isPresent
                ? try Read.country(order["billingAddress"]["countryCode"]) : nil,
            lines: lines,
            shippingMinor: try order["shippingTotal"].optionalMoney(currency) ?? 0,
            taxMinor: try order["taxTotal"].optionalMoney(currency) ?? 0,
            discountMinor: abs(
                try Read.sum(try order["orderPriceAdjustments"].optionalArray().map { $0["price"] }, currency)
            ),
            totalMinor: try order["orderTotal"].optionalMoney(currency),
            payment: try Self.payment(order["paymentStatus"]),
            cancelled: status == "cancelled"
        )
    }

    static func payment(_ field: Field) throws -> ChannelPayment {
        switch try field.optionalString() {
        case nil, "not_paid": return .pending
        case "part_paid": return .partiallyPaid
        case "paid": return .paid
        case let other?: throw field.fail("'\(other)' is not an SFCC payment status")
        }
    }
}

import Foundation
import OrderlyCore
import Testing

@testable import OrderlyChannels

/// The platforms' published order documents (`../shared/channel-fixtures`, beside the repository)
/// imported and checked field by field, amounts to the minor unit.
struct ChannelImporterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/channel-fixtures")

    static func fixture(_ path: String) throws -> JSONValue {
        let url = fixtures.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ChannelImportError(
                path: "",
                problem: "no fixture at \(url.path): ../shared must sit beside the repository"
            )
        }
        return try JSONValue.parse(Array(data))
    }

    static func importing(_ platform: String, _ documents: JSONValue...) throws -> ChannelOrder {
        try #require(ChannelImporters.all[platform]).importOrder(documents)
    }

    static func date(_ text: String) -> Date? { ISO8601DateFormatter().date(from: text) }

    @Test func shopifysRichOrder() throws {
        let order = try Self.importing(
            "shopify",
            try Self.fixture("shopify/admin-rest-2026-07-order-get-450789469.json")
        )
        #expect(order.externalID == "450789469")
        #expect(order.createdAt == Self.date("2008-01-10T16:00:00Z"))
        #expect(order.currency.code == "USD")
        #expect(order.email == "bob.norman@mail.example.com")
        #expect(order.customerName == "Bob Norman")
        #expect(
            order.shipTo
                == PostalAddress(
                    name: "Bob Norman",
                    line1: "Chestnut Street 92",
                    line2: nil,
                    city: "Louisville",
                    region: "KY",
                    postalCode: "40202",
                    country: "US",
                    location: GeoPoint(latitude: 45.41634, longitude: -75.6868)
                )
        )
        #expect(order.billingCountry == "US")
        // Two of the three lines were refunded before import (current_quantity 0).
        #expect(
            order.lines == [
                ChannelLine(
                    sku: "IPOD2008RED",
                    keys: ["variant_id": "49148385", "product_id": "632910392", "line_item_id": "518995019"],
                    quantity: 1,
                    unitPriceMinor: 199_00,
                    discountMinor: 3_33,
                    taxMinor: 3_98,
                    title: "IPod Nano - 8gb"
                )
            ]
        )
        #expect(order.shippingMinor == 0)
        #expect(order.taxMinor == 11_94)
        #expect(order.discountMinor == 10_00)
        #expect(order.totalMinor == 598_94)
        #expect(order.payment == .partiallyRefunded)
        #expect(!order.cancelled)
        #expect(order.holds.isEmpty)
    }

    @Test func shopifysCustomLinesWithoutSKUOrAddress() throws {
        let order = try Self.importing(
            "shopify",
            try Self.fixture("shopify/admin-rest-2026-07-order-create-response-custom-lines-no-sku.json")
        )
        #expect(order.externalID == "1073459963")
        #expect(order.email == nil)  // "" in the document
        #expect(order.shipTo == nil)
        #expect(order.holds == [.missingAddress])
        #expect(order.lines.map(\.sku) == [nil, nil, nil])
        #expect(
            order.lines.map(\.keys) == [
                ["line_item_id": "1071823173"], ["line_item_id": "1071823174"], ["line_item_id": "1071823175"],
            ]
        )
        #expect(order.lines.map(\.quantity) == [1, 1, 2])
        #expect(order.lines.map(\.unitPriceMinor) == [129_99, 85_95, 19_99])
        #expect(order.lines.map(\.taxMinor) == [7_81 + 3_26, 0, 2_39 + 99])
        #expect(order.totalMinor == 270_37)
        #expect(order.taxMinor == 14_45)
        #expect(order.payment == .paid)
    }

    @Test func magentosOrder() throws {
        let order = try Self.importing(
            "magento",
            try Self.fixture("magento2/adobe-docs-rest-GET-V1-orders-3-response.elisions-removed.json")
        )
        #expect(order.externalID == "000000003")
        // No zone in the text: read as UTC.
        #expect(order.createdAt == Self.date("2017-08-21T22:22:19Z"))
        #expect(order.currency.code == "USD")
        #expect(order.email == "jdoe@example.com")
        #expect(order.customerName == "Jane Doe")
        #expect(
            order.shipTo
                == PostalAddress(
                    name: "Jane Doe",
                    line1: "123 Oak Ave",
                    city: "Purchase",
                    region: "NY",
                    postalCode: "10577",
                    country: "US"
                )
        )
        #expect(order.billingCountry == "US")
        #expect(
            order.lines == [
                ChannelLine(
                    sku: "WS12-M-Orange",
                    keys: ["item_id": "3", "product_id": "1553"],
                    quantity: 1,
                    unitPriceMinor: 22_00,
                    discountMinor: 0,
                    taxMinor: 0,
                    title: "Radiant Tee-M-Orange"
                )
            ]
        )
        // JSON numbers, not strings: 165 is 165.00.
        #expect(order.totalMinor == 165_00)
        #expect(order.shippingMinor == 5_00)
        #expect(order.payment == .pending)  // state new, 165 due
        #expect(!order.cancelled)
    }

    @Test func salesforceCommerceOrder() throws {
        let order = try Self.importing(
            "sfcc",
            try Self.fixture("sfcc/scapi-orders-admin-v1.5.2-getOrder-200-example.json")
        )
        #expect(order.externalID == "00000410")  // leading zeros kept
        #expect(order.createdAt == Self.date("2015-05-19T15:23:18Z"))
        #expect(order.email == "no-reply@salesforce.com")
        #expect(order.customerName == "Max Mustermann")
        #expect(
            order.shipTo
                == PostalAddress(
                    name: "Max Mustermann",
                    line1: "45 Main Rd.",
                    city: "Burlington",
                    region: "MA",
                    postalCode: "05408",
                    country: "US"
                )
        )
        #expect(order.lines.first?.sku == "701643632930")
        #expect(order.lines.first?.unitPriceMinor == 99_00)
        #expect(order.lines.first?.taxMinor == 4_95)
        // Floats in the document, exact here: 110.24, 25.99 and 5.25.
        #expect(order.totalMinor == 110_24)
        #expect(order.shippingMinor == 25_99)
        #expect(order.taxMinor == 5_25)
        #expect(order.payment == .pending)
    }

    @Test func amazons2026Order() throws {
        let order = try Self.importing("amazon", try Self.fixture("amazon/orders-2026-01-01-getOrder-200-example.json"))
        #expect(order.externalID == "202-1234567-8901234")
        #expect(order.createdAt == Self.date("2024-12-25T09:15:00Z"))
        #expect(order.currency.code == "GBP")
        #expect(order.email == "buyer-email@marketplace.amazon.co.uk")
        #expect(
            order.shipTo
                == PostalAddress(
                    name: "James Wilson",
                    line1: "123 High Street",
                    line2: "Unit 4B",
                    city: "Manchester",
                    region: "England",
                    postalCode: "M1 2AB",
                    country: "GB"
                )
        )
        #expect(order.lines.map(\.sku) == ["ECHO-DOT-4-UK-CHARCOAL-3PACK"])
        #expect(order.lines.first?.keys["asin"] == "B08DFPV54V")
        #expect(order.lines.first?.quantity == 3)
        #expect(order.lines.first?.unitPriceMinor == 29_99)
        #expect(order.shippingMinor == 10_00)
        #expect(order.totalMinor == 103_97)
        #expect(order.payment == .paid)
        #expect(!order.cancelled)
    }

    @Test func amazonsV0PairMustBeOneOrderAndItsItems() throws {
        let order = try Self.fixture("amazon/ordersV0-getOrder-200-example.json")
        let items = try Self.fixture("amazon/ordersV0-getOrderItems-200-example.json")
        // The published examples are two different orders: refused, naming the field.
        #expect {
            try Self.importing("amazon", order, items)
        } throws: { error in
            "\(error)"
                == "items.payload.AmazonOrderId: the items are of order 903-1671087-0812628, not of 902-3159896-1390916"
        }
    }

    /// A v0 pair made to match, with the quirks: money and booleans as strings, a line priced as a
    /// total that does not divide by its quantity, an ASIN without a seller SKU, no address.
    static let v0Order = """
        {"payload": {"AmazonOrderId": "902-1845936-5435065", "PurchaseDate": "2026-11-27T08:00:00Z",
         "OrderStatus": "Unshipped", "OrderTotal": {"CurrencyCode": "EUR", "Amount": "31.01"},
         "BuyerInfo": {"BuyerEmail": "x1@marketplace.amazon.de"}}}
        """
    static let v0Items = """
        {"payload": {"AmazonOrderId": "902-1845936-5435065", "OrderItems": [
          {"ASIN": "B00TEST001", "SellerSKU": "MUG-1", "OrderItemId": "1", "QuantityOrdered": 3,
           "ItemPrice": {"CurrencyCode": "EUR", "Amount": "10.00"}, "ItemTax": {"CurrencyCode": "EUR", "Amount": "1.01"},
           "IsGift": "false", "BuyerRequestedCancel": {"IsBuyerRequestedCancel": "false"}},
          {"ASIN": "B00TEST002", "OrderItemId": "2", "QuantityOrdered": 1,
           "ItemPrice": {"CurrencyCode": "EUR", "Amount": "20"}, "ShippingPrice": {"CurrencyCode": "EUR", "Amount": "0.00"}}
        ]}}
        """

    @Test func amazonsV0PairWithItsQuirks() throws {
        let order = try Self.importing("amazon", try JSONValue.parse(Self.v0Order), try JSONValue.parse(Self.v0Items))
        #expect(order.externalID == "902-1845936-5435065")
        #expect(order.currency.code == "EUR")
        // 3 for 10.00: 2 at 3.33 and 1 at 3.34, which add up to 10.00 exactly.
        #expect(order.lines.map(\.quantity) == [2, 1, 1])
        #expect(order.lines.map(\.unitPriceMinor) == [3_33, 3_34, 20_00])
        #expect(order.lines.map(\.sku) == ["MUG-1", "MUG-1", nil])
        #expect(order.lines[2].keys["asin"] == "B00TEST002")
        #expect(order.lines.reduce(0) { $0 + $1.quantity * $1.unitPriceMinor } == 30_00)
        #expect(order.taxMinor == 1_01)
        #expect(order.totalMinor == 31_01)
        #expect(order.shipTo == nil)
        #expect(order.holds == [.missingAddress])
        #expect(order.payment == .paid)
    }

    @Test func amazonsV0SpecExampleHasCentsOnYenAndIsRefused() throws {
        // The published items example prices a JPY item at "25.99": the yen has no minor unit.
        var items = try Self.fixture("amazon/ordersV0-getOrderItems-200-example.json")
        guard case .object(var root) = items, case .object(var payload)? = root["payload"] else {
            Issue.record("unexpected fixture shape")
            return
        }
        payload.removeValue(forKey: "NextToken")
        payload["AmazonOrderId"] = .string("902-3159896-1390916")
        root["payload"] = .object(payload)
        items = .object(root)
        #expect {
            try Self.importing("amazon", try Self.fixture("amazon/ordersV0-getOrder-200-example.json"), items)
        } throws: { error in
            "\(error)"
                == "items.payload.OrderItems[0].ItemPrice.Amount: has more decimals than the currency's 0 ('25.99' in JPY)"
        }
    }

    static let ebayOrder = """
        {"orderId": "12-34567-89012", "legacyOrderId": "123456789012-0", "creationDate": "2026-11-28T10:11:12.000Z",
         "orderPaymentStatus": "PAID", "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
         "pricingSummary": {"priceSubtotal": {"value": "30.00", "currency": "USD"},
           "priceDiscountSubtotal": {"value": "-2.00", "currency": "USD"},
           "deliveryCost": {"value": "4.99", "currency": "USD"}, "tax": {"value": "2.40", "currency": "USD"},
           "total": {"value": "35.39", "currency": "USD"}},
         "fulfillmentStartInstructions": [{"shippingStep": {"shipTo": {"fullName": "Ada Buyer", "email": "ada@example.com",
           "contactAddress": {"addressLine1": "1 Main St", "city": "Springfield", "stateOrProvince": "IL",
             "postalCode": "62701", "countryCode": "US"}}}}],
         "lineItems": [
           {"lineItemId": "100", "legacyItemId": "110012345678", "title": "Blue mug", "quantity": 3,
            "lineItemCost": {"value": "30.00", "currency": "USD"},
            "appliedPromotions": [{"discountAmount": {"value": "2.00", "currency": "USD"}}],
            "taxes": [{"amount": {"value": "2.40", "currency": "USD"}}]}
         ]}
        """

    @Test func ebaysOrderKeepsTheLegacyItemIDWhenThereIsNoSKU() throws {
        let order = try Self.importing("ebay", try JSONValue.parse(Self.ebayOrder))
        #expect(order.externalID == "12-34567-89012")
        #expect(order.createdAt == Self.date("2026-11-28T10:11:12Z"))
        #expect(order.email == "ada@example.com")
        #expect(order.shipTo?.city == "Springfield")
        #expect(
            order.lines == [
                ChannelLine(
                    sku: nil,
                    keys: ["legacy_item_id": "110012345678", "line_item_id": "100"],
                    quantity: 3,
                    unitPriceMinor: 10_00,
                    discountMinor: 2_00,
                    taxMinor: 2_40,
                    title: "Blue mug"
                )
            ]
        )
        #expect(order.discountMinor == 2_00)
        #expect(order.shippingMinor == 4_99)
        #expect(order.totalMinor == 35_39)
        #expect(order.payment == .paid)
    }

    /// A Global Shipping Program order ships to eBay's hub; one whose ship-to is the buyer's final
    /// destination is held (eBay forbids shipping there directly), and one to the hub is not.
    @Test func ebaysGlobalShippingOrderToTheBuyerIsHeld() throws {
        let final = """
            "ebaySupportedFulfillment": true, "finalDestinationAddress": {"addressLine1": "1 Main St",
              "city": "Springfield", "postalCode": "62701", "countryCode": "US"},
            """
        let toBuyer = Self.ebayOrder.replacingOccurrences(
            of: #"[{"shippingStep""#,
            with: #"[{"# + final + #""shippingStep""#
        )
        #expect(try Self.importing("ebay", try JSONValue.parse(toBuyer)).holds == [.shipToNotAllowed])
        let toHub = toBuyer.replacingOccurrences(
            of: #""addressLine1": "1 Main St", "city": "Springfield", "stateOrProvince""#,
            with: #""addressLine1": "GSP Hub 7", "city": "Erlanger", "stateOrProvince""#
        )
        #expect(try Self.importing("ebay", try JSONValue.parse(toHub)).holds == [])
        #expect(try Self.importing("ebay", try JSONValue.parse(Self.ebayOrder)).holds == [])
    }

    @Test func aCancelledOrderAndAZeroAndAThreeDecimalCurrency() throws {
        let cancelled = Self.ebayOrder.replacingOccurrences(of: "NONE_REQUESTED", with: "CANCELED")
        #expect(try Self.importing("ebay", try JSONValue.parse(cancelled)).cancelled)
        let shopify = """
            {"order": {"id": 7, "currency": "JPY", "financial_status": "paid", "cancelled_at": "2026-11-29T10:00:00Z",
             "total_price": "4500", "line_items": [{"sku": "TEA-1", "quantity": 3, "price": "1500"}]}}
            """
        let yen = try Self.importing("shopify", try JSONValue.parse(shopify))
        #expect(yen.lines.first?.unitPriceMinor == 1500)  // ¥1,500, no minor unit
        #expect(yen.totalMinor == 4500)
        #expect(yen.cancelled)
        let dinar = """
            {"increment_id": "KW-1", "order_currency_code": "KWD", "state": "processing", "grand_total": 12.345,
             "total_due": 0, "items": [{"sku": "OUD-1", "qty_ordered": "1.0000", "price": 12.345}]}
            """
        let kuwait = try Self.importing("magento", try JSONValue.parse(dinar))
        #expect(kuwait.lines.first?.unitPriceMinor == 12_345)  // three minor digits
        #expect(kuwait.payment == .paid)
        #expect(kuwait.holds == [.missingAddress])
    }

    @Test func badDocumentsAreRefusedNamingTheField() throws {
        let cases: [(String, String, String)] = [
            (
                "shopify",
                #"{"order": {"id": 1, "currency": "USD", "line_items": [{"sku": "A", "quantity": 1, "price": "10.001"}]}}"#,
                "order.line_items[0].price: has more decimals than the currency's 2 ('10.001' in USD)"
            ),
            (
                "shopify",
                #"{"order": {"id": 1, "currency": "USD", "line_items": [{"sku": "A", "quantity": 1.5, "price": "1.00"}]}}"#,
                "order.line_items[0].quantity: must be a whole number of units above 0, not '1.5'"
            ),
            (
                "shopify", #"{"order": {"id": 1, "currency": "dollars", "line_items": []}}"#,
                "order.currency: 'dollars' is not a currency code"
            ),
            (
                "magento",
                #"{"increment_id": "1", "order_currency_code": "EUR", "state": "new", "items": [{"sku": "A", "qty_ordered": 1, "price": "1.005"}]}"#,
                "items[0].price: has more decimals than the currency's 2 ('1.005' in EUR)"
            ),
            (
                "ebay",
                Self.ebayOrder.replacingOccurrences(
                    of: #""lineItemCost": {"value": "30.00", "currency": "USD"}"#,
                    with: #""lineItemCost": {"value": "30.00", "currency": "GBP"}"#
                ),
                "lineItems[0].lineItemCost.currency: is GBP, and the order is in USD: an order is in one currency"
            ),
            (
                "ebay",
                Self.ebayOrder.replacingOccurrences(
                    of: #""lineItemCost": {"value": "30.00""#,
                    with: #""lineItemCost": {"value": "-30.00""#
                ),
                "lineItems[0].lineItemCost: a line cannot cost less than nothing"
            ),
            (
                "shopify",
                #"{"order": {"id": 1, "currency": "USD", "line_items": [{"sku": "A", "quantity": 1, "price": "1.00", "tax_lines": [{"price": "50000000000000000.00"}, {"price": "50000000000000000.00"}]}]}}"#,
                "order.line_items[0].tax_lines[0].price: the amounts are too large"
            ),
        ]
        for (platform, text, message) in cases {
            #expect {
                try Self.importing(platform, try JSONValue.parse(text))
            } throws: { error in
                "\(error)" == message
            }
        }
    }
}

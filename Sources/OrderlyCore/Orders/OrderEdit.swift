import Foundation

/// A change to an order before any of it is picked (`ORDER EDIT`): new quantities (0 removes a line),
/// new lines with their prices, a new ship-to, a new service level. `apply` checks it against the
/// order and says what the order becomes; the order's service validates and routes that.
public struct OrderEdit: Hashable, Sendable {
    public struct Line: Hashable, Sendable {
        public var sku: String
        public var quantity: Int64
        /// Required for a new line; for an existing one it must be the line's price.
        public var unitPriceMinor: Int64?

        public init(sku: String, quantity: Int64, unitPriceMinor: Int64? = nil) {
            self.sku = sku
            self.quantity = quantity
            self.unitPriceMinor = unitPriceMinor
        }
    }

    public enum ServiceLevel: Hashable, Sendable {
        case any
        case named(String)
    }

    /// Ship-to fields to replace; the others stay. An empty `line2`, `region` or `postalCode` clears it.
    public struct Address: Hashable, Sendable {
        public var name: String?
        public var line1: String?
        public var line2: String?
        public var city: String?
        public var region: String?
        public var postalCode: String?
        public var country: String?
        public var location: GeoPoint?

        public init() {}

        public var isEmpty: Bool { self == Address() }

        func applied(to address: PostalAddress) -> PostalAddress {
            func optional(_ new: String?, _ old: String?) -> String? { new.map { $0.isEmpty ? nil : $0 } ?? old }
            var changed = address
            if let name { changed.name = name }
            if let line1 { changed.line1 = line1 }
            changed.line2 = optional(line2, address.line2)
            if let city { changed.city = city }
            changed.region = optional(region, address.region)
            changed.postalCode = optional(postalCode, address.postalCode)
            if let country { changed.country = country }
            if let location { changed.location = location }
            return changed
        }
    }

    public var lines: [Line]
    public var address: Address
    public var serviceLevel: ServiceLevel?

    public init(lines: [Line] = [], address: Address = Address(), serviceLevel: ServiceLevel? = nil) {
        self.lines = lines
        self.address = address
        self.serviceLevel = serviceLevel
    }

    /// One line of the order after the edit.
    public struct EditedLine: Hashable, Sendable {
        /// Nil for a new line.
        public var lineID: Int64?
        public var lineNo: Int
        public var sku: String
        public var quantity: Int64
        public var unitPriceMinor: Int64
        public var before: Int64
    }

    /// What the order becomes.
    public struct Result: Hashable, Sendable {
        public var lines: [EditedLine]
        public var shipTo: PostalAddress
        public var serviceLevel: String?
        /// What routing decides by changed (country, region, coordinates or service level): every
        /// unit is routed again. A new name, street or postal code keeps the reservations.
        public var reroutesAll: Bool
        /// The order as capture would see it (lines with units only), for the validator and the
        /// hold rules; shipping, tax and discount are not part of it (`totalMinor` adds them back).
        public var asNew: NewOrder
    }

    /// The order after the edit, or why the edit cannot be made (nothing changes then).
    public func apply(to order: OrderRecord) throws(OrderlyError) -> Result {
        guard !lines.isEmpty || !address.isEmpty || serviceLevel != nil else {
            throw OrderlyError(.badArgument, "nothing to edit: give lines, an address field or service_level")
        }
        var edited = order.lines.map {
            EditedLine(
                lineID: $0.id,
                lineNo: $0.lineNo,
                sku: $0.skuCode,
                quantity: $0.quantity,
                unitPriceMinor: $0.unitPriceMinor,
                before: $0.quantity
            )
        }
        var seen = Set<String>()
        for line in lines {
            guard seen.insert(line.sku).inserted else {
                throw OrderlyError(.badArgument, "lines: SKU \(line.sku) appears twice")
            }
            guard line.quantity >= 0 else { throw OrderlyError(.badArgument, "lines: \(line.sku): quantity below 0") }
            if let index = edited.firstIndex(where: { $0.sku == line.sku }) {
                let stored = order.lines[index]
                if let price = line.unitPriceMinor, price != stored.unitPriceMinor {
                    throw OrderlyError(
                        .badArgument,
                        "lines: \(line.sku): an existing line's price (\(stored.unitPriceMinor)) cannot change"
                    )
                }
                guard line.quantity >= stored.cancelled else {
                    throw OrderlyError(
                        .conflict,
                        "lines: \(line.sku): \(stored.cancelled) units are cancelled already; the quantity cannot go below"
                    )
                }
                edited[index].quantity = line.quantity
            } else {
                guard line.quantity > 0 else {
                    throw OrderlyError(
                        .badArgument,
                        "lines: order \(order.id) has no line of SKU \(line.sku) to remove"
                    )
                }
                guard let price = line.unitPriceMinor else {
                    throw OrderlyError(.badArgument, "lines: \(line.sku) is a new line: give SKU:QTY:PRICE")
                }
                edited.append(
                    EditedLine(
                        lineID: nil,
                        lineNo: (edited.map(\.lineNo).max() ?? 0) + 1,
                        sku: line.sku,
                        quantity: line.quantity,
                        unitPriceMinor: price,
                        before: 0
                    )
                )
            }
        }
        // Cancelled units stay on their line (their money is `cancelled_minor`'s); what is left to sell
        // must be something.
        let cancelledBySKU = Dictionary(order.lines.map { ($0.skuCode, $0.cancelled) }, uniquingKeysWith: +)
        guard edited.contains(where: { $0.quantity - (cancelledBySKU[$0.sku] ?? 0) > 0 }) else {
            throw OrderlyError(.badArgument, "an edit cannot remove every unit: ORDER CANCEL cancels the order")
        }
        let address = self.address.applied(to: order.shipTo)
        let service: String? =
            switch serviceLevel {
            case nil: order.serviceLevel
            case .any?: nil
            case .named(let name)?: name
            }
        let asNew = NewOrder(
            channel: order.channel,
            externalID: order.externalID,
            currency: order.currency.code,
            lines: edited.filter { $0.quantity > 0 }.map {
                NewOrderLine(skuCode: $0.sku, quantity: $0.quantity, unitPriceMinor: $0.unitPriceMinor)
            },
            shipTo: address,
            billingCountry: order.billingCountry,
            email: order.email,
            riskScore: order.riskScore,
            reviewRequested: order.reviewRequested,
            serviceLevel: service,
            priority: order.priority
        )
        return Result(
            lines: edited,
            shipTo: address,
            serviceLevel: service,
            reroutesAll: address.country != order.shipTo.country || address.region != order.shipTo.region
                || address.location != order.shipTo.location || service != order.serviceLevel,
            asNew: asNew
        )
    }
}

/// An edit's event data: the order before and after (lines, ship-to, service level, total) and the
/// reservations it gave back.
public enum EditJSON {
    struct Line: Encodable {
        var sku: String
        var quantity: Int64
        var price: Int64
    }
    struct Side: Encodable {
        var lines: [Line]
        var shipTo: [String: String]
        var serviceLevel: String?
        var total: Int64
        enum CodingKeys: String, CodingKey {
            case lines, total
            case shipTo = "ship_to"
            case serviceLevel = "service_level"
        }
    }
    struct Data: Encodable {
        var before: Side
        var after: Side
        var released: Int64
    }

    static func address(_ a: PostalAddress) -> [String: String] {
        var fields = ["name": a.name, "line1": a.line1, "city": a.city, "country": a.country]
        fields["line2"] = a.line2
        fields["region"] = a.region
        fields["postal"] = a.postalCode
        if let location = a.location {
            fields["lat"] = String(location.latitude)
            fields["lon"] = String(location.longitude)
        }
        return fields
    }

    public static func data(
        before order: OrderRecord,
        after edited: OrderEdit.Result,
        total: Int64,
        released: [UnitCancellation.ReservationCut]
    ) -> String {
        let data = Data(
            before: Side(
                lines: order.lines.map { Line(sku: $0.skuCode, quantity: $0.quantity, price: $0.unitPriceMinor) },
                shipTo: address(order.shipTo),
                serviceLevel: order.serviceLevel,
                total: order.totalMinor
            ),
            after: Side(
                lines: edited.lines.map { Line(sku: $0.sku, quantity: $0.quantity, price: $0.unitPriceMinor) },
                shipTo: address(edited.shipTo),
                serviceLevel: edited.serviceLevel,
                total: total
            ),
            released: released.reduce(0) { $0 + $1.units }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

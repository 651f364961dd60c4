/// A postal address as an order carries it.
public struct PostalAddress: Hashable, Sendable {
    public var name: String
    public var line1: String
    public var line2: String?
    public var city: String
    public var region: String?
    public var postalCode: String?
    /// ISO 3166-1 alpha-2, upper case.
    public var country: String
    /// Where it is, for `nearest` routing; without it distances count as equal.
    public var location: GeoPoint?

    public init(
        name: String,
        line1: String,
        line2: String? = nil,
        city: String,
        region: String? = nil,
        postalCode: String? = nil,
        country: String,
        location: GeoPoint? = nil
    ) {
        self.name = name
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.country = country
        self.location = location
    }
}

/// One line of an order as a channel sends it: a SKU code, units and the unit price.
public struct NewOrderLine: Hashable, Sendable {
    public var skuCode: String
    public var quantity: Int64
    public var unitPriceMinor: Int64

    public init(skuCode: String, quantity: Int64, unitPriceMinor: Int64) {
        self.skuCode = skuCode
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
    }
}

/// How the customer pays, as handed to a `PaymentVerifier`.
public struct PaymentDetails: Hashable, Sendable {
    /// e.g. `card`, `invoice`, `bank_transfer`, `cash`.
    public var method: String
    /// The payment provider's token or reference for this payment, if any.
    public var token: String?

    public init(method: String, token: String? = nil) {
        self.method = method
        self.token = token
    }
}

/// An order as a sales channel submits it, before validation.
public struct NewOrder: Hashable, Sendable {
    public var channel: SalesChannel
    /// The channel's own id for the order: (channel, externalID) makes capture idempotent.
    public var externalID: String
    public var currency: String
    public var lines: [NewOrderLine]
    public var shipTo: PostalAddress
    /// The billing address's country, when the channel knows it (compared with the shipping country).
    public var billingCountry: String?
    public var email: String?
    public var shippingMinor: Int64
    public var taxMinor: Int64
    public var discountMinor: Int64
    public var payment: PaymentDetails?
    /// What the storefront already did with the payment (authorized it, captured it...), stated at
    /// capture: then no verifier is asked. Its amount, if stated, must be the order's total.
    public var statedPayment: StatedPayment?
    /// A fraud score 0-100 from the channel or an upstream screening service.
    public var riskScore: Int?
    /// The channel (say, a phone agent) asks for a person to look at the order before it ships.
    public var reviewRequested: Bool
    /// The shipping service the customer chose (a rate's service, `express`); nil for any.
    public var serviceLevel: String?
    /// How urgently to fulfil it; nil for the channel's default.
    public var priority: OrderPriority?

    public init(
        channel: SalesChannel,
        externalID: String,
        currency: String,
        lines: [NewOrderLine],
        shipTo: PostalAddress,
        billingCountry: String? = nil,
        email: String? = nil,
        shippingMinor: Int64 = 0,
        taxMinor: Int64 = 0,
        discountMinor: Int64 = 0,
        payment: PaymentDetails? = nil,
        riskScore: Int? = nil,
        reviewRequested: Bool = false,
        serviceLevel: String? = nil,
        priority: OrderPriority? = nil
    ) {
        self.channel = channel
        self.externalID = externalID
        self.currency = currency
        self.lines = lines
        self.shipTo = shipTo
        self.billingCountry = billingCountry
        self.email = email
        self.shippingMinor = shippingMinor
        self.taxMinor = taxMinor
        self.discountMinor = discountMinor
        self.payment = payment
        self.riskScore = riskScore
        self.reviewRequested = reviewRequested
        self.serviceLevel = serviceLevel
        self.priority = priority
    }
}

/// A payment as the storefront reports it at capture.
public struct StatedPayment: Hashable, Sendable {
    public var status: PaymentStatus
    /// Minor units in the order's currency; nil for the order's total.
    public var amountMinor: Int64?
    public var currency: String?
    public var provider: String
    public var reference: String?

    public init(status: PaymentStatus, amountMinor: Int64?, currency: String?, provider: String, reference: String?) {
        self.status = status
        self.amountMinor = amountMinor
        self.currency = currency
        self.provider = provider
        self.reference = reference
    }
}

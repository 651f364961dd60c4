import Foundation

/// An order as stored, with its lines.
public struct OrderRecord: Hashable, Sendable {
    public var id: Int64
    public var channel: SalesChannel
    public var externalID: String
    public var status: OrderStatus
    public var holdReason: HoldReason?
    public var paymentStatus: PaymentStatus
    public var currency: CurrencyCode
    public var subtotalMinor: Int64
    public var totalMinor: Int64
    /// The part of the total cancelled units released (`ParcelShare.cancelledShare`): the order owes
    /// `totalMinor - cancelledMinor`.
    public var cancelledMinor: Int64
    public var shipTo: PostalAddress
    public var billingCountry: String?
    public var email: String?
    public var riskScore: Int?
    public var reviewRequested: Bool
    public var routingStrategy: String?
    /// The rate service the customer chose; nil for any.
    public var serviceLevel: String?
    public var priority: OrderPriority
    public var lines: [OrderLineRecord]

    public var total: Money { Money(minorUnits: totalMinor, currency: currency) }
    /// What the order owes once cancelled units are taken off.
    public var dueMinor: Int64 { totalMinor - cancelledMinor }
    /// Units reserved across the lines.
    public var unitsReserved: Int64 { lines.reduce(0) { $0 + $1.reserved } }
    public var unitsBackordered: Int64 { lines.reduce(0) { $0 + $1.backordered } }

    public init(
        id: Int64,
        channel: SalesChannel,
        externalID: String,
        status: OrderStatus,
        holdReason: HoldReason?,
        paymentStatus: PaymentStatus,
        currency: CurrencyCode,
        subtotalMinor: Int64,
        totalMinor: Int64,
        cancelledMinor: Int64 = 0,
        shipTo: PostalAddress,
        billingCountry: String?,
        email: String?,
        riskScore: Int?,
        reviewRequested: Bool,
        routingStrategy: String?,
        serviceLevel: String? = nil,
        priority: OrderPriority = .normal,
        lines: [OrderLineRecord]
    ) {
        self.id = id
        self.channel = channel
        self.externalID = externalID
        self.status = status
        self.holdReason = holdReason
        self.paymentStatus = paymentStatus
        self.currency = currency
        self.subtotalMinor = subtotalMinor
        self.totalMinor = totalMinor
        self.cancelledMinor = cancelledMinor
        self.shipTo = shipTo
        self.billingCountry = billingCountry
        self.email = email
        self.riskScore = riskScore
        self.reviewRequested = reviewRequested
        self.routingStrategy = routingStrategy
        self.serviceLevel = serviceLevel
        self.priority = priority
        self.lines = lines
    }
}

/// One line of a stored order and where its units stand.
public struct OrderLineRecord: Hashable, Sendable {
    public var id: Int64
    public var lineNo: Int
    public var skuID: Int64
    public var skuCode: String
    public var unitWeightGrams: Int64
    public var quantity: Int64
    public var unitPriceMinor: Int64
    public var reserved: Int64
    public var backordered: Int64
    public var shipped: Int64
    public var cancelled: Int64

    /// Units neither reserved, shipped nor cancelled: what routing still has to place.
    public var open: Int64 { quantity - reserved - shipped - cancelled }

    public init(
        id: Int64,
        lineNo: Int,
        skuID: Int64,
        skuCode: String,
        unitWeightGrams: Int64,
        quantity: Int64,
        unitPriceMinor: Int64,
        reserved: Int64,
        backordered: Int64,
        shipped: Int64,
        cancelled: Int64
    ) {
        self.id = id
        self.lineNo = lineNo
        self.skuID = skuID
        self.skuCode = skuCode
        self.unitWeightGrams = unitWeightGrams
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
        self.reserved = reserved
        self.backordered = backordered
        self.shipped = shipped
        self.cancelled = cancelled
    }
}

/// One row of an order's history.
public struct OrderEventRecord: Hashable, Sendable {
    public var id: Int64
    public var event: String
    public var from: String?
    public var to: String
    public var actor: String
    public var reason: String?
    public var data: String
    public var at: Date

    public init(
        id: Int64,
        event: String,
        from: String?,
        to: String,
        actor: String,
        reason: String?,
        data: String,
        at: Date
    ) {
        self.id = id
        self.event = event
        self.from = from
        self.to = to
        self.actor = actor
        self.reason = reason
        self.data = data
        self.at = at
    }
}

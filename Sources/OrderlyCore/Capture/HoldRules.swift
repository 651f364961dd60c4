/// What hold rules look at: the order as stored, so a held order can be re-evaluated later from
/// the same facts (plus whatever changed since, such as its payment status).
public struct HoldContext: Hashable, Sendable {
    public var channel: SalesChannel
    public var total: Money
    public var shipTo: PostalAddress
    public var billingCountry: String?
    public var email: String?
    public var riskScore: Int?
    public var reviewRequested: Bool
    public var paymentStatus: PaymentStatus
    /// The channel reserves stock for unpaid orders for a while (so pending payment is no hold).
    public var reservesUnpaid: Bool
    /// The channel's value and fraud thresholds.
    public var limits: HoldLimits

    public init(
        channel: SalesChannel,
        total: Money,
        shipTo: PostalAddress,
        billingCountry: String?,
        email: String?,
        riskScore: Int?,
        reviewRequested: Bool,
        paymentStatus: PaymentStatus,
        reservesUnpaid: Bool,
        limits: HoldLimits
    ) {
        self.channel = channel
        self.total = total
        self.shipTo = shipTo
        self.billingCountry = billingCountry
        self.email = email
        self.riskScore = riskScore
        self.reviewRequested = reviewRequested
        self.paymentStatus = paymentStatus
        self.reservesUnpaid = reservesUnpaid
        self.limits = limits
    }
}

/// One reason a rule found to hold an order, in words for the reviewer.
public struct HoldFinding: Hashable, Sendable, CustomStringConvertible {
    public var rule: String
    public var reason: HoldReason
    public var detail: String

    public init(rule: String, reason: HoldReason, detail: String) {
        self.rule = rule
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue) (\(rule)): \(detail)" }
}

/// A rule that may hold an order for manual review. Pure: same context, same answer.
public protocol HoldRule: Sendable {
    var name: String { get }
    func evaluate(_ context: HoldContext) -> HoldFinding?
}

/// The channel or an agent asked for a review.
public struct ReviewRequestedRule: HoldRule {
    public let name = "review_requested"
    public init() {}
    public func evaluate(_ context: HoldContext) -> HoldFinding? {
        context.reviewRequested
            ? HoldFinding(rule: name, reason: .manual, detail: "review requested at capture") : nil
    }
}

/// Failed payments always hold; pending ones hold unless the channel reserves for unpaid orders.
public struct PaymentRule: HoldRule {
    public let name = "payment"
    public init() {}
    public func evaluate(_ context: HoldContext) -> HoldFinding? {
        switch context.paymentStatus {
        case .failed, .voided:
            return HoldFinding(rule: name, reason: .paymentFailed, detail: "payment \(context.paymentStatus.rawValue)")
        case .pending where !context.reservesUnpaid:
            return HoldFinding(rule: name, reason: .paymentPending, detail: "payment pending")
        default:
            return nil
        }
    }
}

/// An address a carrier could not deliver to, or a billing country that is not the shipping one.
public struct AddressRule: HoldRule {
    public let name = "address"
    /// Countries whose addresses have no postal code (everywhere else needs one).
    public var countriesWithoutPostalCodes: Set<String>

    public init(
        countriesWithoutPostalCodes: Set<String> = [
            "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BZ", "CD", "CF", "CG", "CI", "CK", "CM", "DJ",
            "DM", "ER", "FJ", "GD", "GH", "GM", "GQ", "GY", "HK", "IE", "KI", "KM", "KN", "LY", "ML", "MO", "MR",
            "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SR", "ST", "SY", "TD", "TF", "TG", "TK", "TL", "TO",
            "TV", "UG", "VU", "YE", "ZW",
        ]
    ) {
        self.countriesWithoutPostalCodes = countriesWithoutPostalCodes
    }

    public func evaluate(_ context: HoldContext) -> HoldFinding? {
        let postal = context.shipTo.postalCode ?? ""
        if postal.allSatisfy(\.isWhitespace) && !countriesWithoutPostalCodes.contains(context.shipTo.country) {
            return HoldFinding(
                rule: name,
                reason: .addressIncomplete,
                detail: "no postal code for a \(context.shipTo.country) address"
            )
        }
        if let billing = context.billingCountry, billing != context.shipTo.country {
            return HoldFinding(
                rule: name,
                reason: .addressMismatch,
                detail: "billing country \(billing) differs from shipping country \(context.shipTo.country)"
            )
        }
        return nil
    }
}

/// Orders at or above the channel's limit for their currency.
public struct HighValueRule: HoldRule {
    public let name = "high_value"

    public init() {}

    public func evaluate(_ context: HoldContext) -> HoldFinding? {
        guard let limit = context.limits.highValueMinor[context.total.currency.code], context.total.minorUnits >= limit
        else {
            return nil
        }
        return HoldFinding(
            rule: name,
            reason: .highValue,
            detail: "total \(context.total.minorUnits) \(context.total.currency) is at or over \(limit)"
        )
    }
}

/// A fraud score at or over the channel's limit, or an e-mail domain on the block list.
public struct HighRiskRule: HoldRule {
    public let name = "high_risk"
    public var blockedEmailDomains: Set<String>

    public init(blockedEmailDomains: Set<String> = []) {
        self.blockedEmailDomains = blockedEmailDomains
    }

    public func evaluate(_ context: HoldContext) -> HoldFinding? {
        if let score = context.riskScore, score >= context.limits.riskScore {
            return HoldFinding(
                rule: name,
                reason: .highRisk,
                detail: "risk score \(score) >= \(context.limits.riskScore)"
            )
        }
        if let domain = context.email?.split(separator: "@").last.map({ $0.lowercased() }),
            blockedEmailDomains.contains(domain)
        {
            return HoldFinding(rule: name, reason: .highRisk, detail: "e-mail domain \(domain) is blocked")
        }
        return nil
    }
}

/// The hold rules in force, in precedence order: the first finding names the order's hold reason;
/// all findings are recorded with the hold event.
public struct HoldPolicy: Sendable {
    public var rules: [any HoldRule]

    public init(rules: [any HoldRule]) {
        self.rules = rules
    }

    public func evaluate(_ context: HoldContext) -> [HoldFinding] {
        rules.compactMap { $0.evaluate(context) }
    }

    /// Review requests, failed payments, bad addresses, fraud, high value, then pending payments.
    public static let standard = HoldPolicy(rules: [
        ReviewRequestedRule(),
        PaymentRule(),
        AddressRule(),
        HighRiskRule(),
        HighValueRule(),
    ])
}

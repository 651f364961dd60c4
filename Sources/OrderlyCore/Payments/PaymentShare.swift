/// An order's money as its ledger has it (succeeded rows; a refund still with the provider counts as
/// `refunding`). All amounts in the order's minor units.
public struct PaymentBalance: Hashable, Sendable {
    public var total: Int64
    public var authorized: Int64
    public var captured: Int64
    public var refunded: Int64
    public var voided: Int64
    public var refunding: Int64
    /// Captures still with the provider.
    public var capturing: Int64
    /// What the order owes: its total less what cancelled units released.
    public var due: Int64

    public init(
        total: Int64,
        authorized: Int64,
        captured: Int64,
        refunded: Int64,
        voided: Int64,
        refunding: Int64,
        capturing: Int64 = 0,
        due: Int64? = nil
    ) {
        self.total = total
        self.authorized = authorized
        self.captured = captured
        self.refunded = refunded
        self.voided = voided
        self.refunding = refunding
        self.capturing = capturing
        self.due = due ?? total
    }

    /// What the authorization still covers: what a capture may take.
    public var capturable: Int64 { max(authorized - captured - voided, 0) }
    /// What a void may release: the authorization's rest, less captures in flight.
    public var voidable: Int64 { max(capturable - capturing, 0) }
    /// What the order owes and has not collected (never negative: money collected beyond what is due
    /// after a cancellation is refunded, not owed back here).
    public var outstanding: Int64 { max(due - captured, 0) }
    /// What a new refund may return.
    public var refundable: Int64 { captured - refunded - refunding }

    /// The order's payment status this ledger comes to; `current` where the ledger says nothing
    /// (nothing authorized: pending or failed stay what the provider said).
    public func status(current: PaymentStatus) -> PaymentStatus {
        if refunded > 0 { return refunded >= captured ? .refunded : .partiallyRefunded }
        if captured > 0 { return captured >= due || capturable == 0 ? .captured : .partiallyCaptured }
        if authorized > 0 { return capturable > 0 ? .authorized : .voided }
        return current
    }
}

/// How much of an order's total each parcel captures when it ships.
///
/// Shipping, tax and discount belong to the order, not to a parcel, so each parcel carries them in
/// proportion to the value of its goods: once goods worth `V` of the order's subtotal `S` have shipped,
/// `floor(total × V / S)` is due in all, and the parcel that ships the last unit makes it `total`
/// exactly. A parcel's share is what is due after it minus what was captured before it, so the shares
/// sum to the total whatever order the parcels leave in, and never to more. Units cancelled before
/// they ship are never due (their share is voided with the authorization's rest).
public enum ParcelShare {
    /// What is due once `shippedValue` of `subtotal` has shipped (`everythingShipped`: no unit left open).
    public static func due(total: Int64, subtotal: Int64, shippedValue: Int64, everythingShipped: Bool) -> Int64 {
        if everythingShipped { return total }
        guard subtotal > 0, shippedValue > 0 else { return 0 }
        let value = min(shippedValue, subtotal)
        // total × value / subtotal without overflow: both factors are below 2^63.
        let product = total.multipliedFullWidth(by: value)
        let (quotient, _) = subtotal.dividingFullWidth(product)
        return quotient
    }

    /// The part of the total that cancelled units release, by the same proportion: `floor(total ×
    /// cancelledValue / subtotal)` while units are still open; once none is (everything left shipped or
    /// cancelled), everything the shipped goods do not owe, so what parcels captured is exactly what is
    /// due and no rounding unit is left over. With no goods value (a free order) only a cancel of
    /// every unit releases anything.
    public static func cancelledShare(
        total: Int64,
        subtotal: Int64,
        cancelledValue: Int64,
        shippedValue: Int64,
        nothingOpen: Bool,
        anythingShipped: Bool
    ) -> Int64 {
        guard subtotal > 0 else { return nothingOpen && !anythingShipped ? total : 0 }
        if nothingOpen {
            return total - due(total: total, subtotal: subtotal, shippedValue: shippedValue, everythingShipped: false)
        }
        return due(total: total, subtotal: subtotal, shippedValue: cancelledValue, everythingShipped: false)
    }

    /// The parcel's share: due after it (its goods added to what shipped before) less what was
    /// captured already; never negative.
    public static func share(
        total: Int64,
        subtotal: Int64,
        shippedValueBefore: Int64,
        parcelValue: Int64,
        everythingShippedAfter: Bool,
        capturedBefore: Int64
    ) -> Int64 {
        let due = due(
            total: total,
            subtotal: subtotal,
            shippedValue: shippedValueBefore + parcelValue,
            everythingShipped: everythingShippedAfter
        )
        return max(due - capturedBefore, 0)
    }
}

/// One row of an order's payment ledger, as a service writes it.
public struct PaymentEntry: Hashable, Sendable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case authorization, capture, refund, void

        /// The row a gateway operation's receipt makes.
        public init(_ operation: GatewayOperation) {
            switch operation {
            case .authorize: self = .authorization
            case .capture: self = .capture
            case .refund: self = .refund
            case .void: self = .void
            }
        }

        /// The order event the row is.
        public var fact: OrderFact {
            switch self {
            case .authorization: .paymentAuthorized
            case .capture: .paymentCaptured
            case .refund: .paymentRefunded
            case .void: .paymentVoided
            }
        }
    }
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case pending, succeeded, failed
    }

    public var kind: Kind
    public var outcome: Outcome
    public var amountMinor: Int64
    public var provider: String
    public var reference: String?
    public var error: String?
    /// Makes the row idempotent: a second row with the key is not written.
    public var idempotencyKey: String?
    public var shipmentID: Int64?
    public var note: String?

    public init(
        kind: Kind,
        outcome: Outcome,
        amountMinor: Int64,
        provider: String,
        reference: String? = nil,
        error: String? = nil,
        idempotencyKey: String? = nil,
        shipmentID: Int64? = nil,
        note: String? = nil
    ) {
        self.kind = kind
        self.outcome = outcome
        self.amountMinor = amountMinor
        self.provider = provider
        self.reference = reference
        self.error = error
        self.idempotencyKey = idempotencyKey
        self.shipmentID = shipmentID
        self.note = note
    }

    /// The row a payment verdict (at capture, `PAYMENT RECORD`) makes, idempotent on provider +
    /// reference + status when it has a reference.
    public init(verdict: PaymentVerdict, amountMinor: Int64, note: String? = nil) {
        let idempotencyKey = verdict.reference.map { "record:\(verdict.provider):\($0):\(verdict.status.rawValue)" }
        let kind: Kind =
            switch verdict.status {
            case .captured, .partiallyCaptured: .capture
            case .voided: .void
            case .refunded, .partiallyRefunded: .refund
            default: .authorization
            }
        let outcome: Outcome =
            switch verdict.status {
            case .pending: .pending
            case .failed: .failed
            default: .succeeded
            }
        self.init(
            kind: kind,
            outcome: outcome,
            amountMinor: amountMinor,
            provider: verdict.provider,
            reference: verdict.reference,
            error: verdict.status == .failed ? verdict.message : nil,
            idempotencyKey: idempotencyKey,
            note: note
        )
    }
}

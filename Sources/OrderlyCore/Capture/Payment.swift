/// Where an order's payment stands. Raw values are what `orders.payment_status` stores.
public enum PaymentStatus: String, CaseIterable, Sendable, Hashable {
    case pending, authorized
    /// Some parcels' shares are captured; the authorization covers the rest.
    case partiallyCaptured = "partially_captured"
    case captured, failed, voided
    case partiallyRefunded = "partially_refunded"
    case refunded

    /// Money is secured: the order may ship.
    public var isSecured: Bool { self == .authorized || self == .partiallyCaptured || self == .captured }

    /// An authorization still open: each parcel's share is captured as it ships, the rest voided on
    /// cancel. (Money captured at checkout is not.)
    public var drawsOnAuthorization: Bool { self == .authorized || self == .partiallyCaptured }

    /// The statuses a storefront or provider can state (at capture, `PAYMENT RECORD`): the others
    /// are what Orderly's own captures, voids and refunds lead to.
    public static let stated: [PaymentStatus] = [.pending, .authorized, .captured, .failed, .voided, .refunded]
}

/// What a verifier is asked about.
public struct PaymentCheck: Hashable, Sendable {
    public var channel: SalesChannel
    public var externalID: String
    public var amount: Money
    public var details: PaymentDetails?

    public init(channel: SalesChannel, externalID: String, amount: Money, details: PaymentDetails?) {
        self.channel = channel
        self.externalID = externalID
        self.amount = amount
        self.details = details
    }
}

/// What a verifier answered.
public struct PaymentVerdict: Hashable, Sendable {
    public var status: PaymentStatus
    /// The verifier's name, stored with the payment row.
    public var provider: String
    public var reference: String?
    /// Why a payment failed or is pending, in the provider's words.
    public var message: String?

    public init(status: PaymentStatus, provider: String, reference: String? = nil, message: String? = nil) {
        self.status = status
        self.provider = provider
        self.reference = reference
        self.message = message
    }
}

/// Asks a payment provider where an order's payment stands. Capture calls it once per new order,
/// before anything is written; an error from it refuses the capture (nothing is stored).
public protocol PaymentVerifier: Sendable {
    func verify(_ check: PaymentCheck) async throws -> PaymentVerdict
}

/// A deterministic verifier for tests, demos and channels that settle elsewhere. It reads the token
/// the way card networks' test numbers work:
///
/// | token | status |
/// |---|---|
/// | `tok_authorized` (or any `tok_ok...`) | authorized |
/// | `tok_captured` | captured |
/// | `tok_pending` | pending |
/// | `tok_failed`, `tok_declined` | failed |
/// | no payment, or no token | pending |
///
/// Method `invoice` (B2B terms) and `cash` (POS) count as authorized without a token. Any other token
/// is failed ("unknown token"), so a typo never passes as paid.
public struct BuiltinPaymentVerifier: PaymentVerifier {
    public static let provider = "builtin"

    public init() {}

    public func verify(_ check: PaymentCheck) async throws -> PaymentVerdict {
        Self.verdict(for: check)
    }

    public static func verdict(for check: PaymentCheck) -> PaymentVerdict {
        let reference = "\(provider)-\(check.channel.rawValue)-\(check.externalID)"
        guard let details = check.details else {
            return PaymentVerdict(status: .pending, provider: provider, message: "no payment given")
        }
        guard let token = details.token else {
            if details.method == "invoice" || details.method == "cash" {
                return PaymentVerdict(status: .authorized, provider: provider, reference: reference)
            }
            return PaymentVerdict(status: .pending, provider: provider, message: "awaiting \(details.method) payment")
        }
        switch token {
        case "tok_authorized",
            _ where token.hasPrefix("tok_ok"):
            return PaymentVerdict(status: .authorized, provider: provider, reference: reference)
        case "tok_captured":
            return PaymentVerdict(status: .captured, provider: provider, reference: reference)
        case "tok_pending":
            return PaymentVerdict(status: .pending, provider: provider, reference: reference, message: "pending")
        case "tok_failed", "tok_declined":
            return PaymentVerdict(status: .failed, provider: provider, reference: reference, message: "card declined")
        default:
            return PaymentVerdict(status: .failed, provider: provider, message: "unknown token")
        }
    }
}

/// Store credit as a payment: a stated payment with this provider (`payment=captured
/// provider=store_credit`) is paid from the customer's balance at capture, and refunds of such an
/// order go back to the balance, not to a gateway.
public enum StoreCredit {
    public static let provider = "store_credit"
}

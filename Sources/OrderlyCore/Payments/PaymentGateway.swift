import Synchronization

/// What Orderly asks a payment provider to do with money the storefront authorized.
public enum GatewayOperation: String, Sendable, Hashable, CaseIterable {
    case authorize, capture, void, refund
}

/// One request to a payment provider. `idempotencyKey` is the same on every retry of one intent
/// (`capture:shipment:42`), so a provider that saw it before answers as before and takes nothing twice.
public struct GatewayRequest: Hashable, Sendable {
    public var operation: GatewayOperation
    public var orderID: Int64
    public var amount: Money
    public var idempotencyKey: String
    /// The provider's reference of the authorization this draws on, when there is one.
    public var authorization: String?
    /// Which try this is (1 first), from the job that makes it.
    public var attempt: Int

    public init(
        operation: GatewayOperation,
        orderID: Int64,
        amount: Money,
        idempotencyKey: String,
        authorization: String?,
        attempt: Int
    ) {
        self.operation = operation
        self.orderID = orderID
        self.amount = amount
        self.idempotencyKey = idempotencyKey
        self.authorization = authorization
        self.attempt = attempt
    }
}

/// A provider's yes.
public struct GatewayReceipt: Hashable, Sendable {
    /// The provider's reference for this operation, stored in `payments.provider_ref`.
    public var reference: String
    /// An instruction for an external system to carry out (the recording gateway's), written to the
    /// outbox in the transaction that records the receipt.
    public var instruction: OutboxMessage?

    public init(reference: String, instruction: OutboxMessage? = nil) {
        self.reference = reference
        self.instruction = instruction
    }
}

/// A provider's no, or no answer. Either way nothing is recorded and the job that asked retries with
/// the same key; after its attempts the order is held (`payment_failed`).
public enum GatewayFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The provider refused (card declined, authorization expired): it took nothing.
    case declined(String)
    /// No answer within the deadline: the provider may or may not have acted (the retry's key settles it).
    case timedOut(seconds: Double)

    public var description: String {
        switch self {
        case .declined(let why): "declined: \(why)"
        case .timedOut(let seconds): "no answer from the payment provider within \(seconds) s"
        }
    }
}

/// A payment provider Orderly drives after the sale: captures each parcel's share when it ships, voids
/// what will not ship, refunds what comes back. Called outside any transaction; the caller records
/// the receipt afterwards, so an implementation must honour `idempotencyKey`.
public protocol PaymentGateway: Sendable {
    /// Stored as `payments.provider` of the rows this gateway's receipts make.
    var name: String { get }
    func perform(_ request: GatewayRequest) async throws -> GatewayReceipt
}

/// The gateway for a business whose payment system acts on its own: every request is granted at once
/// and written to the outbox as a `payment_instruction` to `recipient` (a webhook the payment system
/// listens on), which the worker delivers at least once, deduplicated by the request's key.
public struct RecordingGateway: PaymentGateway {
    public let name = "recording"
    public var recipient: String
    public var channel: String

    public init(recipient: String = "payments", channel: String = "webhook") {
        self.recipient = recipient
        self.channel = channel
    }

    public func perform(_ request: GatewayRequest) async throws -> GatewayReceipt {
        let amount = "\(request.amount.minorUnits) \(request.amount.currency.code)"
        return GatewayReceipt(
            reference: "rec:\(request.idempotencyKey)",
            instruction: OutboxMessage(
                kind: .paymentInstruction,
                recipient: recipient,
                subject: "\(request.operation.rawValue) \(amount) for order \(request.orderID)",
                body: DecisionJSON.encode([
                    "operation": request.operation.rawValue, "order_id": request.orderID,
                    "amount_minor": request.amount.minorUnits, "currency": request.amount.currency.code,
                    "authorization": request.authorization ?? "", "idempotency_key": request.idempotencyKey,
                ]),
                dedupeKey: "payment:\(request.idempotencyKey)"
            )
        )
    }
}

/// A provider for tests and demos, scripted by the authorization's reference the way card networks'
/// test numbers work, so a worker in another process obeys the same script:
///
/// | reference contains | capture |
/// |---|---|
/// | `capture_declines:N` | declined on attempts 1...N, then granted |
/// | `capture_declines:always` | always declined |
/// | `capture_hangs:N` | no answer on attempts 1...N (the provider took the money: it answers the retry from its record) |
///
/// Like a real provider it keeps what it granted by key: a retried key is answered from that record
/// and takes nothing again. `granted` shows what it took.
public final class ScriptedGateway: PaymentGateway {
    public let name = "test"
    private let taken = Mutex<[String: GatewayRequest]>([:])

    public init() {}

    /// What the provider took, by idempotency key.
    public var granted: [String: GatewayRequest] { taken.withLock { $0 } }

    public func perform(_ request: GatewayRequest) async throws -> GatewayReceipt {
        let receipt = GatewayReceipt(reference: "test:\(request.idempotencyKey)")
        if taken.withLock({ $0[request.idempotencyKey] }) != nil { return receipt }
        let script = request.operation == .capture ? (request.authorization ?? "") : ""
        if let limit = Self.count(after: "capture_declines:", in: script), request.attempt <= limit {
            throw GatewayFailure.declined("scripted decline (attempt \(request.attempt))")
        }
        taken.withLock { $0[request.idempotencyKey] = request }
        if let limit = Self.count(after: "capture_hangs:", in: script), request.attempt <= limit {
            // Taken, but the answer never comes: the caller's deadline ends the wait.
            while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
            throw CancellationError()
        }
        return receipt
    }

    /// N in `<marker>N`, `Int.max` for `<marker>always`, nil without the marker.
    static func count(after marker: String, in script: String) -> Int? {
        guard let range = script.range(of: marker) else { return nil }
        let rest = script[range.upperBound...].prefix { $0.isLetter || $0.isNumber }
        return rest == "always" ? Int.max : Int(rest)
    }
}

/// A claim on a parcel that went wrong on its way: what happened (`claims.kind`).
public enum ClaimKind: String, CaseIterable, Sendable, Hashable {
    case lost, damaged, delayed
    case returnedToSender = "returned_to_sender"

    /// The claim a carrier exception opens.
    public init?(_ event: CarrierEvent) {
        switch event {
        case .delivered: return nil
        case .delayed: self = .delayed
        case .lost: self = .lost
        case .damaged: self = .damaged
        case .returnedToSender: self = .returnedToSender
        }
    }
}

/// How a claim is resolved (`claims.resolution`): its units sent again through the normal
/// reservation path, refunded, or (a delayed parcel) delivered after all.
public enum ClaimResolution: String, CaseIterable, Sendable, Hashable {
    case reship, refund, delivered
}

/// What a channel does with a claim by itself (`channel_policies.claim_action`).
public enum ClaimAction: String, CaseIterable, Sendable, Hashable {
    /// A person resolves it (`CLAIM RESOLVE`).
    case none
    case reship, refund

    public var resolution: ClaimResolution? {
        switch self {
        case .none: nil
        case .reship: .reship
        case .refund: .refund
        }
    }
}

public enum ClaimStatus: String, CaseIterable, Sendable, Hashable {
    case open, resolved
}

/// A claim as the services read it.
public struct ClaimRecord: Hashable, Sendable {
    public var id: Int64
    public var orderID: Int64
    public var shipmentID: Int64
    public var kind: ClaimKind
    public var status: ClaimStatus

    public init(id: Int64, orderID: Int64, shipmentID: Int64, kind: ClaimKind, status: ClaimStatus) {
        self.id = id
        self.orderID = orderID
        self.shipmentID = shipmentID
        self.kind = kind
        self.status = status
    }
}

extension ClaimResolution {
    /// The order's move once a claim is resolved this way (`lines` as they are after it: a reship's
    /// units open again, a refund's cancelled), given its other parcels' statuses; nil while another
    /// claim of the order is still open (it stays in `exception` until the last is resolved).
    public func orderEvent(
        lines: [OrderLineRecord],
        otherParcels: [ShipmentStatus],
        otherOpenClaims: Bool
    ) -> OrderEvent? {
        guard !otherOpenClaims else { return nil }
        let open = lines.reduce(Int64(0)) { $0 + $1.quantity - $1.shipped - $1.cancelled }
        if self == .reship || open > 0 { return .resolveOpen }
        if otherParcels.contains(where: ShipmentStatus.inTransit.contains) { return .resolveShipped }
        if otherParcels.contains(.delivered) { return .resolveDelivered }
        return .resolveCancelled
    }
}

/// What is known about an order that could be keeping it from moving on: the facts `OrderWaits`
/// turns into sentences. Read in one statement (`OrderStore.waitFacts`).
public struct OrderWaitFacts: Hashable, Sendable {
    public struct Backorder: Hashable, Sendable {
        public var sku: String
        public var units: Int64
        /// When they are expected (`STOCK EXPECT`), behind the orders ahead in the queue.
        public var expected: LocalDate?
        public init(sku: String, units: Int64, expected: LocalDate? = nil) {
            (self.sku, self.units, self.expected) = (sku, units, expected)
        }
    }
    public struct MissingRate: Hashable, Sendable {
        public var warehouse: String
        public var country: String
        public var grams: Int64
        public init(warehouse: String, country: String, grams: Int64) {
            (self.warehouse, self.country, self.grams) = (warehouse, country, grams)
        }
    }
    public struct Job: Hashable, Sendable {
        public var id: Int64
        public var kind: String
        /// Pending (available, scheduled, retryable, running) or discarded.
        public var state: JobState
        public var lastError: String?
        public init(id: Int64, kind: String, state: JobState, lastError: String? = nil) {
            (self.id, self.kind, self.state, self.lastError) = (id, kind, state, lastError)
        }
    }
    public struct Parcel: Hashable, Sendable {
        public var shipment: Int64
        public var status: ShipmentStatus
        public var carrier: String?
        public var tracking: String?
        public init(shipment: Int64, status: ShipmentStatus, carrier: String? = nil, tracking: String? = nil) {
            (self.shipment, self.status, self.carrier, self.tracking) = (shipment, status, carrier, tracking)
        }
    }

    public var orderID: Int64
    public var status: OrderStatus
    public var holdReason: HoldReason?
    /// The reason the last move to on_hold gave.
    public var holdNote: String?
    public var paymentStatus: PaymentStatus
    /// Units with no stock reserved for them yet.
    public var backordered: [Backorder] = []
    /// When the unpaid order's reservations lapse (RFC 3339), if they do.
    public var reservedUntil: String?
    /// Reserved units whose parcel no active rate carries to the destination.
    public var missingRates: [MissingRate] = []
    public var jobs: [Job] = []
    /// Pick lists being walked in a warehouse that confirms by scanner.
    public var scannerLists: [(id: Int64, warehouse: String)] = []
    public var inTransit: [Parcel] = []

    public init(orderID: Int64, status: OrderStatus, holdReason: HoldReason?, paymentStatus: PaymentStatus) {
        self.orderID = orderID
        self.status = status
        self.holdReason = holdReason
        self.paymentStatus = paymentStatus
    }

    public static func == (lhs: OrderWaitFacts, rhs: OrderWaitFacts) -> Bool {
        lhs.orderID == rhs.orderID && lhs.status == rhs.status && lhs.holdReason == rhs.holdReason
            && lhs.holdNote == rhs.holdNote && lhs.paymentStatus == rhs.paymentStatus
            && lhs.backordered == rhs.backordered && lhs.reservedUntil == rhs.reservedUntil
            && lhs.missingRates == rhs.missingRates && lhs.jobs == rhs.jobs && lhs.inTransit == rhs.inTransit
            && lhs.scannerLists.map(\.id) == rhs.scannerLists.map(\.id)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(orderID)
        hasher.combine(status)
    }
}

/// What an order is waiting for, in words an operator can act on: each sentence names the thing
/// awaited, then the command (or process) that provides it. Empty when the order waits for nothing
/// (delivered, cancelled, returned). Pure: ORDER SHOW and ORDER TIMELINE print it.
public enum OrderWaits {
    public static func describe(_ facts: OrderWaitFacts) -> [String] {
        let id = facts.orderID
        var waits: [String] = []
        switch facts.status {
        case .delivered, .cancelled, .returned, .partiallyReturned:
            return []
        case .onHold:
            let why = facts.holdNote.map { ": \($0)" } ?? ""
            switch facts.holdReason {
            case .paymentPending?:
                waits.append(
                    "payment: held until its payment is secured\(why) (PAYMENT RECORD order=\(id) "
                        + "status=authorized reference=... re-evaluates it; ORDER RELEASE \(id) note=... lifts the "
                        + "hold by hand)"
                )
            case .paymentFailed?:
                waits.append(
                    "payment: its payment failed\(why) (a new authorization, PAYMENT RECORD order=\(id) "
                        + "status=authorized reference=..., resumes it; ORDER RELEASE \(id) note=... retries as is)"
                )
            case .fulfillmentFailed?:
                waits.append(
                    "a fix: fulfillment stopped\(why); fix the cause, then ORDER RELEASE \(id) note=... resumes it"
                )
            case let reason?:
                waits.append("a person: held for \(reason.rawValue)\(why) (ORDER RELEASE \(id) note=... releases it)")
            case nil:
                waits.append("a person: held (ORDER RELEASE \(id) note=... releases it)")
            }
        default:
            break
        }
        for line in facts.backordered {
            let when = line.expected.map { "expected \($0)" } ?? "none expected: STOCK EXPECT records an arrival"
            waits.append(
                "stock: \(line.units) × \(line.sku) backordered (\(when); STOCK RECEIVE adds units, it reserves them)"
            )
        }
        let unpaid = !facts.paymentStatus.isSecured && facts.status != .onHold
        if unpaid && [.reserved, .partiallyReserved, .backordered, .received].contains(facts.status) {
            let lapse = facts.reservedUntil.map { "; its reservation lapses at \($0)" } ?? ""
            waits.append(
                "payment: unpaid (payment=\(facts.paymentStatus.rawValue)), so picking has not started\(lapse) "
                    + "(PAYMENT RECORD order=\(id) status=authorized reference=... when the provider confirms it)"
            )
        }
        for rate in facts.missingRates {
            waits.append(
                "a shipping rate: none to \(rate.country) for a \(rate.grams) g parcel from \(rate.warehouse) "
                    + "(RATE ADD ... country=\(rate.country); RATE LIST shows the rates)"
            )
        }
        for list in facts.scannerLists {
            waits.append(
                "a picker: pick list \(list.id) at \(list.warehouse) awaits its counts (PICKLIST CONFIRM \(list.id))"
            )
        }
        for job in facts.jobs where job.state == .discarded {
            let error = job.lastError.map { ": \($0)" } ?? ""
            waits.append("a retry: \(job.kind) job \(job.id) failed for good\(error) (JOBS RETRY \(job.id))")
        }
        let pending = facts.jobs.filter { $0.state != .discarded }
        if !pending.isEmpty {
            let list = pending.map { "\($0.kind) job \($0.id) \($0.state.rawValue)" }.joined(separator: ", ")
            waits.append("the worker: \(list) (is `orderly worker` running? JOBS LIST shows the queue)")
        }
        for parcel in facts.inTransit {
            let how = [parcel.carrier, parcel.tracking].compactMap { $0 }.joined(separator: " ")
            waits.append(
                "delivery: shipment \(parcel.shipment) \(parcel.status.rawValue)\(how.isEmpty ? "" : " (\(how))") "
                    + "(SHIPMENT DELIVER \(parcel.shipment), or the carrier's event)"
            )
        }
        return waits
    }
}

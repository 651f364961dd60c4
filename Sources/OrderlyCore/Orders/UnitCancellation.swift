import Foundation

/// An active reservation of an order's line, as a cancellation finds it under the order's lock: with
/// the live shipment line that carries it, if a pick made one, and that line's pick list lines.
public struct CancellableReservation: Hashable, Sendable {
    public var reservationID: Int64
    public var orderLineID: Int64
    public var warehouseID: Int64
    public var skuID: Int64
    public var quantity: Int64
    public var carrier: Carried?

    public init(
        reservationID: Int64,
        orderLineID: Int64,
        warehouseID: Int64,
        skuID: Int64,
        quantity: Int64,
        carrier: Carried? = nil
    ) {
        self.reservationID = reservationID
        self.orderLineID = orderLineID
        self.warehouseID = warehouseID
        self.skuID = skuID
        self.quantity = quantity
        self.carrier = carrier
    }

    /// The shipment line carrying the reservation (its quantity is the reservation's).
    public struct Carried: Hashable, Sendable {
        public var shipmentID: Int64
        public var status: ShipmentStatus
        public var shipmentLineID: Int64
        public var packed: Int64
        public var pickLines: [PickLine]

        public init(
            shipmentID: Int64,
            status: ShipmentStatus,
            shipmentLineID: Int64,
            packed: Int64,
            pickLines: [PickLine]
        ) {
            self.shipmentID = shipmentID
            self.status = status
            self.shipmentLineID = shipmentLineID
            self.packed = packed
            self.pickLines = pickLines
        }
    }

    /// A pick list line of the shipment line, on a list that is not cancelled.
    public struct PickLine: Hashable, Sendable {
        public var id: Int64
        public var listID: Int64
        public var listStatus: PickListStatus
        public var quantity: Int64
        /// Confirmed (on a completed list); 0 while the list is open or being walked.
        public var picked: Int64
        public var bin: String?
        /// Units on the whole list, every shipment's (a batch holds several orders).
        public var listUnits: Int64

        public init(
            id: Int64,
            listID: Int64,
            listStatus: PickListStatus,
            quantity: Int64,
            picked: Int64,
            bin: String?,
            listUnits: Int64
        ) {
            self.id = id
            self.listID = listID
            self.listStatus = listStatus
            self.quantity = quantity
            self.picked = picked
            self.bin = bin
            self.listUnits = listUnits
        }
    }
}

/// What cancelling units of an order does, decided before anything is written (pure: the order's
/// service reads the facts under its locks, plans, and writes the plan in one statement).
///
/// For each line the units come from where cancelling them costs least: units not yet routed, then
/// backordered ones, then reservations no pick has taken up, then units on a parcel still being picked
/// (a gathering batch shrinks; a list being walked gets a put-back task, since the picker may already
/// hold them), then picked ones (put back from the tote), newest reservation first at each stage. A
/// packed or labelled parcel is cut only whole (its units are unpacked and put back): cutting part of
/// one would leave a box whose contents and label no longer match, so that is refused, naming it.
/// Shipped units cannot be cancelled.
public struct UnitCancellation: Hashable, Sendable {
    public enum Request: Hashable, Sendable {
        /// Everything not shipped (the rest of a partially shipped order, or all of one not shipped).
        case everythingOpen
        /// Units per SKU code.
        case units([String: Int64])
    }

    public struct LineCut: Hashable, Sendable {
        public var orderLineID: Int64
        public var skuCode: String
        public var units: Int64
        /// Of which backordered.
        public var backordered: Int64
        /// Of which reserved (released).
        public var released: Int64
    }

    public struct ReservationCut: Hashable, Sendable {
        public var reservationID: Int64
        public var orderLineID: Int64
        public var warehouseID: Int64
        public var skuID: Int64
        /// Units released; all of the reservation's closes it.
        public var units: Int64

        public init(reservationID: Int64, orderLineID: Int64, warehouseID: Int64, skuID: Int64, units: Int64) {
            self.reservationID = reservationID
            self.orderLineID = orderLineID
            self.warehouseID = warehouseID
            self.skuID = skuID
            self.units = units
        }
    }

    public struct ShipmentLineCut: Hashable, Sendable {
        public var shipmentLineID: Int64
        public var shipmentID: Int64
        /// Units the line keeps (also its reservation's).
        public var quantity: Int64
    }

    public struct PickLineCut: Hashable, Sendable {
        public var id: Int64
        public var listID: Int64
        public var quantity: Int64
        public var picked: Int64
    }

    /// Where units a picker or packer took must go back.
    public enum PutBackSource: String, Hashable, Sendable, CaseIterable {
        /// Confirmed on a completed list: in a tote.
        case picked
        /// On a list being walked: the picker may hold them.
        case walking
        /// In a packed parcel, unpacked.
        case packed
    }

    public struct PutBack: Hashable, Sendable {
        public var warehouseID: Int64
        public var skuID: Int64
        public var bin: String?
        public var units: Int64
        public var shipmentID: Int64
        public var pickListID: Int64?
        public var source: PutBackSource
    }

    public var lines: [LineCut] = []
    public var reservations: [ReservationCut] = []
    public var shipmentLines: [ShipmentLineCut] = []
    public var pickLines: [PickLineCut] = []
    public var putBacks: [PutBack] = []
    /// Shipments left with no units: cancelled.
    public var cancelledShipments: [Int64] = []
    /// Pick lists still open or being walked left with no units: cancelled.
    public var cancelledLists: [Int64] = []
    /// The order's move.
    public var event: OrderEvent = .cancelUnits
    /// `orders.cancelled_minor` after the cut.
    public var cancelledMinor: Int64 = 0
    /// The order's cancelled units after the cut: tells one cancellation from the next.
    public var cancelledUnitsAfter: Int64 = 0
    /// No unit is left to ship or be cancelled.
    public var nothingOpen = false

    public var units: Int64 { lines.reduce(0) { $0 + $1.units } }

    /// The order event's data: what was cut from where, what goes back to the shelves, the money.
    public func eventData(refundMinor: Int64) -> String {
        struct Line: Encodable {
            var sku: String
            var units: Int64
            var backordered: Int64
            var released: Int64
        }
        struct PutBackTask: Encodable {
            var shipment: Int64
            var sku: Int64
            var units: Int64
            var source: String
        }
        struct Data: Encodable {
            var cancelled: [Line]
            var cancelledShipments: [Int64]
            var putBacks: [PutBackTask]
            var cancelledMinor: Int64
            var refundMinor: Int64
            enum CodingKeys: String, CodingKey {
                case cancelled
                case cancelledShipments = "cancelled_shipments"
                case putBacks = "put_backs"
                case cancelledMinor = "cancelled_minor"
                case refundMinor = "refund_minor"
            }
        }
        let data = Data(
            cancelled: lines.map {
                Line(sku: $0.skuCode, units: $0.units, backordered: $0.backordered, released: $0.released)
            },
            cancelledShipments: cancelledShipments,
            putBacks: putBacks.map {
                PutBackTask(shipment: $0.shipmentID, sku: $0.skuID, units: $0.units, source: $0.source.rawValue)
            },
            cancelledMinor: cancelledMinor,
            refundMinor: refundMinor
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Plans the cut, or says precisely why it cannot be made. `reservations` are the order's active
    /// reservations, each with the live shipment carrying it.
    public static func plan(
        order: OrderRecord,
        reservations: [CancellableReservation],
        request: Request
    ) throws(OrderlyError) -> UnitCancellation {
        let wanted = try wantedUnits(order: order, request: request)
        var plan = UnitCancellation()
        var left: [Int64: Int64] = [:]  // reservation id → units it keeps
        for reservation in reservations { left[reservation.reservationID] = reservation.quantity }
        var pickLineLeft: [Int64: (quantity: Int64, picked: Int64)] = [:]
        var listUnitsLeft: [Int64: Int64] = [:]
        for reservation in reservations {
            for line in reservation.carrier?.pickLines ?? [] {
                pickLineLeft[line.id] = (line.quantity, line.picked)
                listUnitsLeft[line.listID] = line.listUnits
            }
        }
        var packedCut: Set<Int64> = []

        for line in order.lines {
            guard var units = wanted[line.id], units > 0 else { continue }
            var cut = LineCut(orderLineID: line.id, skuCode: line.skuCode, units: units, backordered: 0, released: 0)
            // Not routed yet (a held or received order): nothing to release.
            let unrouted = min(units, max(line.open - line.backordered, 0))
            units -= unrouted
            let backordered = min(units, line.backordered)
            units -= backordered
            cut.backordered = backordered
            let holdings = reservations.filter { $0.orderLineID == line.id }
                .sorted { (stage($0), -$0.reservationID) < (stage($1), -$1.reservationID) }
            for holding in holdings where units > 0 {
                let keep = left[holding.reservationID] ?? 0
                let take: Int64
                if let carried = holding.carrier, carried.status == .packed || carried.status == .labelled {
                    take = keep  // a packed parcel is cut whole; checked below
                    packedCut.insert(carried.shipmentID)
                } else {
                    take = min(units, keep)
                }
                guard take > 0 else { continue }
                units -= min(take, units)
                left[holding.reservationID] = keep - take
                cut.released += take
                plan.reservations.append(
                    ReservationCut(
                        reservationID: holding.reservationID,
                        orderLineID: line.id,
                        warehouseID: holding.warehouseID,
                        skuID: holding.skuID,
                        units: take
                    )
                )
                guard let carried = holding.carrier else { continue }
                let remaining = keep - take
                plan.shipmentLines.append(
                    ShipmentLineCut(
                        shipmentLineID: carried.shipmentLineID,
                        shipmentID: carried.shipmentID,
                        quantity: remaining
                    )
                )
                if carried.packed > 0 {
                    plan.putBacks.append(
                        PutBack(
                            warehouseID: holding.warehouseID,
                            skuID: holding.skuID,
                            bin: carried.pickLines.first?.bin,
                            units: carried.packed,
                            shipmentID: carried.shipmentID,
                            pickListID: carried.pickLines.first?.listID,
                            source: .packed
                        )
                    )
                }
                for pickLine in carried.pickLines {
                    guard let was = pickLineLeft[pickLine.id] else { continue }
                    let quantity = min(was.quantity, remaining)
                    let picked = min(was.picked, quantity)
                    pickLineLeft[pickLine.id] = (quantity, picked)
                    listUnitsLeft[pickLine.listID, default: 0] -= was.quantity - quantity
                    plan.pickLines.append(
                        PickLineCut(id: pickLine.id, listID: pickLine.listID, quantity: quantity, picked: picked)
                    )
                    // Units a picker took go back to their bin (packed ones were put back above).
                    let back: (units: Int64, source: PutBackSource)? =
                        switch pickLine.listStatus {
                        case .completed: (was.picked - picked, .picked)
                        case .inProgress: (was.quantity - quantity, .walking)
                        case .open, .cancelled: nil
                        }
                    if carried.packed == 0, let back, back.units > 0 {
                        plan.putBacks.append(
                            PutBack(
                                warehouseID: holding.warehouseID,
                                skuID: holding.skuID,
                                bin: pickLine.bin,
                                units: back.units,
                                shipmentID: carried.shipmentID,
                                pickListID: pickLine.listID,
                                source: back.source
                            )
                        )
                    }
                }
            }
            // A packed parcel taken whole may give more than was asked: cutting part of it is refused below.
            cut.units = unrouted + backordered + cut.released
            plan.lines.append(cut)
        }

        // Packed parcels only whole, and only as many units as asked for.
        for shipment in packedCut.sorted() {
            let carried = reservations.filter { $0.carrier?.shipmentID == shipment }
            let kept = carried.reduce(0) { $0 + (left[$1.reservationID] ?? 0) }
            let overshoot = plan.lines.contains { cut in (wanted[cut.orderLineID] ?? 0) < cut.units }
            if kept > 0 || overshoot {
                let status = carried.first?.carrier?.status.rawValue ?? "packed"
                throw OrderlyError(
                    .conflict,
                    "parcel \(shipment) is \(status): its units cannot be cancelled one by one (cancel all "
                        + "\(carried.reduce(0) { $0 + $1.quantity }) of its units, or the order's whole rest)"
                )
            }
        }

        // Shipments and lists left empty.
        var shipmentUnits: [Int64: Int64] = [:]
        for reservation in reservations {
            guard let carried = reservation.carrier else { continue }
            shipmentUnits[carried.shipmentID, default: 0] += left[reservation.reservationID] ?? 0
        }
        let touched = Set(plan.shipmentLines.map(\.shipmentID))
        plan.cancelledShipments = shipmentUnits.filter { touched.contains($0.key) && $0.value == 0 }.map(\.key).sorted()
        let touchedLists = Set(plan.pickLines.map(\.listID))
        let listStatus = Dictionary(
            reservations.flatMap { $0.carrier?.pickLines ?? [] }.map { ($0.listID, $0.listStatus) },
            uniquingKeysWith: { first, _ in first }
        )
        plan.cancelledLists = listUnitsLeft.filter { list, units in
            touchedLists.contains(list) && units == 0 && (listStatus[list] == .open || listStatus[list] == .inProgress)
        }.map(\.key).sorted()

        plan.decideMove(order: order, reservations: reservations, left: left)
        return plan
    }

    /// Units asked for per order line: every open unit, or the request's, each checked.
    static func wantedUnits(order: OrderRecord, request: Request) throws(OrderlyError) -> [Int64: Int64] {
        switch request {
        case .everythingOpen:
            let open = order.lines.filter { $0.quantity - $0.shipped - $0.cancelled > 0 }
            guard !open.isEmpty else {
                throw OrderlyError(
                    .conflict,
                    "order \(order.id) has nothing left to cancel: every unit shipped or was cancelled"
                )
            }
            return Dictionary(uniqueKeysWithValues: open.map { ($0.id, $0.quantity - $0.shipped - $0.cancelled) })
        case .units(let asked):
            guard !asked.isEmpty else { throw OrderlyError(.badArgument, "lines: name at least one SKU:QTY") }
            var wanted: [Int64: Int64] = [:]
            for (sku, units) in asked.sorted(by: { $0.key < $1.key }) {
                guard let line = order.lines.first(where: { $0.skuCode == sku }) else {
                    throw OrderlyError(.badArgument, "lines: order \(order.id) has no line of SKU \(sku)")
                }
                guard units > 0 else { throw OrderlyError(.badArgument, "lines: \(sku): cancel at least 1 unit") }
                let cancellable = line.quantity - line.shipped - line.cancelled
                guard units <= cancellable else {
                    throw OrderlyError(
                        .conflict,
                        "lines: \(sku): \(units) asked, \(cancellable) can be cancelled (\(line.quantity) ordered, "
                            + "\(line.shipped) shipped, \(line.cancelled) cancelled already)"
                    )
                }
                wanted[line.id] = units
            }
            return wanted
        }
    }

    /// Lower is cheaper to cut.
    static func stage(_ holding: CancellableReservation) -> Int {
        guard let carried = holding.carrier else { return 0 }
        switch carried.status {
        case .planned: return 1
        case .picking: return carried.pickLines.contains { $0.listStatus == .inProgress } ? 3 : 2
        case .picked: return 4
        default: return 5
        }
    }

    /// The order's move and money once the cut is made.
    mutating func decideMove(order: OrderRecord, reservations: [CancellableReservation], left: [Int64: Int64]) {
        let cut = Dictionary(lines.map { ($0.orderLineID, $0) }, uniquingKeysWith: { first, _ in first })
        var (unrouted, backordered, shipped, cancelledUnits) = (Int64(0), Int64(0), Int64(0), Int64(0))
        var (cancelledValue, shippedValue) = (Int64(0), Int64(0))
        for line in order.lines {
            let taken = cut[line.id]
            let units = taken?.units ?? 0
            let lineBackordered = line.backordered - (taken?.backordered ?? 0)
            let lineReserved = line.reserved - (taken?.released ?? 0)
            let lineCancelled = line.cancelled + units
            backordered += lineBackordered
            unrouted += line.quantity - line.shipped - lineCancelled - lineReserved - lineBackordered
            shipped += line.shipped
            cancelledUnits += lineCancelled
            cancelledValue += line.unitPriceMinor * lineCancelled
            shippedValue += line.unitPriceMinor * line.shipped
        }
        var (free, picking, packed) = (Int64(0), Int64(0), Int64(0))
        for reservation in reservations {
            let units = left[reservation.reservationID] ?? 0
            switch reservation.carrier?.status {
            case nil: free += units
            case .packed, .labelled: packed += units
            default: picking += units
            }
        }
        let open = unrouted + backordered + free + picking + packed
        nothingOpen = open == 0
        cancelledUnitsAfter = cancelledUnits
        cancelledMinor = ParcelShare.cancelledShare(
            total: order.totalMinor,
            subtotal: order.subtotalMinor,
            cancelledValue: cancelledValue,
            shippedValue: shippedValue,
            nothingOpen: nothingOpen,
            anythingShipped: shipped > 0
        )
        let reservedLeft = free + picking + packed
        event =
            switch order.status {
            case _ where nothingOpen: shipped > 0 ? .cancelUnshipped : .cancel
            case .partiallyReserved where backordered + unrouted == 0: .cancelBackorder
            case .partiallyReserved where reservedLeft == 0: .cancelReserved
            case .picking where picking == 0 && packed > 0: .cancelPicking
            case .picking where reservedLeft == 0 && backordered > 0: .cancelReserved
            case .packed where reservedLeft == 0 && backordered > 0: .cancelReserved
            default: .cancelUnits
            }
    }
}

/// A warehouse as routing sees it.
public struct RoutingWarehouse: Hashable, Sendable {
    public var id: Int64
    public var code: String
    public var location: GeoPoint
    /// Lower ranks first for the `priority` strategy.
    public var priority: Int
    public var active: Bool
    /// ISO country codes this warehouse ships to; empty means anywhere.
    public var shipsTo: Set<String>
    /// When it ships, for delivery promises.
    public var calendar: WarehouseCalendar

    public init(
        id: Int64,
        code: String,
        location: GeoPoint,
        priority: Int = 100,
        active: Bool = true,
        shipsTo: Set<String> = [],
        calendar: WarehouseCalendar = .standard
    ) {
        self.id = id
        self.code = code
        self.location = location
        self.priority = priority
        self.active = active
        self.shipsTo = shipsTo
        self.calendar = calendar
    }
}

/// One order line to route.
public struct RoutingLine: Hashable, Sendable {
    public var skuID: Int64
    public var quantity: Int64
    /// Weight of one unit.
    public var unitWeightGrams: Int64

    public init(skuID: Int64, quantity: Int64, unitWeightGrams: Int64) {
        self.skuID = skuID
        self.quantity = quantity
        self.unitWeightGrams = unitWeightGrams
    }
}

/// Where the order goes.
public struct RoutingDestination: Hashable, Sendable {
    public var country: String
    public var zone: String?
    /// Needed by `nearest` and for distance tie-breaks; without it distances count as equal.
    public var location: GeoPoint?

    public init(country: String, zone: String? = nil, location: GeoPoint?) {
        self.country = country
        self.zone = zone
        self.location = location
    }
}

/// A price for a weight bracket [minWeightGrams, maxWeightGrams) to a country (and zone), from one
/// warehouse or (originWarehouseID nil) from any.
public struct ShippingRate: Hashable, Sendable {
    public var carrier: String
    public var service: String
    public var originWarehouseID: Int64?
    public var destinationCountry: String
    public var destinationZone: String?
    public var minWeightGrams: Int64
    public var maxWeightGrams: Int64
    public var priceMinor: Int64
    public var transitDays: Int

    public init(
        carrier: String,
        service: String,
        originWarehouseID: Int64? = nil,
        destinationCountry: String,
        destinationZone: String? = nil,
        minWeightGrams: Int64,
        maxWeightGrams: Int64,
        priceMinor: Int64,
        transitDays: Int
    ) {
        self.carrier = carrier
        self.service = service
        self.originWarehouseID = originWarehouseID
        self.destinationCountry = destinationCountry
        self.destinationZone = destinationZone
        self.minWeightGrams = minWeightGrams
        self.maxWeightGrams = maxWeightGrams
        self.priceMinor = priceMinor
        self.transitDays = transitDays
    }

    func applies(from warehouse: Int64, to destination: RoutingDestination, weightGrams: Int64) -> Bool {
        (originWarehouseID == nil || originWarehouseID == warehouse)
            && destinationCountry == destination.country
            && (destinationZone == nil || destinationZone == destination.zone)
            && weightGrams >= minWeightGrams && weightGrams < maxWeightGrams
    }
}

/// Everything a strategy decides from: pure values, read without locks before the reservation.
public struct RoutingInput: Sendable {
    public var lines: [RoutingLine]
    public var destination: RoutingDestination
    public var warehouses: [RoutingWarehouse]
    /// Available to promise: warehouse id → SKU id → units.
    public var available: [Int64: [Int64: Int64]]
    public var rates: [ShippingRate]
    /// The service the customer chose (a rate's `service`): only its rates count, and a warehouse
    /// without one to the destination may not ship the order. nil: any service.
    public var serviceLevel: String?
    /// SKU id → units other orders ahead of this one wait for (their backorders, first come first
    /// served): this order may take only what the active warehouses hold beyond them.
    public var queued: [Int64: Int64]
    /// SKU id → units expected at active warehouses (`STOCK EXPECT`), by day.
    public var inbound: [Int64: [ExpectedArrival.Arrival]]

    public init(
        lines: [RoutingLine],
        destination: RoutingDestination,
        warehouses: [RoutingWarehouse],
        available: [Int64: [Int64: Int64]],
        rates: [ShippingRate] = [],
        serviceLevel: String? = nil,
        queued: [Int64: Int64] = [:],
        inbound: [Int64: [ExpectedArrival.Arrival]] = [:]
    ) {
        self.lines = lines
        self.destination = destination
        self.warehouses = warehouses
        self.available = available
        self.rates = rates
        self.serviceLevel = serviceLevel
        self.queued = queued
        self.inbound = inbound
    }

    /// When `units` of `sku` this order lacks are expected: behind the queue's units that the stock at
    /// hand does not cover. Nil when nothing expected reaches them.
    public func expectedDate(_ sku: Int64, units: Int64) -> LocalDate? {
        let atHand = warehouses.filter(\.active).reduce(Int64(0)) { $0 + available($1.id, sku) }
        return ExpectedArrival.date(
            ahead: max(0, (queued[sku] ?? 0) - atHand),
            units: units,
            inbound: inbound[sku] ?? []
        )
    }

    public func available(_ warehouse: Int64, _ sku: Int64) -> Int64 { max(0, available[warehouse]?[sku] ?? 0) }

    /// Why a warehouse may not ship this order at all, or nil if it may.
    public func ineligibility(_ warehouse: RoutingWarehouse) -> String? {
        if !warehouse.active { return "inactive" }
        if !warehouse.shipsTo.isEmpty && !warehouse.shipsTo.contains(destination.country) {
            return "does not ship to \(destination.country)"
        }
        if let level = serviceLevel,
            !rates.contains(where: {
                $0.service == level && ($0.originWarehouseID == nil || $0.originWarehouseID == warehouse.id)
                    && $0.destinationCountry == destination.country
                    && ($0.destinationZone == nil || $0.destinationZone == destination.zone)
            })
        {
            return "no \(level) rate to \(destination.country)"
        }
        return nil
    }

    /// Eligible warehouses, in id order.
    public var eligibleWarehouses: [RoutingWarehouse] {
        warehouses.filter { ineligibility($0) == nil }.sorted { $0.id < $1.id }
    }

    public func canShipWhole(_ warehouse: Int64) -> Bool {
        lines.allSatisfy { available(warehouse, $0.skuID) >= $0.quantity }
    }

    /// Kilometres to the destination; 0 when the destination has no coordinates.
    public func distance(_ warehouse: RoutingWarehouse) -> Double {
        destination.location.map { warehouse.location.distanceKilometers(to: $0) } ?? 0
    }

    /// The cheapest rate for a parcel of `weightGrams` from `warehouse` (of the chosen service, if one
    /// is), ties by transit days, then carrier and service name.
    public func cheapestRate(from warehouse: Int64, weightGrams: Int64) -> ShippingRate? {
        rates.filter {
            (serviceLevel == nil || $0.service == serviceLevel)
                && $0.applies(from: warehouse, to: destination, weightGrams: weightGrams)
        }
        .min {
            ($0.priceMinor, $0.transitDays, $0.carrier, $0.service) < (
                $1.priceMinor, $1.transitDays, $1.carrier, $1.service
            )
        }
    }
}

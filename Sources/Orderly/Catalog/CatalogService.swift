import LibPQ
public import OrderlyCore
import OrderlyStore

/// The catalogue routing and labels read: warehouses, SKUs and shipping rates.
public struct CatalogService: Sendable {
    public let database: OrderlyDatabase

    public init(database: OrderlyDatabase) {
        self.database = database
    }

    /// Adds a warehouse; returns its id. A code that exists is CONFLICT.
    public func createWarehouse(
        _ warehouse: NewWarehouse,
        alongside: CommitAlongside<Int64>? = nil
    ) async throws -> Int64 {
        try await database.write(alongside: alongside) { try CatalogStore.createWarehouse($0, warehouse) }
    }

    /// Adds a SKU; returns its id. A code that exists is CONFLICT.
    public func createSKU(_ sku: NewSKU, alongside: CommitAlongside<Int64>? = nil) async throws -> Int64 {
        try await database.write(alongside: alongside) { try CatalogStore.createSKU($0, sku) }
    }

    /// A rate a carrier charges for a weight band to a destination.
    public struct NewRate: Sendable {
        public var carrier: String
        public var service: String
        public var country: String
        public var zone: String?
        /// The warehouse it ships from; nil for every warehouse.
        public var origin: CatalogReference?
        public var minGrams: Int64
        public var maxGrams: Int64
        public var priceMinor: Int64
        public var currency: String
        public var transitDays: Int64

        public init(
            carrier: String,
            service: String,
            country: String,
            zone: String? = nil,
            origin: CatalogReference? = nil,
            minGrams: Int64,
            maxGrams: Int64,
            priceMinor: Int64,
            currency: String,
            transitDays: Int64
        ) {
            self.carrier = carrier
            self.service = service
            self.country = country
            self.zone = zone
            self.origin = origin
            self.minGrams = minGrams
            self.maxGrams = maxGrams
            self.priceMinor = priceMinor
            self.currency = currency
            self.transitDays = transitDays
        }
    }

    /// Adds a rate (and its carrier, the first time one is named); returns the rate's id and the
    /// carrier code and service as stored. The origin's code is looked up in the rate's transaction.
    public func addRate(
        _ rate: NewRate,
        alongside: CommitAlongside<(id: Int64, carrier: String, service: String)>? = nil
    ) async throws -> (id: Int64, carrier: String, service: String) {
        try await database.write(alongside: alongside) { connection in
            let origin = try rate.origin.map { try CatalogStore.warehouseID(connection, $0) }
            return try AdminQueries.addRate(
                connection,
                carrier: rate.carrier,
                service: rate.service,
                country: rate.country,
                zone: rate.zone,
                origin: origin,
                minGrams: rate.minGrams,
                maxGrams: rate.maxGrams,
                priceMinor: rate.priceMinor,
                currency: rate.currency,
                transitDays: rate.transitDays
            )
        }
    }

    /// A change to a warehouse's shipping calendar: nil keeps a setting.
    public struct CalendarChange: Sendable {
        public var timeZone: String?
        public var cutoffMinutes: Int?
        public var workingDays: Set<Int>?
        public var leadTimeMinutes: Int?
        public var addHolidays: [LocalDate]
        public var removeHolidays: [LocalDate]

        public init(
            timeZone: String? = nil,
            cutoffMinutes: Int? = nil,
            workingDays: Set<Int>? = nil,
            leadTimeMinutes: Int? = nil,
            addHolidays: [LocalDate] = [],
            removeHolidays: [LocalDate] = []
        ) {
            self.timeZone = timeZone
            self.cutoffMinutes = cutoffMinutes
            self.workingDays = workingDays
            self.leadTimeMinutes = leadTimeMinutes
            self.addHolidays = addHolidays
            self.removeHolidays = removeHolidays
        }
    }

    /// Changes the warehouse's shipping calendar (the next promise made from it follows it); returns
    /// the calendar now. BAD_ARG, nothing changed, for a zone this process does not know, a time that
    /// is none, no working day, a day both added and removed, or nothing to change.
    public func setCalendar(
        _ warehouse: CatalogReference,
        _ change: CalendarChange,
        alongside: CommitAlongside<WarehouseCalendar>? = nil
    ) async throws -> WarehouseCalendar {
        if change.timeZone == nil, change.cutoffMinutes == nil, change.workingDays == nil,
            change.leadTimeMinutes == nil, change.addHolidays.isEmpty, change.removeHolidays.isEmpty
        {
            throw OrderlyError(.badArgument, "nothing to set: name at least one setting (HELP WAREHOUSE CALENDAR)")
        }
        if let problem = WarehouseCalendar.problem(
            timeZone: change.timeZone,
            cutoffMinutes: change.cutoffMinutes,
            workingDays: change.workingDays,
            leadTimeMinutes: change.leadTimeMinutes
        ) {
            throw OrderlyError(.badArgument, problem)
        }
        if let both = Set(change.addHolidays).intersection(change.removeHolidays).min() {
            throw OrderlyError(.badArgument, "holidays: \(both) is both added and removed")
        }
        return try await database.write(alongside: alongside) { connection in
            try CatalogStore.setCalendar(
                connection,
                warehouseID: try CatalogStore.warehouseID(connection, warehouse),
                timeZone: change.timeZone,
                cutoffMinutes: change.cutoffMinutes,
                workingDays: change.workingDays,
                leadTimeMinutes: change.leadTimeMinutes,
                addHolidays: change.addHolidays,
                removeHolidays: change.removeHolidays
            )
        }
    }

    /// The ids of warehouses and a SKU named by id or code, looked up on one connection; NOT_FOUND
    /// names the first that does not exist. When every one is an id already, no lookup at all (the
    /// foreign keys of what uses them name a missing one).
    public func ids(
        warehouses: [CatalogReference],
        sku: CatalogReference
    ) async throws -> (warehouses: [Int64], sku: Int64) {
        func id(_ reference: CatalogReference) -> Int64? {
            if case .id(let id) = reference { id } else { nil }
        }
        if let skuID = id(sku), case let ids = warehouses.compactMap(id), ids.count == warehouses.count {
            return (ids, skuID)
        }
        return try await database.pool.withConnection { connection in
            (
                try warehouses.map { try CatalogStore.warehouseID(connection, $0) },
                try CatalogStore.skuID(connection, sku)
            )
        }
    }

    /// The id of a warehouse named by id or code (NOT_FOUND when there is none by that code).
    public func warehouseID(_ reference: CatalogReference) async throws -> Int64 {
        if case .id(let id) = reference { return id }
        return try await database.pool.withConnection { try CatalogStore.warehouseID($0, reference) }
    }
}

public import Foundation

/// A day on a wall calendar, with no time zone: `2026-12-24`. Day arithmetic is on its day number
/// (days since 1970-01-01), so it needs no calendar library.
public struct LocalDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let dayNumber: Int64

    public init(dayNumber: Int64) { self.dayNumber = dayNumber }

    /// nil unless a real Gregorian date.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= Self.days(in: month, of: year)
        else { return nil }
        // Howard Hinnant's days_from_civil.
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        dayNumber = era * 146_097 + dayOfEra - 719_468
    }

    /// `YYYY-MM-DD`, nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    static func days(in month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var components: (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0)), Int(month), Int(day))
    }

    /// ISO weekday: 1 is Monday, 7 Sunday.
    public var weekday: Int { Int(((dayNumber + 3) % 7 + 7) % 7) + 1 }

    public func adding(days: Int64) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    public var description: String {
        let (year, month, day) = components
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool { a.dayNumber < b.dayNumber }

    /// An instant as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), as the admin protocol shows times.
    public static func utcText(_ instant: Date) -> String {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        let day = LocalDate(dayNumber: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let second = seconds - day.dayNumber * 86_400
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day)T\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))Z"
    }
}

/// When a warehouse ships: its time zone, the daily cut-off (what is ready by then leaves that day),
/// its working weekdays and holidays, and the pick/pack lead time an order needs before it is ready.
public struct WarehouseCalendar: Hashable, Sendable {
    /// An IANA zone name (`Europe/Berlin`); the cut-off and holidays are local to it.
    public var timeZone: String
    /// Minutes after local midnight, 0..<1440.
    public var cutoffMinutes: Int
    /// ISO weekdays it ships on (1 Monday … 7 Sunday); never empty.
    public var workingDays: Set<Int>
    public var holidays: Set<LocalDate>
    /// Minutes from capture until an order is picked and packed, ready to leave.
    public var leadTimeMinutes: Int

    public static let weekdays: Set<Int> = [1, 2, 3, 4, 5]
    public static let standard = WarehouseCalendar(timeZone: "UTC", cutoffMinutes: 15 * 60)

    public init(
        timeZone: String,
        cutoffMinutes: Int,
        workingDays: Set<Int> = Self.weekdays,
        holidays: Set<LocalDate> = [],
        leadTimeMinutes: Int = 0
    ) {
        self.timeZone = timeZone
        self.cutoffMinutes = cutoffMinutes
        self.workingDays = workingDays
        self.holidays = holidays
        self.leadTimeMinutes = leadTimeMinutes
    }

    /// Why these settings are no calendar, or nil if they are one.
    /// Settings not given (nil) are not judged.
    public static func problem(
        timeZone: String? = nil,
        cutoffMinutes: Int? = nil,
        workingDays: Set<Int>? = nil,
        leadTimeMinutes: Int? = nil
    )
        -> String?
    {
        if let timeZone {
            // A zone by its IANA name only: a custom offset such as GMT+5 means the opposite to
            // PostgreSQL's POSIX reading of it.
            let customOffset = ["GMT+", "GMT-", "UTC+", "UTC-"].contains { timeZone.uppercased().hasPrefix($0) }
            guard TimeZone(identifier: timeZone) != nil, !customOffset else {
                return "time_zone: '\(timeZone)' is not an IANA time zone name (e.g. Europe/Berlin)"
            }
        }
        if let cutoffMinutes, !(0..<1440).contains(cutoffMinutes) { return "cutoff: not a time of day" }
        if let workingDays, workingDays.isEmpty || !workingDays.isSubset(of: 1...7) {
            return "working_days: name at least one day"
        }
        if let leadTimeMinutes, !(0...10_080).contains(leadTimeMinutes) { return "lead_time_min: 0 to 10080 (a week)" }
        return nil
    }

    /// `HH:MM`, 00:00 to 23:59, as minutes after midnight.
    public static func parseTime(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), hours < 24, minutes < 60
        else { return nil }
        return hours * 60 + minutes
    }

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// `mon,tue,…` as ISO weekdays; nil for a word that is no day.
    public static func parseDays(_ text: String) -> Set<Int>? {
        var days = Set<Int>()
        for word in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let index = dayNames.firstIndex(of: String(word)) else { return nil }
            days.insert(index + 1)
        }
        return days
    }

    public var workingDaysText: String { workingDays.sorted().map { Self.dayNames[$0 - 1] }.joined(separator: ",") }

    public var cutoffText: String {
        let (hours, minutes) = (cutoffMinutes / 60, cutoffMinutes % 60)
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }

    /// A zone that is no longer known (the calendar was read from a database another build wrote)
    /// counts as UTC rather than failing the order.
    private var zone: TimeZone { TimeZone(identifier: timeZone) ?? .gmt }

    /// The local day an instant falls on.
    public func localDate(of instant: Date) -> LocalDate {
        let local = instant.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: instant))
        return LocalDate(dayNumber: Int64((local / 86_400).rounded(.down)))
    }

    /// The instant of `minutes` after local midnight on `date`. In a spring-forward gap the wall time
    /// does not exist; the instant is then the one after the gap, as the clocks show it.
    public func instant(_ date: LocalDate, minutes: Int) -> Date {
        let wall = Double(date.dayNumber * 86_400 + Int64(minutes) * 60)
        let guess = wall - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall)))
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: guess))
        return Date(timeIntervalSince1970: wall - Double(offset))
    }

    public func ships(on date: LocalDate) -> Bool { workingDays.contains(date.weekday) && !holidays.contains(date) }

    /// The cut-off an order captured at `captured` leaves by: the first shipping day whose cut-off is
    /// not before the order is ready (captured + lead time). nil if none in the next two years (every
    /// working day a holiday).
    public func shipBy(capturedAt captured: Date) -> (date: LocalDate, cutoff: Date)? {
        let ready = captured.addingTimeInterval(Double(leadTimeMinutes) * 60)
        var day = localDate(of: ready)
        for _ in 0..<731 {
            let cutoff = instant(day, minutes: cutoffMinutes)
            if ships(on: day) && ready <= cutoff { return (day, cutoff) }
            day = day.adding(days: 1)
        }
        return nil
    }

    /// The day a parcel that leaves on `shipDate` arrives, `transitDays` carrier days later: carriers
    /// deliver Monday to Friday and not on the warehouse's holidays (0 days: the same day).
    public func deliverBy(shipDate: LocalDate, transitDays: Int) -> LocalDate {
        var day = shipDate
        var left = transitDays
        while left > 0 {
            day = day.adding(days: 1)
            if day.weekday <= 5 && !holidays.contains(day) { left -= 1 }
        }
        return day
    }
}

/// What a customer is promised for one planned parcel: it leaves its warehouse by `shipBy` (a cut-off
/// instant) and arrives by `deliverBy` (a day, local to the warehouse), by the carrier service whose
/// rate routing chose; no deliver-by without a rate.
public struct DeliveryPromise: Hashable, Sendable {
    public var warehouseID: Int64
    /// The instant the promise was made from (when routing read the stock).
    public var promisedAt: Date
    public var shipDate: LocalDate
    public var shipBy: Date
    public var deliverBy: LocalDate?
    public var carrier: String?
    public var service: String?

    public init(
        warehouseID: Int64,
        promisedAt: Date,
        shipDate: LocalDate,
        shipBy: Date,
        deliverBy: LocalDate?,
        carrier: String?,
        service: String?
    ) {
        self.warehouseID = warehouseID
        self.promisedAt = promisedAt
        self.shipDate = shipDate
        self.shipBy = shipBy
        self.deliverBy = deliverBy
        self.carrier = carrier
        self.service = service
    }

    /// One promise per parcel of the plan, from each warehouse's calendar, made at `at`.
    public static func promises(_ plan: RoutingPlan?, warehouses: [RoutingWarehouse], at: Date) -> [DeliveryPromise] {
        let calendars = Dictionary(warehouses.map { ($0.id, $0.calendar) }, uniquingKeysWith: { first, _ in first })
        return (plan?.shipments ?? []).compactMap { shipment in
            let calendar = calendars[shipment.warehouseID] ?? .standard
            guard let (date, cutoff) = calendar.shipBy(capturedAt: at) else { return nil }
            return DeliveryPromise(
                warehouseID: shipment.warehouseID,
                promisedAt: at,
                shipDate: date,
                shipBy: cutoff,
                deliverBy: shipment.rate.map { calendar.deliverBy(shipDate: date, transitDays: $0.transitDays) },
                carrier: shipment.rate?.carrier,
                service: shipment.rate?.service
            )
        }
    }
}

/// A stored delivery promise, and when the sweep found it at risk (nil: not at risk).
public struct PromiseRecord: Hashable, Sendable {
    public var promise: DeliveryPromise
    public var atRiskAt: Date?

    public init(promise: DeliveryPromise, atRiskAt: Date?) {
        self.promise = promise
        self.atRiskAt = atRiskAt
    }
}

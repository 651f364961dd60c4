import Foundation
import OrderlyCore
import Testing

/// Delivery promises from a warehouse's calendar: cut-offs, weekends, holidays, lead times and time
/// zones, exact to the day; and the local dates they are counted in.
struct DeliveryPromiseTests {
    /// An instant from its UTC spelling.
    func utc(_ text: String) throws -> Date {
        let parts = text.split(separator: "T")
        let date = try #require(LocalDate(String(parts[0])))
        let time = parts[1].dropLast().split(separator: ":").compactMap { Int($0) }
        return Date(timeIntervalSince1970: Double(date.dayNumber * 86_400 + Int64(time[0] * 3600 + time[1] * 60)))
    }

    func day(_ text: String) throws -> LocalDate { try #require(LocalDate(text)) }

    /// Berlin, cut-off 14:00, Monday to Friday, Christmas Eve to Boxing Day off.
    let berlin = WarehouseCalendar(
        timeZone: "Europe/Berlin",
        cutoffMinutes: 14 * 60,
        holidays: Set(["2026-12-24", "2026-12-25", "2026-12-26"].compactMap(LocalDate.init))
    )

    func promise(_ calendar: WarehouseCalendar, _ captured: String, transit: Int) throws -> (String, String, String) {
        let (date, cutoff) = try #require(calendar.shipBy(capturedAt: try utc(captured)))
        return (
            date.description, LocalDate.utcText(cutoff),
            calendar.deliverBy(shipDate: date, transitDays: transit).description
        )
    }

    @Test func beforeTheCutOffItLeavesTheSameDay() throws {
        // Friday 4 December 2026, 13:59 in Berlin (CET, UTC+1).
        #expect(
            try promise(berlin, "2026-12-04T12:59Z", transit: 2) == ("2026-12-04", "2026-12-04T13:00:00Z", "2026-12-08")
        )
        // Exactly at the cut-off still counts.
        #expect(try promise(berlin, "2026-12-04T13:00Z", transit: 0).0 == "2026-12-04")
    }

    @Test func pastTheCutOffOnAFridayItLeavesOnMonday() throws {
        #expect(
            try promise(berlin, "2026-12-04T13:01Z", transit: 2) == ("2026-12-07", "2026-12-07T13:00:00Z", "2026-12-09")
        )
        // Captured on Saturday or Sunday: Monday too.
        #expect(try promise(berlin, "2026-12-05T09:00Z", transit: 1).0 == "2026-12-07")
        #expect(try promise(berlin, "2026-12-06T22:59Z", transit: 1).0 == "2026-12-07")
        // Sunday 23:30 in Berlin is already Monday there: before Monday's cut-off.
        #expect(
            try promise(berlin, "2026-12-06T23:30Z", transit: 1) == ("2026-12-07", "2026-12-07T13:00:00Z", "2026-12-08")
        )
    }

    @Test func holidaysAreSkippedForShippingAndForTransit() throws {
        // Wednesday 23 December past the cut-off: 24th and 25th are holidays, then the weekend.
        #expect(
            try promise(berlin, "2026-12-23T15:00Z", transit: 1) == ("2026-12-28", "2026-12-28T13:00:00Z", "2026-12-29")
        )
        // Before the cut-off on the 23rd it leaves that day, and the carrier days skip the holidays too.
        #expect(
            try promise(berlin, "2026-12-23T09:00Z", transit: 2) == ("2026-12-23", "2026-12-23T13:00:00Z", "2026-12-29")
        )
    }

    @Test func theLeadTimeComesBeforeTheCutOff() throws {
        var slow = berlin
        slow.leadTimeMinutes = 120
        // 12:30 in Berlin plus two hours is past 14:00: Monday.
        #expect(try promise(slow, "2026-12-04T11:30Z", transit: 1).0 == "2026-12-07")
        #expect(try promise(slow, "2026-12-04T10:59Z", transit: 1).0 == "2026-12-04")
    }

    @Test func theDayIsTheWarehousesDayNotUTCs() throws {
        let losAngeles = WarehouseCalendar(timeZone: "America/Los_Angeles", cutoffMinutes: 17 * 60)
        // 00:30 UTC on Saturday is 16:30 on Friday in Los Angeles (PST, UTC-8): it leaves Friday.
        #expect(
            try promise(losAngeles, "2026-12-05T00:30Z", transit: 1) == (
                "2026-12-04", "2026-12-05T01:00:00Z", "2026-12-07"
            )
        )
        // 01:30 UTC on Saturday is past 17:00 on Friday there: Monday.
        #expect(try promise(losAngeles, "2026-12-05T01:30Z", transit: 1).0 == "2026-12-07")
        // Tokyo (UTC+9): 20:00 UTC on Thursday is Friday 05:00 there, before its cut-off.
        let tokyo = WarehouseCalendar(timeZone: "Asia/Tokyo", cutoffMinutes: 15 * 60)
        #expect(
            try promise(tokyo, "2026-12-03T20:00Z", transit: 0) == ("2026-12-04", "2026-12-04T06:00:00Z", "2026-12-04")
        )
    }

    @Test func theCutOffFollowsDaylightSavingTime() throws {
        // Berlin moves to CEST (UTC+2) on Sunday 29 March 2026: Friday's 14:00 is 13:00 UTC,
        // Monday's is 12:00 UTC.
        #expect(try promise(berlin, "2026-03-27T12:00Z", transit: 0).1 == "2026-03-27T13:00:00Z")
        #expect(try promise(berlin, "2026-03-28T12:00Z", transit: 0).1 == "2026-03-30T12:00:00Z")
    }

    @Test func aWarehouseWorkingSaturdaysShipsThenButCarriersDeliverWeekdays() throws {
        var sixDays = berlin
        sixDays.workingDays = [1, 2, 3, 4, 5, 6]
        #expect(
            try promise(sixDays, "2026-12-05T09:00Z", transit: 1) == (
                "2026-12-05", "2026-12-05T13:00:00Z", "2026-12-07"
            )
        )
    }

    @Test func aCalendarWithNoShippingDayPromisesNothing() throws {
        var never = berlin
        never.workingDays = [7]
        let first = try day("2026-12-01")
        never.holidays = Set((0..<800).map { first.adding(days: Int64($0)) })
        #expect(never.shipBy(capturedAt: try utc("2026-12-04T09:00Z")) == nil)
    }

    @Test func eachParcelIsPromisedFromItsWarehouseAndRate() throws {
        // A rate from the Berlin warehouse only: the other parcel has none.
        let rate = ShippingRate(
            carrier: "DHL",
            service: "parcel",
            originWarehouseID: 1,
            destinationCountry: "DE",
            minWeightGrams: 0,
            maxWeightGrams: 10_000,
            priceMinor: 490,
            transitDays: 2
        )
        let warehouses = [
            RoutingWarehouse(id: 1, code: "B", location: GeoPoint(latitude: 52, longitude: 13), calendar: berlin),
            RoutingWarehouse(id: 2, code: "U", location: GeoPoint(latitude: 52, longitude: 13)),
        ]
        let input = RoutingInput(
            lines: [
                RoutingLine(skuID: 1, quantity: 1, unitWeightGrams: 100),
                RoutingLine(skuID: 2, quantity: 1, unitWeightGrams: 100),
            ],
            destination: RoutingDestination(country: "DE", location: nil),
            warehouses: warehouses,
            available: [1: [1: 1], 2: [2: 1]],
            rates: [rate]
        )
        let plan = RoutingPlan(
            strategy: "split",
            rule: "test",
            shipments: input.shipments(for: [1: [1: 1], 2: [2: 1]]),
            candidates: []
        )
        let at = try utc("2026-12-04T14:30Z")
        let promises = DeliveryPromise.promises(plan, warehouses: warehouses, at: at)
        #expect(promises.map { $0.warehouseID } == [1, 2])
        // Berlin's cut-off has passed (Monday); the UTC calendar's 15:00 has not (today).
        let (monday, wednesday, today) = (try day("2026-12-07"), try day("2026-12-09"), try day("2026-12-04"))
        #expect(promises[0].shipDate == monday && promises[0].deliverBy == wednesday)
        #expect(promises[0].carrier == "DHL" && promises[0].service == "parcel" && promises[0].promisedAt == at)
        #expect(promises[1].shipDate == today && promises[1].deliverBy == nil)
        // The confirmation says the day it all arrives by, or without a rate for every parcel, the ship day.
        #expect(
            CustomerMessages.confirmed(externalID: "X", email: "a@b.c", promises: [promises[0]]).body.contains(
                "arrive by 2026-12-09"
            )
        )
        #expect(
            CustomerMessages.confirmed(externalID: "X", email: "a@b.c", promises: promises).body.contains(
                "ship by 2026-12-07"
            )
        )
    }

    @Test func localDatesAreGregorianDays() throws {
        #expect(LocalDate(dayNumber: 0).description == "1970-01-01" && LocalDate(dayNumber: 0).weekday == 4)
        #expect(try day("2026-12-02").weekday == 3)
        #expect(LocalDate("2028-02-29") != nil && LocalDate("2026-02-29") == nil && LocalDate("2100-02-29") == nil)
        for bad in ["2026-13-01", "2026-00-10", "2026-1-01", "26-01-01", "2026-01-01T", "", "2026-04-31", "x026-01-01"]
        {
            #expect(LocalDate(bad) == nil, "\(bad)")
        }
        // Year 1 to year 9999, every 997th day.
        for number in stride(from: Int64(-719_162), through: 2_932_896, by: 997) {
            let date = LocalDate(dayNumber: number)
            #expect(LocalDate(date.description) == date, "\(number)")
        }
        #expect(LocalDate.utcText(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
    }

    @Test func calendarSettingsAreParsedStrictly() {
        #expect(WarehouseCalendar.parseTime("09:05") == 545 && WarehouseCalendar.parseTime("23:59") == 1439)
        for bad in ["24:00", "9:00", "09:60", "0900", "09:00:00", "-1:00", ""] {
            #expect(WarehouseCalendar.parseTime(bad) == nil, "\(bad)")
        }
        #expect(WarehouseCalendar.parseDays("mon,fri,sun") == [1, 5, 7])
        #expect(WarehouseCalendar.parseDays("monday") == nil && WarehouseCalendar.parseDays("mon,,tue") == nil)
        #expect(
            WarehouseCalendar.problem(timeZone: "Mars/Olympus", cutoffMinutes: 0, workingDays: [1], leadTimeMinutes: 0)?
                .hasPrefix("time_zone") == true
        )
        #expect(
            WarehouseCalendar.problem(timeZone: "GMT+5", cutoffMinutes: 0, workingDays: [1], leadTimeMinutes: 0)?
                .hasPrefix("time_zone") == true
        )
        #expect(
            WarehouseCalendar.problem(timeZone: "Europe/Berlin", cutoffMinutes: 0, workingDays: [], leadTimeMinutes: 0)?
                .hasPrefix("working_days") == true
        )
        #expect(
            WarehouseCalendar.problem(
                timeZone: "Europe/Berlin",
                cutoffMinutes: 840,
                workingDays: [1],
                leadTimeMinutes: 60
            ) == nil
        )
    }
}

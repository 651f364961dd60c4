import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// WAREHOUSE, SKU and RATE: the catalogue routing and labels read.
extension AdminCommandRegistry {
    mutating func registerCatalogCommands() {
        call("WAREHOUSE ADD") { call in
            let c = call.command
            let shipsTo = (try c.text(optional: "ships_to") ?? "").split(separator: ",").map { String($0) }
            for country in shipsTo where country.utf8.count != 2 || !country.utf8.allSatisfy({ (65...90).contains($0) })
            {
                throw AdminError(.badArgument, "ships_to: '\(country)' is not a country code")
            }
            let warehouse = NewWarehouse(
                code: try c.text(required: "code"),
                name: try c.text(required: "name"),
                location: GeoPoint(latitude: try c.decimal(required: "lat"), longitude: try c.decimal(required: "lon")),
                addressLine1: try c.text(required: "line1"),
                city: try c.text(required: "city"),
                country: try c.text(required: "country"),
                priority: Int(try c.int(optional: "priority") ?? 100),
                pickMethod: try c.text(optional: "pick_method") ?? "single",
                shipsTo: shipsTo
            )
            let code = warehouse.code
            let reply: @Sendable (Int64) -> AdminReply = { .ok(AdminField("id", $0), AdminField("code", code)) }
            return reply(try await call.catalog.createWarehouse(warehouse, alongside: call.storing(reply)))
        }
        read("WAREHOUSE LIST") { _ in AdminReads.warehouses().map(AdminReplies.rows) }
        call("WAREHOUSE CALENDAR") { call in
            let c = call.command
            func days(_ name: String) throws -> [LocalDate] {
                try (c.text(optional: name)).map { text in
                    try text.split(separator: ",", omittingEmptySubsequences: false).map { day in
                        guard let date = LocalDate(String(day)) else {
                            throw AdminError(.badArgument, "\(name): '\(day)' is not a date (YYYY-MM-DD)")
                        }
                        return date
                    }
                } ?? []
            }
            var change = CatalogService.CalendarChange(
                timeZone: try c.text(optional: "time_zone"),
                leadTimeMinutes: try c.int(optional: "lead_time_min").map { Int($0) },
                addHolidays: try days("holidays"),
                removeHolidays: try days("not_holidays")
            )
            if let text = try c.text(optional: "cutoff") {
                guard let minutes = WarehouseCalendar.parseTime(text) else {
                    throw AdminError(.badArgument, "cutoff: '\(text)' is not a time of day (HH:MM, 00:00 to 23:59)")
                }
                change.cutoffMinutes = minutes
            }
            if let text = try c.text(optional: "working_days") {
                guard let days = WarehouseCalendar.parseDays(text) else {
                    throw AdminError(
                        .badArgument,
                        "working_days: '\(text)' is not a list of mon,tue,wed,thu,fri,sat,sun"
                    )
                }
                change.workingDays = days
            }
            let warehouse = try AdminReplies.reference(c, required: "warehouse")
            let reply: @Sendable (WarehouseCalendar) -> AdminReply = { calendar in
                .ok(
                    AdminField("time_zone", calendar.timeZone),
                    AdminField("cutoff", calendar.cutoffText),
                    AdminField("working_days", calendar.workingDaysText),
                    AdminField("lead_time_min", Int64(calendar.leadTimeMinutes)),
                    AdminField("holidays", calendar.holidays.sorted().map(\.description).joined(separator: ","))
                )
            }
            return reply(try await call.catalog.setCalendar(warehouse, change, alongside: call.storing(reply)))
        }
        call("SKU ADD") { call in
            let c = call.command
            let sku = NewSKU(
                code: try c.text(required: "code"),
                name: try c.text(required: "name"),
                weightGrams: Int(try c.int(required: "weight_g")),
                dimensionsMillimetres: (
                    Int(try c.int(required: "length_mm")), Int(try c.int(required: "width_mm")),
                    Int(try c.int(required: "height_mm"))
                )
            )
            let code = sku.code
            let reply: @Sendable (Int64) -> AdminReply = { .ok(AdminField("id", $0), AdminField("code", code)) }
            return reply(try await call.catalog.createSKU(sku, alongside: call.storing(reply)))
        }
        read("SKU LIST") { c throws(AdminError) in
            let (prefix, limit) = (try c.text(optional: "prefix") ?? "", try c.int(optional: "limit") ?? 100)
            return AdminReads.skus(prefix: prefix, limit: limit).map(AdminReplies.rows)
        }
        call("RATE ADD") { call in
            let c = call.command
            let rate = CatalogService.NewRate(
                carrier: try c.text(required: "carrier"),
                service: try c.text(required: "service"),
                country: try c.text(required: "country"),
                zone: try c.text(optional: "zone"),
                origin: try AdminReplies.reference(c, optional: "origin"),
                minGrams: try c.int(required: "min_g"),
                maxGrams: try c.int(required: "max_g"),
                priceMinor: try c.int(required: "price"),
                currency: try c.text(required: "currency"),
                transitDays: try c.int(required: "days")
            )
            let reply: @Sendable ((id: Int64, carrier: String, service: String)) -> AdminReply = { rate in
                .ok(AdminField("id", rate.id), AdminField("carrier", rate.carrier), AdminField("service", rate.service))
            }
            return reply(try await call.catalog.addRate(rate, alongside: call.storing(reply)))
        }
        read("RATE LIST") { c throws(AdminError) in
            let country = try c.text(optional: "country")
            return AdminReads.rates(country: country).map(AdminReplies.rows)
        }
    }
}

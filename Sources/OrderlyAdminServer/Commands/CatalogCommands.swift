import OrderlyAdminProtocol
import OrderlyCore
import OrderlyStore

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
            return try await call.write(
                reply: { .ok(AdminField("id", $0), AdminField("code", code)) },
                body: { try CatalogStore.createWarehouse($0, warehouse) }
            )
        }
        read("WAREHOUSE LIST") { _ in { AdminReplies.rows(try AdminQueries.warehouses($0)) } }
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
            return try await call.write(
                reply: { .ok(AdminField("id", $0), AdminField("code", code)) },
                body: { try CatalogStore.createSKU($0, sku) }
            )
        }
        read("SKU LIST") { c throws(AdminError) in
            let (prefix, limit) = (try c.text(optional: "prefix") ?? "", try c.int(optional: "limit") ?? 100)
            return { AdminReplies.rows(try AdminQueries.skus($0, prefix: prefix, limit: limit)) }
        }
        call("RATE ADD") { call in
            let c = call.command
            let originReference = try AdminReplies.reference(c, optional: "origin")
            let (carrier, service, country, zone) = (
                try c.text(required: "carrier"), try c.text(required: "service"), try c.text(required: "country"),
                try c.text(optional: "zone")
            )
            let (minGrams, maxGrams, price, currency, days) = (
                try c.int(required: "min_g"), try c.int(required: "max_g"), try c.int(required: "price"),
                try c.text(required: "currency"), try c.int(required: "days")
            )
            let reply: @Sendable ((id: Int64, carrier: String, service: String)) -> AdminReply = { rate in
                .ok(AdminField("id", rate.id), AdminField("carrier", rate.carrier), AdminField("service", rate.service))
            }
            return try await call.write(
                reply: reply,
                body: { connection in
                    // The origin's code is looked up in the rate's own transaction.
                    let origin = try originReference.map { try CatalogStore.warehouseID(connection, $0) }
                    return try AdminQueries.addRate(
                        connection,
                        carrier: carrier,
                        service: service,
                        country: country,
                        zone: zone,
                        origin: origin,
                        minGrams: minGrams,
                        maxGrams: maxGrams,
                        priceMinor: price,
                        currency: currency,
                        transitDays: days
                    )
                }
            )
        }
        read("RATE LIST") { c throws(AdminError) in
            let country = try c.text(optional: "country")
            return { AdminReplies.rows(try AdminQueries.rates($0, country: country)) }
        }
    }
}

import Crypto
import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyAdminProtocol
import OrderlyCore
import OrderlyRouting
import OrderlyStore

/// Who a connection authenticated as.
public struct AdminPrincipal: Hashable, Sendable {
    public var name: String
    public var role: AdminRole
}

/// Runs bound commands against the services: one call, one reply. Database work happens on the pool's
/// connection threads; nothing here blocks an event loop. Domain refusals become their stable codes;
/// anything unexpected is logged and answered `ERR INTERNAL` (each command is one transaction, so
/// nothing half-done remains).
public struct AdminExecutor: Sendable {
    let database: OrderlyDatabase
    let logger: Logger

    public init(database: OrderlyDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    func orders(_ principal: AdminPrincipal?) -> OrderService {
        OrderService(database: database, actor: "admin:" + (principal?.name ?? "local"))
    }

    func fulfillment(_ principal: AdminPrincipal?) -> FulfillmentService {
        FulfillmentService(database: database, actor: "admin:" + (principal?.name ?? "local"))
    }

    /// `picked=SKU:QTY[,...]`: each SKU once, quantities whole and not negative.
    static func pickedCounts(_ text: String?) throws -> [String: Int64] {
        guard let text, !text.isEmpty else { return [:] }
        var counts: [String: Int64] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].allSatisfy(\.isASCII), let units = Int64(parts[1]),
                units >= 0, units <= 1_000_000
            else {
                throw AdminError(
                    .badArgument,
                    "picked: '\(ArgumentType.clipped(String(item)))' is not SKU:QTY (0...1000000)"
                )
            }
            guard counts.updateValue(units, forKey: String(parts[0])) == nil else {
                throw AdminError(.badArgument, "picked: SKU '\(ArgumentType.clipped(String(parts[0])))' appears twice")
            }
        }
        return counts
    }

    func inventory(_ principal: AdminPrincipal?) -> InventoryService {
        InventoryService(database: database, actor: "admin:" + (principal?.name ?? "local"))
    }

    /// Checks a secret; nil when the user is unknown, disabled or the secret is wrong (one answer for
    /// all three, so AUTH does not reveal which names exist).
    public func authenticate(user: String, secret: String) async throws -> AdminPrincipal? {
        let record = try await database.pool.withConnection { try AdminPrincipalStore.find($0, name: user) }
        guard let record, !record.disabled, let role = AdminRole(rawValue: record.role) else {
            // Spend the same time as a real check.
            _ = PasswordHash.verify(secret, against: Self.decoy)
            return nil
        }
        return PasswordHash.verify(secret, against: record.secretHash)
            ? AdminPrincipal(name: record.name, role: role) : nil
    }

    static let decoy =
        "pbkdf2-sha256$\(PasswordHash.iterations)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

    public func run(_ command: BoundCommand, principal: AdminPrincipal?) async -> AdminReply {
        guard command.spec.mutating, let key = command.text("idem") else {
            return await runOnce(command, principal: principal)
        }
        return await runIdempotent(command, key: key, principal: principal)
    }

    /// A mutating command with `idem=KEY`: claimed before it runs, its reply kept after. A refusal
    /// (an ERR from the domain: nothing changed) frees the key again.
    func runIdempotent(_ command: BoundCommand, key: String, principal: AdminPrincipal?) async -> AdminReply {
        let owner = principal?.name ?? ""
        let hash = Self.requestHash(command)
        let pool = database.pool
        do {
            let claim = try await pool.withConnection {
                try AdminIdempotencyStore.claim($0, principal: owner, key: key, requestHash: hash)
            }
            switch claim {
            case .mismatch:
                return .error(AdminError(.idempotencyConflict, "idem=\(key) was used for a different request"))
            case .unfinished:
                return .error(
                    AdminError(
                        .conflict,
                        "idem=\(key): an earlier request with this key has not finished (or stopped without a reply)"
                    )
                )
            case .replay(let stored):
                return Self.decodeStored(stored)
            case .claimed:
                let reply = await runOnce(command, principal: principal)
                let stored = Self.encodeStored(reply)
                if case .error(let error) = reply, error.code != .internal {
                    try await pool.withConnection { try AdminIdempotencyStore.release($0, principal: owner, key: key) }
                } else {
                    try await pool.withConnection {
                        try AdminIdempotencyStore.complete($0, principal: owner, key: key, reply: stored)
                    }
                }
                return reply
            }
        } catch {
            logger.error("idempotency store failed", metadata: ["error": "\(error)"])
            return .error(AdminError(.internal, "the idempotency store is unavailable"))
        }
    }

    /// The request without its key, in a canonical order, hashed.
    static func requestHash(_ command: BoundCommand) -> String {
        let arguments = command.arguments.filter { $0.key != "idem" }.sorted { $0.key < $1.key }
        let canonical = ([command.spec.name] + arguments.map { "\($0.key)=\(String(describing: $0.value))" })
            .joined(separator: "\n")
        // Two hex digits a byte, so no two digests print alike.
        return SHA256.hash(data: Array(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Stored replies are the JSON form, which keeps field types.
    static func encodeStored(_ reply: AdminReply) -> String { reply.encoded(.json, tag: nil) }

    static func decodeStored(_ stored: String) -> AdminReply {
        func fields(_ object: Any) -> [AdminField]? {
            // Keys in the order the reply wrote them: JSONSerialization loses it, so re-read it from the text.
            guard let dictionary = object as? [String: Any] else { return nil }
            return dictionary.keys.sorted { (order(of: $0, in: stored)) < (order(of: $1, in: stored)) }.map { key in
                // JSON booleans and numbers both come back as NSNumber here: the stored text tells them apart.
                switch dictionary[key] {
                case let text as String: return AdminField(key, text)
                case let number as NSNumber:
                    let literal = stored[
                        stored.index(stored.startIndex, offsetBy: order(of: key, in: stored) + key.count + 3)...
                    ]
                    if literal.hasPrefix("true") || literal.hasPrefix("false") {
                        return AdminField(key, number.boolValue)
                    }
                    return AdminField(key, number.int64Value)
                default: return AdminField(key, .null)
                }
            }
        }
        guard let data = stored.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return .error(AdminError(.internal, "a stored reply could not be read")) }
        if object["ok"] as? Bool == false {
            return .error(
                AdminError(
                    AdminError.Code(rawValue: object["code"] as? String ?? "INTERNAL"),
                    object["message"] as? String ?? ""
                )
            )
        }
        if let rows = object["rows"] as? [Any] { return .rows(rows.compactMap(fields)) }
        return .ok(fields(object["fields"] ?? [:]) ?? [])
    }

    /// Where `"key":` first appears in the stored text (field order for replays).
    private static func order(of key: String, in text: String) -> Int {
        guard let range = text.range(of: "\"\(key)\":") else { return Int.max }
        return text.distance(from: text.startIndex, to: range.lowerBound)
    }

    func runOnce(_ command: BoundCommand, principal: AdminPrincipal?) async -> AdminReply {
        do {
            return try await dispatch(command, principal: principal)
        } catch {
            return reply(for: error, command: command)
        }
    }

    /// A refusal as its stable code; anything unexpected is logged and answered INTERNAL.
    func reply(for error: any Error, command: BoundCommand) -> AdminReply {
        switch error {
        case let error as AdminError:
            return .error(error)
        case let error as OrderlyError:
            return .error(AdminError(AdminError.Code(rawValue: error.code.description), error.message))
        case let error as IllegalTransition:
            return .error(AdminError(AdminError.Code(rawValue: IllegalTransition.code), error.description))
        case let error as UnknownStrategy:
            return .error(AdminError(.badArgument, error.description))
        default:
            logger.error("command failed", metadata: ["command": "\(command.spec.name)", "error": "\(error)"])
            return .error(AdminError(.internal, "the command failed and changed nothing; the server log has details"))
        }
    }

    /// Read commands that are one synchronous piece of work on a connection: the server runs them
    /// with the pool's callback API, from the event loop to the connection's thread and back, without
    /// a task. Nil for everything else.
    func connectionWork(_ c: BoundCommand) -> (@Sendable (PostgresConnection) throws -> AdminReply)? {
        switch c.spec.name {
        case "ORDER SHOW":
            let id = c.int("id") ?? 0
            let store = OrderStore(actor: "admin")
            return { connection in
                guard let order = try store.order(connection, id: id) else {
                    throw OrderlyError(.notFound, "order \(id) does not exist")
                }
                return Self.orderReply(order)
            }
        case "ORDER LIST":
            let (status, channel, before, limit) = (
                c.text("status"), c.text("channel"), c.int("before"), c.int("limit") ?? 100
            )
            return {
                Self.rows(try AdminQueries.orders($0, status: status, channel: channel, before: before, limit: limit))
            }
        case "WAREHOUSE LIST":
            return { Self.rows(try AdminQueries.warehouses($0)) }
        case "SKU LIST":
            let (prefix, limit) = (c.text("prefix") ?? "", c.int("limit") ?? 100)
            return { Self.rows(try AdminQueries.skus($0, prefix: prefix, limit: limit)) }
        case "RATE LIST":
            let country = c.text("country")
            return { Self.rows(try AdminQueries.rates($0, country: country)) }
        case "SHIPMENT LIST":
            let (order, status, limit) = (c.int("order"), c.text("status"), c.int("limit") ?? 100)
            return { Self.rows(try AdminQueries.shipments($0, order: order, status: status, limit: limit)) }
        case "SHIPMENT SHOW":
            let id = c.int("id") ?? 0
            return { Self.rows(try AdminQueries.shipment($0, id: id)) }
        case "ORDER TIMELINE":
            let id = c.int("id") ?? 0
            return { Self.rows(try AdminQueries.timeline($0, orderID: id)) }
        case "PICKLIST LIST":
            let (warehouse, status, limit) = (c.int("warehouse"), c.text("status"), Int(c.int("limit") ?? 100))
            return { Self.rows(try AdminQueries.pickLists($0, warehouse: warehouse, status: status, limit: limit)) }
        case "PICKLIST SHOW":
            let id = c.int("id") ?? 0
            return { Self.rows(try AdminQueries.pickList($0, id: id)) }
        case "NOTIFICATION LIST":
            let (order, status, limit) = (c.int("order"), c.text("status"), Int(c.int("limit") ?? 100))
            return { Self.rows(try AdminQueries.notifications($0, order: order, status: status, limit: limit)) }
        case "JOBS STATS":
            return { Self.rows(try AdminQueries.jobStats($0)) }
        case "JOBS LIST":
            let (state, kind, limit) = (c.text("state"), c.text("kind"), c.int("limit") ?? 100)
            return { Self.rows(try AdminQueries.jobs($0, state: state, kind: kind, limit: limit)) }
        default:
            return nil
        }
    }

    // swiftlint:disable:next cyclomatic_complexity
    func dispatch(_ c: BoundCommand, principal: AdminPrincipal?) async throws -> AdminReply {
        let pool = database.pool
        // Reads that are one piece of work on a connection are written once, in `connectionWork`.
        if let work = connectionWork(c) { return try await pool.withConnection(work) }
        switch c.spec.name {
        case "WAREHOUSE ADD":
            let shipsTo = (c.text("ships_to") ?? "").split(separator: ",").map { String($0) }
            for country in shipsTo where country.utf8.count != 2 || !country.utf8.allSatisfy({ (65...90).contains($0) })
            {
                throw AdminError(.badArgument, "ships_to: '\(country)' is not a country code")
            }
            let warehouse = NewWarehouse(
                code: c.text("code") ?? "",
                name: c.text("name") ?? "",
                location: GeoPoint(
                    latitude: Double(c.text("lat") ?? "") ?? 0,
                    longitude: Double(c.text("lon") ?? "") ?? 0
                ),
                addressLine1: c.text("line1") ?? "",
                city: c.text("city") ?? "",
                country: c.text("country") ?? "",
                priority: Int(c.int("priority") ?? 100),
                pickMethod: c.text("pick_method") ?? "single",
                shipsTo: shipsTo
            )
            let id = try await pool.withConnection { try CatalogStore.createWarehouse($0, warehouse) }
            return .ok(AdminField("id", id), AdminField("code", warehouse.code))
        case "SKU ADD":
            let sku = NewSKU(
                code: c.text("code") ?? "",
                name: c.text("name") ?? "",
                weightGrams: Int(c.int("weight_g") ?? 0),
                dimensionsMillimetres: (
                    Int(c.int("length_mm") ?? 0), Int(c.int("width_mm") ?? 0), Int(c.int("height_mm") ?? 0)
                )
            )
            let id = try await pool.withConnection { try CatalogStore.createSKU($0, sku) }
            return .ok(AdminField("id", id), AdminField("code", sku.code))
        case "STOCK RECEIVE":
            return stock(
                try await inventory(principal).receive(
                    warehouse: c.int("warehouse") ?? 0,
                    sku: c.int("sku") ?? 0,
                    quantity: c.int("qty") ?? 0,
                    note: c.text("note")
                )
            )
        case "STOCK ADJUST":
            guard let reason = c.text("reason").flatMap(StockReason.init(rawValue:)) else {
                throw AdminError(.badArgument, "reason is required")
            }
            return stock(
                try await inventory(principal).adjust(
                    warehouse: c.int("warehouse") ?? 0,
                    sku: c.int("sku") ?? 0,
                    delta: c.int("delta") ?? 0,
                    reason: reason,
                    note: c.text("note")
                )
            )
        case "STOCK COUNT":
            return stock(
                try await inventory(principal).count(
                    warehouse: c.int("warehouse") ?? 0,
                    sku: c.int("sku") ?? 0,
                    counted: c.int("counted") ?? 0,
                    reason: c.text("reason").flatMap(StockReason.init(rawValue:)) ?? .correction
                )
            )
        case "STOCK TRANSFER":
            let moved = try await inventory(principal).transfer(
                sku: c.int("sku") ?? 0,
                from: c.int("from") ?? 0,
                to: c.int("to") ?? 0,
                quantity: c.int("qty") ?? 0
            )
            return .rows([stockFields(moved.from), stockFields(moved.to)])
        case "STOCK SHOW":
            let sku = c.int("sku") ?? 0
            let availability = try await inventory(principal).availability(sku: sku)
            let perWarehouse = availability.perWarehouse.filter {
                c.int("warehouse") == nil || $0.warehouseID == c.int("warehouse")
            }
            return .rows(perWarehouse.map(stockFields))
        case "RATE ADD":
            let id = try await pool.withConnection { connection in
                try AdminQueries.addRate(
                    connection,
                    carrier: c.text("carrier") ?? "",
                    service: c.text("service") ?? "",
                    country: c.text("country") ?? "",
                    zone: c.text("zone"),
                    origin: c.int("origin"),
                    minGrams: c.int("min_g") ?? 0,
                    maxGrams: c.int("max_g") ?? 0,
                    priceMinor: c.int("price") ?? 0,
                    currency: c.text("currency") ?? "",
                    transitDays: c.int("days") ?? 0
                )
            }
            return .ok(AdminField("id", id))
        case "ORDER CREATE":
            return try await createOrder(c, principal: principal)
        case "ORDER CANCEL":
            return outcome(try await orders(principal).cancel(c.int("id") ?? 0, reason: c.text("reason") ?? ""))
        case "ORDER HOLD":
            return outcome(try await orders(principal).hold(c.int("id") ?? 0, note: c.text("note") ?? ""))
        case "ORDER RELEASE":
            return outcome(try await orders(principal).release(c.int("id") ?? 0, note: c.text("note") ?? ""))
        case "ORDER ROUTE":
            let plans = try await orders(principal).preview(
                c.int("id") ?? 0,
                strategies: c.text("strategy").map { [$0] }
            )
            return .rows(
                plans.flatMap { name, plan -> [[AdminField]] in
                    guard let plan else { return [[AdminField("strategy", name), AdminField("plan", "none")]] }
                    return plan.shipments.map { shipment in
                        [
                            AdminField("strategy", name), AdminField("rule", plan.rule),
                            AdminField("warehouse", shipment.warehouseID),
                            AdminField(
                                "units",
                                shipment.units.keys.sorted().map { "\($0):\(shipment.units[$0] ?? 0)" }.joined(
                                    separator: ","
                                )
                            ),
                            AdminField("weight_g", shipment.weightGrams),
                            AdminField("distance_km", Int64(shipment.distanceKilometers.rounded())),
                            AdminField("cost", shipment.rate.map { .int($0.priceMinor) } ?? .null),
                        ]
                    }
                }
            )
        case "SHIPMENT DELIVER", "SHIPMENT EXCEPTION":
            let id = c.int("id") ?? 0
            let event: CarrierEvent =
                c.spec.name == "SHIPMENT DELIVER" ? .delivered : c.text("kind") == "lost" ? .lost : .delayed
            try await fulfillment(principal).report(event, shipmentID: id, note: c.text("note"))
            let status = try await pool.withConnection {
                try $0.query("SELECT status FROM shipments WHERE id = $1", [id]).scalar(String.self)
            }
            return .ok(AdminField("id", id), AdminField("status", status))
        case "PICKLIST CONFIRM":
            let id = c.int("id") ?? 0
            let ready = try await fulfillment(principal).confirmPickList(
                id,
                picked: try Self.pickedCounts(c.text("picked"))
            )
            return .ok(
                AdminField("id", id),
                AdminField("status", "completed"),
                AdminField("shipments_picked", ready.map(String.init).joined(separator: ","))
            )
        case "NOTIFICATION RESEND":
            let id = c.int("id") ?? 0
            let status = try await pool.withConnection { try AdminQueries.resendNotification($0, id: id) }
            return .ok(AdminField("id", id), AdminField("status", status))
        case "JOBS RETRY":
            let id = c.int("id") ?? 0
            let state = try await pool.withConnection { try AdminQueries.retryJob($0, id: id) }
            return .ok(AdminField("id", id), AdminField("state", state))
        case "JOBS DISCARD":
            let id = c.int("id") ?? 0
            let state = try await pool.withConnection { try AdminQueries.discardJob($0, id: id) }
            return .ok(AdminField("id", id), AdminField("state", state))
        case "CHECK":
            let report = try await InvariantChecker(database: database).run()
            return .rows(
                report.violations.map { [AdminField("invariant", $0.invariant), AdminField("detail", $0.detail)] }
            )
        default:
            throw AdminError(.unknownCommand, "\(c.spec.name) is not served here")
        }
    }

    func createOrder(_ c: BoundCommand, principal: AdminPrincipal?) async throws -> AdminReply {
        let lat = c.text("lat").flatMap(Double.init)
        let lon = c.text("lon").flatMap(Double.init)
        guard (lat == nil) == (lon == nil) else { throw AdminError(.badArgument, "lat and lon go together") }
        let order = NewOrder(
            channel: SalesChannel(rawValue: c.text("channel") ?? "") ?? .web,
            externalID: c.text("external_id") ?? "",
            currency: c.text("currency") ?? "",
            lines: (c.arguments["lines"]?.lines ?? []).map {
                NewOrderLine(skuCode: $0.sku, quantity: $0.quantity, unitPriceMinor: $0.unitPriceMinor)
            },
            shipTo: PostalAddress(
                name: c.text("name") ?? "",
                line1: c.text("line1") ?? "",
                city: c.text("city") ?? "",
                region: c.text("region"),
                postalCode: c.text("postal"),
                country: c.text("country") ?? "",
                location: lat.flatMap { lat in lon.map { GeoPoint(latitude: lat, longitude: $0) } }
            ),
            billingCountry: c.text("billing_country"),
            email: c.text("email"),
            shippingMinor: c.int("shipping") ?? 0,
            taxMinor: c.int("tax") ?? 0,
            discountMinor: c.int("discount") ?? 0,
            payment: c.text("method").map { PaymentDetails(method: $0, token: c.text("token")) }
                ?? c.text("token").map { PaymentDetails(method: "card", token: $0) },
            riskScore: c.int("risk").map { Int($0) },
            reviewRequested: c.bool("review") ?? false
        )
        return outcome(try await orders(principal).place(order))
    }

    func outcome(_ outcome: OrderOutcome) -> AdminReply {
        var fields = [
            AdminField("id", outcome.orderID), AdminField("status", outcome.status.rawValue),
            AdminField("reserved", outcome.unitsReserved),
        ]
        if let reason = outcome.holdReason { fields.append(AdminField("hold_reason", reason.rawValue)) }
        if outcome.replayed { fields.append(AdminField("replayed", true)) }
        if !outcome.shortage.isEmpty {
            fields.append(
                AdminField(
                    "short",
                    outcome.shortage.keys.sorted().map { "\($0):\(outcome.shortage[$0] ?? 0)" }.joined(separator: ",")
                )
            )
        }
        if let plan = outcome.plan {
            fields.append(AdminField("strategy", plan.strategy))
            fields.append(
                AdminField("warehouses", plan.shipments.map { String($0.warehouseID) }.joined(separator: ","))
            )
        }
        return .ok(fields)
    }

    static func orderReply(_ order: OrderRecord) -> AdminReply {
        let head = [
            AdminField("id", order.id), AdminField("channel", order.channel.rawValue),
            AdminField("external_id", order.externalID), AdminField("status", order.status.rawValue),
            AdminField("hold_reason", order.holdReason?.rawValue), AdminField("payment", order.paymentStatus.rawValue),
            AdminField("currency", order.currency.code), AdminField("total", order.totalMinor),
            AdminField("ship_to", "\(order.shipTo.name), \(order.shipTo.city), \(order.shipTo.country)"),
        ]
        return .rows(
            [head]
                + order.lines.map {
                    [
                        AdminField("line", $0.lineNo), AdminField("sku", $0.skuCode), AdminField("qty", $0.quantity),
                        AdminField("price", $0.unitPriceMinor), AdminField("reserved", $0.reserved),
                        AdminField("backordered", $0.backordered), AdminField("shipped", $0.shipped),
                        AdminField("cancelled", $0.cancelled),
                    ]
                }
        )
    }

    func stockFields(_ row: InventoryRow) -> [AdminField] {
        [
            AdminField("warehouse", row.warehouseID), AdminField("sku", row.skuID), AdminField("on_hand", row.onHand),
            AdminField("reserved", row.reserved), AdminField("available", row.availableToPromise),
            AdminField("reorder_point", row.reorderPoint), AdminField("safety_stock", row.safetyStock),
        ]
    }

    func stock(_ row: InventoryRow) -> AdminReply { .ok(stockFields(row)) }

    static func rows(_ rows: [AdminQueries.Row]) -> AdminReply {
        .rows(
            rows.map { row in
                row.map { name, cell in
                    switch cell {
                    case .text(let text): AdminField(name, text)
                    case .int(let value): AdminField(name, value)
                    case .bool(let value): AdminField(name, value)
                    case .null: AdminField(name, .null)
                    }
                }
            }
        )
    }
}

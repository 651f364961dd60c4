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
    let components: OrderlyComponents
    let logger: Logger

    public init(database: OrderlyDatabase, components: OrderlyComponents = .standard, logger: Logger) {
        self.database = database
        self.components = components
        self.logger = logger
    }

    func orders(_ principal: AdminPrincipal?) -> OrderService {
        OrderService(database: database, actor: "admin:" + (principal?.name ?? "local"), components: components)
    }

    func fulfillment(_ principal: AdminPrincipal?) -> FulfillmentService {
        FulfillmentService(
            database: database,
            actor: "admin:" + (principal?.name ?? "local"),
            components: components
        )
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

    /// What running a command came to: its reply, or (for a dev-mode connection) the news that a
    /// principal exists now, so the connection must AUTH.
    public enum Outcome: Sendable {
        case reply(AdminReply)
        case devModeEnded
    }

    /// Whether any enabled principal exists (the callback flavour, for the event loop).
    func principalsExist(_ completion: @escaping @Sendable (Result<Bool, any Error>) -> Void) {
        database.pool.withConnection({ try AdminPrincipalStore.anyEnabled($0) }, completion: completion)
    }

    /// `work` for a dev-mode connection: first a look at the principals table, on the same connection.
    static func guarded(
        _ work: @escaping @Sendable (PostgresConnection) throws -> AdminReply,
        devMode: Bool
    ) -> @Sendable (PostgresConnection) throws -> Outcome {
        { connection in
            if devMode, try AdminPrincipalStore.anyEnabled(connection) { return .devModeEnded }
            return .reply(try work(connection))
        }
    }

    public func run(_ command: BoundCommand, principal: AdminPrincipal?, devMode: Bool = false) async -> Outcome {
        if devMode {
            do {
                if try await database.pool.withConnection({ try AdminPrincipalStore.anyEnabled($0) }) {
                    return .devModeEnded
                }
            } catch {
                return .reply(reply(for: error, command: command))
            }
        }
        guard command.spec.mutating, let key = command.text("idem") else {
            return .reply(await runOnce(command, principal: principal, idem: nil))
        }
        return .reply(await runIdempotent(command, key: key, principal: principal))
    }

    /// A mutating command with `idem=KEY`. Its reply is stored in its own transaction
    /// (`CommitAlongside`), so the key holds a reply exactly when the command committed: a replay
    /// returns it; a refusal, a crash or a connection lost before COMMIT leaves the key free. Two
    /// requests with one key at once: the second's insert waits for the first's commit, fails on the
    /// key, rolls back, and returns the first's reply.
    func runIdempotent(_ command: BoundCommand, key: String, principal: AdminPrincipal?) async -> AdminReply {
        let record = IdempotencyRecord(
            principal: principal?.name ?? "",
            key: key,
            requestHash: Self.requestHash(command)
        )
        do {
            if let earlier = try await lookUp(record) { return earlier }
            return try await dispatch(command, principal: principal, idem: record)
        } catch  where AdminIdempotencyStore.isKeyTaken(error) {
            do {
                if let earlier = try await lookUp(record) { return earlier }
            } catch {
                return reply(for: error, command: command)
            }
            return .error(AdminError(.conflict, "idem=\(key) was taken and then freed; send the request again"))
        } catch {
            return reply(for: error, command: command)
        }
    }

    /// The reply the key already answers with, or nil when it is free.
    private func lookUp(_ record: IdempotencyRecord) async throws -> AdminReply? {
        let lookup = try await database.pool.withConnection {
            try AdminIdempotencyStore.lookup(
                $0,
                principal: record.principal,
                key: record.key,
                requestHash: record.requestHash
            )
        }
        switch lookup {
        case .free: return nil
        case .replay(let stored): return Self.decodeStored(stored)
        case .mismatch:
            return .error(AdminError(.idempotencyConflict, "idem=\(record.key) was used for a different request"))
        case .unfinished:
            return .error(
                AdminError(
                    .conflict,
                    "idem=\(record.key): an older server claimed this key and stopped without a reply; "
                        + "its outcome is unknown (check the order or stock)"
                )
            )
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

    func runOnce(_ command: BoundCommand, principal: AdminPrincipal?, idem: IdempotencyRecord?) async -> AdminReply {
        do {
            return try await dispatch(command, principal: principal, idem: idem)
        } catch {
            return reply(for: error, command: command)
        }
    }

    /// Commands that run more than one transaction: a failure part-way may have left the first done.
    static let multiTransaction: Set<String> = ["ORDER RELEASE"]

    /// A refusal as its stable code; a lost database as UNAVAILABLE, saying whether anything may have
    /// changed; anything unexpected is logged and answered INTERNAL.
    func reply(for error: any Error, command: BoundCommand) -> AdminReply {
        let partial = Self.multiTransaction.contains(command.spec.name)
        let unchanged =
            partial ? "part of it may have been applied (ORDER SHOW tells)" : "its transaction was rolled back"
        switch error {
        case let error as AdminError:
            return .error(error)
        case let error as OrderlyError:
            return .error(AdminError(AdminError.Code(rawValue: error.code.description), error.message))
        case let error as IllegalTransition:
            return .error(AdminError(AdminError.Code(rawValue: IllegalTransition.code), error.description))
        case let error as UnknownStrategy:
            return .error(AdminError(.badArgument, error.description))
        case let error as PostgresError where error.code == .commitOutcomeUnknown:
            logger.warning(
                "commit outcome unknown",
                metadata: ["command": "\(command.spec.name)", "error": "\(error)"]
            )
            let retry =
                command.text("idem") != nil
                ? "retry with the same idem key"
                : "check before retrying (an idem= key makes retries safe)"
            return .error(
                AdminError(
                    .unavailable,
                    "outcome unknown: the database connection broke while the command committed; \(retry)"
                )
            )
        case let error as PostgresError
        where [.connectionLost, .connectionFailed, .poolTimeout, .poolClosed].contains(error.code):
            logger.warning("database unavailable", metadata: ["command": "\(command.spec.name)", "error": "\(error)"])
            return .error(AdminError(.unavailable, "the database is unavailable; \(unchanged)"))
        default:
            logger.error("command failed", metadata: ["command": "\(command.spec.name)", "error": "\(error)"])
            return .error(AdminError(.internal, "the command failed and \(unchanged); the server log has details"))
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
                // The order, its lines and what it waits for: one round trip.
                let (order, facts) = try connection.pipeline(
                    store.order(id, lock: false),
                    store.waitFacts(orderID: id)
                )
                guard let order else { throw OrderlyError(.notFound, "order \(id) does not exist") }
                let waits = facts.map(OrderWaits.describe) ?? []
                return Self.orderReply(order, waitingFor: waits)
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
            let store = OrderStore(actor: "admin")
            return { connection in
                let history = try AdminQueries.timeline(connection, orderID: id)
                let waits = try connection.run(store.waitFacts(orderID: id)).map(OrderWaits.describe) ?? []
                // Last, what comes next: what the order is waiting for now.
                let next: [AdminQueries.Row] = (waits.isEmpty ? ["nothing"] : waits).map {
                    [("at", .null), ("source", .text("waiting")), ("what", .text($0)), ("detail", .text(""))]
                }
                return Self.rows(history + next)
            }
        case "PICKLIST LIST":
            let (warehouse, status, limit) = (
                Self.reference(c, "warehouse"), c.text("status"), Int(c.int("limit") ?? 100)
            )
            return { connection in
                let warehouseID = try warehouse.map { try CatalogStore.warehouseID(connection, $0) }
                return Self.rows(
                    try AdminQueries.pickLists(connection, warehouse: warehouseID, status: status, limit: limit)
                )
            }
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

    /// A reference argument (`warehouse=BER-1` or `warehouse=3`) as the catalogue resolves it.
    static func reference(_ c: BoundCommand, _ name: String) -> CatalogStore.Reference? {
        switch c.arguments[name] {
        case .int(let id)?: .id(id)
        case .text(let code)?: .code(code)
        default: nil
        }
    }

    /// The ids a stock command's warehouse arguments and its SKU name, codes looked up on one
    /// connection; when every one is an id already, no lookup at all (the foreign keys name a
    /// missing one).
    func stockRow(
        _ c: BoundCommand,
        warehouses: [String] = ["warehouse"]
    ) async throws -> (
        warehouses: [Int64], sku: Int64
    ) {
        let (w, s) = (warehouses.map { Self.reference(c, $0) }, Self.reference(c, "sku"))
        func id(_ reference: CatalogStore.Reference?) -> Int64? {
            if case .id(let id)? = reference { id } else { nil }
        }
        if let sku = id(s), case let ids = w.compactMap(id), ids.count == w.count { return (ids, sku) }
        return try await database.pool.withConnection { connection in
            (
                try w.map { try $0.map { try CatalogStore.warehouseID(connection, $0) } ?? 0 },
                try s.map { try CatalogStore.skuID(connection, $0) } ?? 0
            )
        }
    }

    /// Runs a write of the executor's own (a single store call) in a transaction, with the idem
    /// reply stored alongside; returns the reply for its value.
    func write<V: Sendable>(
        _ idem: IdempotencyRecord?,
        reply: @escaping @Sendable (V) -> AdminReply,
        body: @escaping @Sendable (PostgresConnection) throws -> V
    ) async throws -> AdminReply {
        let alongside = idem?.storing(reply)
        let value = try await database.pool.transaction { tx in try tx.finish(try body(tx), alongside: alongside) }
        return reply(value)
    }

    // swiftlint:disable:next cyclomatic_complexity
    func dispatch(_ c: BoundCommand, principal: AdminPrincipal?, idem: IdempotencyRecord?) async throws -> AdminReply {
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
            let code = warehouse.code
            return try await write(
                idem,
                reply: { .ok(AdminField("id", $0), AdminField("code", code)) },
                body: { try CatalogStore.createWarehouse($0, warehouse) }
            )
        case "SKU ADD":
            let sku = NewSKU(
                code: c.text("code") ?? "",
                name: c.text("name") ?? "",
                weightGrams: Int(c.int("weight_g") ?? 0),
                dimensionsMillimetres: (
                    Int(c.int("length_mm") ?? 0), Int(c.int("width_mm") ?? 0), Int(c.int("height_mm") ?? 0)
                )
            )
            let code = sku.code
            return try await write(
                idem,
                reply: { .ok(AdminField("id", $0), AdminField("code", code)) },
                body: { try CatalogStore.createSKU($0, sku) }
            )
        case "STOCK RECEIVE":
            let row = try await stockRow(c)
            return Self.stock(
                try await inventory(principal).receive(
                    warehouse: row.warehouses[0],
                    sku: row.sku,
                    quantity: c.int("qty") ?? 0,
                    note: c.text("note"),
                    alongside: idem?.storing(Self.stock)
                )
            )
        case "STOCK ADJUST":
            guard let reason = c.text("reason").flatMap(StockReason.init(rawValue:)) else {
                throw AdminError(.badArgument, "reason is required")
            }
            let row = try await stockRow(c)
            return Self.stock(
                try await inventory(principal).adjust(
                    warehouse: row.warehouses[0],
                    sku: row.sku,
                    delta: c.int("delta") ?? 0,
                    reason: reason,
                    note: c.text("note"),
                    alongside: idem?.storing(Self.stock)
                )
            )
        case "STOCK COUNT":
            let row = try await stockRow(c)
            return Self.stock(
                try await inventory(principal).count(
                    warehouse: row.warehouses[0],
                    sku: row.sku,
                    counted: c.int("counted") ?? 0,
                    reason: c.text("reason").flatMap(StockReason.init(rawValue:)) ?? .correction,
                    alongside: idem?.storing(Self.stock)
                )
            )
        case "STOCK TRANSFER":
            let row = try await stockRow(c, warehouses: ["from", "to"])
            let reply: @Sendable ((from: InventoryRow, to: InventoryRow)) -> AdminReply = {
                .rows([Self.stockFields($0.from), Self.stockFields($0.to)])
            }
            return reply(
                try await inventory(principal).transfer(
                    sku: row.sku,
                    from: row.warehouses[0],
                    to: row.warehouses[1],
                    quantity: c.int("qty") ?? 0,
                    alongside: idem?.storing(reply)
                )
            )
        case "STOCK SHOW":
            let (sku, warehouse) = (Self.reference(c, "sku"), Self.reference(c, "warehouse"))
            let rows = try await pool.withConnection { connection in
                // A SKU or warehouse that does not exist is NOT_FOUND, not an empty list.
                let skuID = try CatalogStore.skuID(connection, sku ?? .id(0))
                let warehouseID = try warehouse.map { try CatalogStore.warehouseID(connection, $0) }
                return try InventoryStore(actor: "admin").rows(connection, sku: skuID).filter {
                    warehouseID == nil || $0.warehouseID == warehouseID
                }
            }
            return .rows(rows.map(Self.stockFields))
        case "RATE ADD":
            let originReference = Self.reference(c, "origin")
            let reply: @Sendable ((id: Int64, carrier: String, service: String)) -> AdminReply = { rate in
                .ok(AdminField("id", rate.id), AdminField("carrier", rate.carrier), AdminField("service", rate.service))
            }
            return try await write(
                idem,
                reply: reply,
                body: { connection in
                    // The origin's code is looked up in the rate's own transaction.
                    let origin = try originReference.map { try CatalogStore.warehouseID(connection, $0) }
                    return try AdminQueries.addRate(
                        connection,
                        carrier: c.text("carrier") ?? "",
                        service: c.text("service") ?? "",
                        country: c.text("country") ?? "",
                        zone: c.text("zone"),
                        origin: origin,
                        minGrams: c.int("min_g") ?? 0,
                        maxGrams: c.int("max_g") ?? 0,
                        priceMinor: c.int("price") ?? 0,
                        currency: c.text("currency") ?? "",
                        transitDays: c.int("days") ?? 0
                    )
                }
            )
        case "ORDER CREATE":
            return try await createOrder(c, principal: principal, idem: idem)
        case "ORDER CANCEL":
            return Self.outcome(
                try await orders(principal).cancel(
                    c.int("id") ?? 0,
                    reason: c.text("reason") ?? "",
                    alongside: idem?.storing(Self.outcome)
                )
            )
        case "ORDER HOLD":
            return Self.outcome(
                try await orders(principal).hold(
                    c.int("id") ?? 0,
                    note: c.text("note") ?? "",
                    alongside: idem?.storing(Self.outcome)
                )
            )
        case "ORDER RELEASE":
            return Self.outcome(
                try await orders(principal).release(
                    c.int("id") ?? 0,
                    note: c.text("note") ?? "",
                    alongside: idem?.storing(Self.outcome)
                )
            )
        case "ORDER ROUTE":
            let service = orders(principal)
            let order = try await service.order(c.int("id") ?? 0)
            let plans = try await service.preview(order.id, strategies: c.text("strategy").map { [$0] })
            return .rows(plans.flatMap { name, plan in Self.routeRows(name, plan, order: order) })
        case "SHIPMENT DELIVER", "SHIPMENT EXCEPTION":
            let id = c.int("id") ?? 0
            let event: CarrierEvent =
                c.spec.name == "SHIPMENT DELIVER" ? .delivered : c.text("kind") == "lost" ? .lost : .delayed
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("status", $0)) }
            return reply(
                try await fulfillment(principal).report(
                    event,
                    shipmentID: id,
                    note: c.text("note"),
                    alongside: idem?.storing(reply)
                )
            )
        case "PICKLIST CONFIRM":
            let id = c.int("id") ?? 0
            let reply: @Sendable ([Int64]) -> AdminReply = { ready in
                .ok(
                    AdminField("id", id),
                    AdminField("status", "completed"),
                    AdminField("shipments_picked", ready.map(String.init).joined(separator: ","))
                )
            }
            return reply(
                try await fulfillment(principal).confirmPickList(
                    id,
                    picked: try Self.pickedCounts(c.text("picked")),
                    alongside: idem?.storing(reply)
                )
            )
        case "NOTIFICATION RESEND":
            let id = c.int("id") ?? 0
            return try await write(
                idem,
                reply: { .ok(AdminField("id", id), AdminField("status", $0)) },
                body: { try AdminQueries.resendNotification($0, id: id) }
            )
        case "JOBS RETRY":
            let id = c.int("id") ?? 0
            return try await write(
                idem,
                reply: { .ok(AdminField("id", id), AdminField("state", $0)) },
                body: { try AdminQueries.retryJob($0, id: id) }
            )
        case "JOBS DISCARD":
            let id = c.int("id") ?? 0
            return try await write(
                idem,
                reply: { .ok(AdminField("id", id), AdminField("state", $0)) },
                body: { try AdminQueries.discardJob($0, id: id) }
            )
        case "CHECK":
            return Self.checkRows(try await InvariantChecker(database: database).run())
        default:
            throw AdminError(.unknownCommand, "\(c.spec.name) is not served here")
        }
    }

    /// One strategy's plan as rows: a row per shipment, or one saying why there is none.
    static func routeRows(_ name: String, _ plan: RoutingPlan?, order: OrderRecord) -> [[AdminField]] {
        let located = order.shipTo.location != nil
        guard let plan else {
            // Why: the strategies say only that no plan fits, so name what each of them needs.
            var reasons: [String] = []
            if name.contains("nearest") && !located {
                reasons.append("nearest needs the destination's coordinates (lat and lon at capture)")
            }
            reasons.append(
                name.contains("split")
                    ? "the warehouses that ship to \(order.shipTo.country) do not hold the open units between them"
                    : "no single warehouse that ships to \(order.shipTo.country) holds every open unit"
            )
            return [
                [
                    AdminField("strategy", name), AdminField("plan", "none"),
                    AdminField("reason", reasons.joined(separator: "; ") + " (STOCK SHOW SKU shows the stock)"),
                ]
            ]
        }
        return plan.shipments.map { shipment in
            [
                AdminField("strategy", name), AdminField("rule", plan.rule),
                AdminField("warehouse", shipment.warehouseID),
                AdminField(
                    "units",
                    shipment.units.keys.sorted().map { "\($0):\(shipment.units[$0] ?? 0)" }.joined(separator: ",")
                ),
                AdminField("weight_g", shipment.weightGrams),
                // Unknown without the destination's coordinates: not zero.
                AdminField(
                    "distance_km",
                    located ? .int(Int64(shipment.distanceKilometers.rounded())) : .null
                ),
                AdminField("cost", shipment.rate.map { .int($0.priceMinor) } ?? .null),
            ]
        }
    }

    /// `CHECK`: a row per invariant (whether it holds, how many rows break it), then a row per violation.
    static func checkRows(_ report: InvariantChecker.Report) -> AdminReply {
        let summary = InvariantChecker.invariants.map { invariant, rule in
            let broken = report.violations.filter { $0.invariant == invariant }.count
            var fields = [
                AdminField("invariant", invariant), AdminField("holds", broken == 0),
                AdminField("violations", broken), AdminField("rule", rule),
            ]
            if invariant == 4 { fields.append(AdminField("orders_checked", report.ordersChecked)) }
            return fields
        }
        let violations = report.violations.map {
            [AdminField("invariant", $0.invariant), AdminField("detail", $0.detail)]
        }
        return .rows(summary + violations)
    }

    func createOrder(_ c: BoundCommand, principal: AdminPrincipal?, idem: IdempotencyRecord?) async throws -> AdminReply
    {
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
        return Self.outcome(try await orders(principal).place(order, alongside: idem?.storing(Self.outcome)))
    }

    @Sendable static func outcome(_ outcome: OrderOutcome) -> AdminReply {
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

    static func orderReply(_ order: OrderRecord, waitingFor: [String]) -> AdminReply {
        let head = [
            AdminField("id", order.id), AdminField("channel", order.channel.rawValue),
            AdminField("external_id", order.externalID), AdminField("status", order.status.rawValue),
            AdminField("hold_reason", order.holdReason?.rawValue), AdminField("payment", order.paymentStatus.rawValue),
            AdminField("currency", order.currency.code), AdminField("total", order.totalMinor),
            AdminField("ship_to", "\(order.shipTo.name), \(order.shipTo.city), \(order.shipTo.country)"),
            AdminField("waiting_for", waitingFor.isEmpty ? "nothing" : waitingFor.joined(separator: "; ")),
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

    static func stockFields(_ row: InventoryRow) -> [AdminField] {
        [
            AdminField("warehouse", row.warehouseID), AdminField("sku", row.skuID), AdminField("on_hand", row.onHand),
            AdminField("reserved", row.reserved), AdminField("available", row.availableToPromise),
            AdminField("reorder_point", row.reorderPoint), AdminField("safety_stock", row.safetyStock),
        ]
    }

    @Sendable static func stock(_ row: InventoryRow) -> AdminReply { .ok(stockFields(row)) }

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

/// A mutating command's `idem=` key: who sent it, the key, and the request's hash.
struct IdempotencyRecord: Sendable {
    let principal: String
    let key: String
    let requestHash: String

    /// Stores the reply the command will send for its value, in the command's own transaction.
    func storing<V>(_ reply: @escaping @Sendable (V) -> AdminReply) -> CommitAlongside<V> {
        CommitAlongside { value in
            [
                AdminIdempotencyStore.record(
                    principal: principal,
                    key: key,
                    requestHash: requestHash,
                    reply: AdminExecutor.encodeStored(reply(value))
                )
            ]
        }
    }
}

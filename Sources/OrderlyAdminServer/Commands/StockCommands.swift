import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// STOCK: receipts, adjustments, counts, transfers and what is where.
extension AdminCommandRegistry {
    mutating func registerStockCommands() {
        call("STOCK RECEIVE") { call in
            let c = call.command
            let row = try await call.stockRow()
            let (quantity, note) = (try c.int(required: "qty"), try c.text(optional: "note"))
            return AdminReplies.stock(
                try await call.inventory.receive(
                    warehouse: row.warehouses[0],
                    sku: row.sku,
                    quantity: quantity,
                    note: note,
                    alongside: call.storing(AdminReplies.stock)
                )
            )
        }
        call("STOCK EXPECT") { call in
            let c = call.command
            let row = try await call.stockRow()
            let text = try c.text(required: "date")
            guard let date = LocalDate(text) else {
                throw AdminError(.badArgument, "date: '\(ArgumentType.clipped(text))' is not YYYY-MM-DD")
            }
            let reply: @Sendable (StockExpectation) -> AdminReply = { e in
                .ok(
                    AdminField("id", e.id),
                    AdminField("reference", e.reference),
                    AdminField("expected", e.expected),
                    AdminField("received", e.received),
                    AdminField("date", e.date.description)
                )
            }
            return reply(
                try await call.inventory.expect(
                    warehouse: row.warehouses[0],
                    sku: row.sku,
                    quantity: try c.int(required: "qty"),
                    date: date,
                    reference: try c.text(optional: "reference") ?? "",
                    alongside: call.storing(reply)
                )
            )
        }
        call("STOCK ADJUST") { call in
            let c = call.command
            guard let reason = StockReason(rawValue: try c.text(required: "reason")) else {
                throw AdminError(.internal, "STOCK ADJUST: the table allows a reason StockReason does not have")
            }
            let (delta, note) = (try c.int(required: "delta"), try c.text(optional: "note"))
            let row = try await call.stockRow()
            return AdminReplies.stock(
                try await call.inventory.adjust(
                    warehouse: row.warehouses[0],
                    sku: row.sku,
                    delta: delta,
                    reason: reason,
                    note: note,
                    alongside: call.storing(AdminReplies.stock)
                )
            )
        }
        call("STOCK COUNT") { call in
            let c = call.command
            let counted = try c.int(required: "counted")
            let reason = try c.text(optional: "reason").map { text in
                guard let reason = StockReason(rawValue: text) else {
                    throw AdminError(.internal, "STOCK COUNT: the table allows a reason StockReason does not have")
                }
                return reason
            }
            let row = try await call.stockRow()
            return AdminReplies.stock(
                try await call.inventory.count(
                    warehouse: row.warehouses[0],
                    sku: row.sku,
                    counted: counted,
                    reason: reason ?? .correction,
                    alongside: call.storing(AdminReplies.stock)
                )
            )
        }
        call("STOCK TRANSFER") { call in
            let quantity = try call.command.int(required: "qty")
            let row = try await call.stockRow(warehouses: ["from", "to"])
            let reply: @Sendable ((from: InventoryRow, to: InventoryRow)) -> AdminReply = {
                .rows([AdminReplies.stockFields($0.from), AdminReplies.stockFields($0.to)])
            }
            return reply(
                try await call.inventory.transfer(
                    sku: row.sku,
                    from: row.warehouses[0],
                    to: row.warehouses[1],
                    quantity: quantity,
                    alongside: call.storing(reply)
                )
            )
        }
        read("STOCK SHOW") { c throws(AdminError) in
            let sku = try AdminReplies.reference(c, required: "sku")
            let warehouse = try AdminReplies.reference(c, optional: "warehouse")
            return AdminReads.stock(sku: sku, warehouse: warehouse).map { .rows($0.map(AdminReplies.stockFields)) }
        }
    }
}

extension AdminCall {
    /// The ids a stock command's warehouse arguments and its SKU name (codes looked up on one
    /// connection, ids taken as they are).
    func stockRow(warehouses names: [String] = ["warehouse"]) async throws -> (warehouses: [Int64], sku: Int64) {
        let w = try names.map { name throws(AdminError) in try AdminReplies.reference(command, required: name) }
        return try await catalog.ids(warehouses: w, sku: try AdminReplies.reference(command, required: "sku"))
    }
}

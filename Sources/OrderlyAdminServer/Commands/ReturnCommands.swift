import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// RETURN: open, receive, inspect, refund, and what each return holds.
extension AdminCommandRegistry {
    mutating func registerReturnCommands() {
        call("RETURN OPEN") { call in
            let c = call.command
            let reasonText = try c.text(required: "reason")
            guard let reason = ReturnReason(rawValue: reasonText) else {
                throw AdminError(.internal, "RETURN OPEN: the table allows a reason '\(reasonText)' it cannot take")
            }
            let units = try AdminReplies.skuCounts(try c.text(required: "lines"), argument: "lines", minimum: 1)
            let warehouse = try AdminReplies.reference(c, optional: "warehouse")
            let warehouseID: Int64? =
                if let warehouse { try await call.catalog.warehouseID(warehouse) } else { nil }
            let reply: @Sendable (ReturnService.Opened) -> AdminReply = { opened in
                .ok(
                    AdminField("id", opened.id),
                    AdminField("rma", opened.rma),
                    AdminField("status", opened.status.rawValue),
                    AdminField("tracking", opened.trackingNumber ?? "none")
                )
            }
            return reply(
                try await call.returns.open(
                    orderID: try c.int(required: "order"),
                    units: units,
                    reason: reason,
                    note: try c.text(optional: "note"),
                    warehouse: warehouseID,
                    keepItem: try c.bool(optional: "keep_item") ?? false,
                    alongside: call.storing(reply)
                )
            )
        }
        call("RETURN RECEIVE") { call in
            let c = call.command
            let id = try c.int(required: "id")
            let warehouse = try AdminReplies.reference(c, required: "warehouse")
            let warehouseID = try await call.catalog.warehouseID(warehouse)
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("status", $0)) }
            return reply(try await call.returns.receive(id, warehouse: warehouseID, alongside: call.storing(reply)))
        }
        call("RETURN INSPECT") { call in
            let c = call.command
            let id = try c.int(required: "id")
            var found: [(sku: String, units: Int64, condition: ReturnCondition, serial: String?)] = []
            for item in try c.text(required: "lines").split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                guard (3...4).contains(parts.count), !parts[0].isEmpty, let units = Int64(String(parts[1])), units > 0,
                    let condition = ReturnCondition(rawValue: String(parts[2])), parts.count == 3 || !parts[3].isEmpty
                else {
                    throw AdminError(
                        .badArgument,
                        "lines: '\(ArgumentType.clipped(String(item)))' is not SKU:QTY:CONDITION[:SERIAL] "
                            + "(sellable, damaged, defective, missing, wrong_item, review)"
                    )
                }
                found.append((String(parts[0]), units, condition, parts.count == 4 ? String(parts[3]) : nil))
            }
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("status", $0)) }
            return reply(try await call.returns.inspect(id, found: found, alongside: call.storing(reply)))
        }
        call("RETURN REFUND") { call in
            let id = try call.command.int(required: "id")
            let reply: @Sendable (Int64) -> AdminReply = {
                .ok(AdminField("id", id), AdminField("status", "refunded"), AdminField("refund_minor", $0))
            }
            return reply(try await call.returns.refund(id, alongside: call.storing(reply)))
        }
        call("RETURN EXCHANGE") { call in
            let c = call.command
            let id = try c.int(required: "id")
            var units: [String: Int64] = [:]
            var prices: [String: Int64] = [:]
            for item in try c.text(required: "lines").split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                let numbers = parts.dropFirst().map { Int64(String($0)) }
                guard (2...3).contains(parts.count), !parts[0].isEmpty, let count = numbers[0], count > 0,
                    parts.count == 2 || (numbers[1] ?? -1) >= 0,
                    units.updateValue(count, forKey: String(parts[0])) == nil
                else {
                    throw AdminError(
                        .badArgument,
                        "lines: '\(ArgumentType.clipped(String(item)))' is not SKU:QTY[:PRICE] (each SKU once)"
                    )
                }
                if parts.count == 3, let price = numbers[1] { prices[String(parts[0])] = price }
            }
            return AdminReplies.outcome(
                try await call.returns.exchange(
                    id,
                    replacement: units,
                    difference: prices,
                    alongside: call.storing(AdminReplies.outcome)
                )
            )
        }
        call("RETURN DECIDE") { call in
            let c = call.command
            let id = try c.int(required: "id")
            var decisions: [(sku: String, units: Int64, disposition: ReturnDisposition)] = []
            for item in try c.text(required: "lines").split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 3, !parts[0].isEmpty, let units = Int64(String(parts[1])), units > 0,
                    let disposition = ReturnDisposition(rawValue: String(parts[2])),
                    disposition == .restock || disposition == .scrap
                else {
                    throw AdminError(
                        .badArgument,
                        "lines: '\(ArgumentType.clipped(String(item)))' is not SKU:QTY:restock|scrap"
                    )
                }
                decisions.append((String(parts[0]), units, disposition))
            }
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("status", $0)) }
            return reply(try await call.returns.decide(id, decisions: decisions, alongside: call.storing(reply)))
        }
        call("RETURN CREDIT") { call in
            let id = try call.command.int(required: "id")
            let reply: @Sendable (Int64) -> AdminReply = {
                .ok(AdminField("id", id), AdminField("status", "credited"), AdminField("credit_minor", $0))
            }
            return reply(try await call.returns.credit(id, alongside: call.storing(reply)))
        }
        read("RETURN LIST") { c throws(AdminError) in
            let (order, status, limit) = (
                try c.int(optional: "order"), try c.text(optional: "status"), Int(try c.int(optional: "limit") ?? 100)
            )
            return AdminReads.returns(order: order, status: status, limit: limit).map(AdminReplies.rows)
        }
        read("RETURN SHOW") { c throws(AdminError) in
            AdminReads.returned(try c.int(required: "id")).map(AdminReplies.rows)
        }
    }
}

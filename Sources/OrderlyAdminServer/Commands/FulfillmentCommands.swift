import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// SHIPMENT and PICKLIST: parcels, carriers' news, and the pickers' lists.
extension AdminCommandRegistry {
    mutating func registerFulfillmentCommands() {
        read("SHIPMENT LIST") { c throws(AdminError) in
            let (order, status, limit) = (
                try c.int(optional: "order"), try c.text(optional: "status"), try c.int(optional: "limit") ?? 100
            )
            return AdminReads.shipments(order: order, status: status, limit: limit).map(AdminReplies.rows)
        }
        read("SHIPMENT SHOW") { c throws(AdminError) in
            let id = try c.int(required: "id")
            return AdminReads.shipment(id).map(AdminReplies.rows)
        }
        call("SHIPMENT DELIVER") { call in
            try await call.reportCarrierEvent(.delivered)
        }
        call("SHIPMENT HANDOVER") { call in
            let id = try call.command.int(required: "id")
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("status", $0)) }
            return reply(try await call.fulfillment.handover(id, alongside: call.storing(reply)))
        }
        call("SHIPMENT EXCEPTION") { call in
            let kind = try call.command.text(required: "kind")
            guard let event = CarrierEvent(rawValue: kind), event != .delivered else {
                throw AdminError(.internal, "SHIPMENT EXCEPTION: the table allows a kind '\(kind)' it cannot report")
            }
            return try await call.reportCarrierEvent(event)
        }
        read("CLAIM LIST") { c throws(AdminError) in
            let (order, status, limit) = (
                try c.int(optional: "order"), try c.text(optional: "status"), Int(try c.int(optional: "limit") ?? 100)
            )
            return AdminReads.claims(order: order, status: status, limit: limit).map(AdminReplies.rows)
        }
        call("CLAIM RESOLVE") { call in
            let c = call.command
            let (id, action, note) = (
                try c.int(required: "id"), try c.text(required: "action"), try c.text(optional: "note")
            )
            guard let resolution = ClaimResolution(rawValue: action), resolution != .delivered else {
                throw AdminError(.internal, "CLAIM RESOLVE: the table allows an action '\(action)' it cannot take")
            }
            let reply: @Sendable (Int64) -> AdminReply = {
                .ok(AdminField("id", $0), AdminField("status", "resolved"), AdminField("resolution", action))
            }
            return reply(
                try await call.fulfillment.resolveClaim(id, resolution, note: note, alongside: call.storing(reply))
            )
        }
        read("PICKLIST LIST") { c throws(AdminError) in
            let (warehouse, status, limit) = (
                try AdminReplies.reference(c, optional: "warehouse"), try c.text(optional: "status"),
                Int(try c.int(optional: "limit") ?? 100)
            )
            return AdminReads.pickLists(warehouse: warehouse, status: status, limit: limit).map(AdminReplies.rows)
        }
        read("PICKLIST SHOW") { c throws(AdminError) in
            let id = try c.int(required: "id")
            return AdminReads.pickList(id).map(AdminReplies.rows)
        }
        read("PUTBACK LIST") { c throws(AdminError) in
            let (warehouse, order, status, limit) = (
                try AdminReplies.reference(c, optional: "warehouse"), try c.int(optional: "order"),
                try c.text(optional: "status"), Int(try c.int(optional: "limit") ?? 100)
            )
            return AdminReads.putBacks(warehouse: warehouse, order: order, status: status, limit: limit)
                .map(AdminReplies.rows)
        }
        call("PUTBACK DONE") { call in
            let reply: @Sendable (Int64) -> AdminReply = { .ok(AdminField("id", $0), AdminField("status", "done")) }
            let id = try call.command.int(required: "id")
            return reply(try await call.fulfillment.putBackDone(id, alongside: call.storing(reply)))
        }
        call("PICKLIST CONFIRM") { call in
            let id = try call.command.int(required: "id")
            let picked = try AdminReplies.skuCounts(try call.command.text(optional: "picked"), argument: "picked")
            var serials: [String: [String]] = [:]
            let text = try call.command.text(optional: "serials") ?? ""
            for item in text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw AdminError(.badArgument, "serials: '\(ArgumentType.clipped(String(item)))' is not SKU:SERIAL")
                }
                serials[String(parts[0]), default: []].append(String(parts[1]))
            }
            let reply: @Sendable ([Int64]) -> AdminReply = { ready in
                .ok(
                    AdminField("id", id),
                    AdminField("status", PickListStatus.completed.rawValue),
                    AdminField("shipments_picked", ready.map(String.init).joined(separator: ","))
                )
            }
            return reply(
                try await call.fulfillment.confirmPickList(
                    id,
                    picked: picked,
                    serials: serials,
                    alongside: call.storing(reply)
                )
            )
        }
    }
}

extension AdminCall {
    /// `SHIPMENT DELIVER` / `SHIPMENT EXCEPTION`: the shipment's status after the event.
    func reportCarrierEvent(_ event: CarrierEvent) async throws -> AdminReply {
        let (id, note) = (try command.int(required: "id"), try command.text(optional: "note"))
        let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("status", $0)) }
        return reply(
            try await fulfillment.report(event, shipmentID: id, note: note, alongside: storing(reply))
        )
    }
}

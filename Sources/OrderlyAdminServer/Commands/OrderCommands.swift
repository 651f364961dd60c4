import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// ORDER: capture, what an order is and waits for, holds, cancels and routing previews.
extension AdminCommandRegistry {
    mutating func registerOrderCommands() {
        call("ORDER CREATE") { call in
            let order = try AdminCall.newOrder(call.command)
            return AdminReplies.outcome(
                try await call.orders.place(order, alongside: call.storing(AdminReplies.outcome))
            )
        }
        read("ORDER SHOW") { c throws(AdminError) in
            // The order, its lines and what it waits for: one round trip.
            return AdminReads.order(try c.int(required: "id")).map {
                AdminReplies.order(
                    $0.order,
                    balance: $0.balance,
                    promises: $0.promises,
                    waits: $0.waits
                )
            }
        }
        read("ORDER LIST") { c throws(AdminError) in
            let (status, channel, atRisk, before, limit) = (
                try c.text(optional: "status"), try c.text(optional: "channel"), try c.bool(optional: "at_risk"),
                try c.int(optional: "before"), try c.int(optional: "limit") ?? 100
            )
            let orders = AdminReads.orders(
                status: status,
                channel: channel,
                atRisk: atRisk,
                before: before,
                limit: limit
            )
            return orders.map(AdminReplies.rows)
        }
        read("ORDER TIMELINE") { c throws(AdminError) in
            return AdminReads.timeline(orderID: try c.int(required: "id")).map { history, facts in
                let waits = OrderWaits.describe(facts)
                // Last, what comes next: what the order is waiting for now.
                let next: [ReportRow] = (waits.isEmpty ? ["nothing"] : waits).map {
                    [("at", .null), ("source", .text("waiting")), ("what", .text($0)), ("detail", .text(""))]
                }
                return AdminReplies.rows(history + next)
            }
        }
        call("ORDER CANCEL") { call in
            let (id, reason) = (try call.command.int(required: "id"), try call.command.text(required: "reason"))
            let lines = try call.command.text(optional: "lines")
            let units = try lines.map { try AdminReplies.skuCounts($0, argument: "lines", minimum: 1) }
            return AdminReplies.outcome(
                try await call.orders.cancel(
                    id,
                    units: units,
                    reason: reason,
                    alongside: call.storing(AdminReplies.outcome)
                )
            )
        }
        call("ORDER EDIT") { call in
            let c = call.command
            let (id, reason) = (try c.int(required: "id"), try c.text(required: "reason"))
            return AdminReplies.outcome(
                try await call.orders.edit(
                    id,
                    try AdminCall.orderEdit(c),
                    reason: reason,
                    alongside: call.storing(AdminReplies.outcome)
                )
            )
        }
        call("ORDER HOLD") { call in
            let (id, note) = (try call.command.int(required: "id"), try call.command.text(required: "note"))
            return AdminReplies.outcome(
                try await call.orders.hold(id, note: note, alongside: call.storing(AdminReplies.outcome))
            )
        }
        call("ORDER RELEASE") { call in
            let (id, note) = (try call.command.int(required: "id"), try call.command.text(required: "note"))
            return AdminReplies.outcome(
                try await call.orders.release(id, note: note, alongside: call.storing(AdminReplies.outcome))
            )
        }
        call("ORDER ROUTE") { call in
            let (id, strategy) = (try call.command.int(required: "id"), try call.command.text(optional: "strategy"))
            let service = call.orders
            let order = try await service.order(id)
            let plans = try await service.preview(order.id, strategies: strategy.map { [$0] })
            return .rows(plans.flatMap { name, plan in AdminReplies.routeRows(name, plan, order: order) })
        }
    }
}

extension AdminCall {
    /// `ORDER EDIT`'s changes: `lines=SKU:QTY[:PRICE],...` (0 removes a line, a price names a new
    /// one), ship-to fields, `service_level=` (`any` for none).
    static func orderEdit(_ c: BoundCommand) throws(AdminError) -> OrderEdit {
        var change = OrderEdit()
        let lines = try c.text(optional: "lines") ?? ""
        for item in lines.isEmpty ? [] : lines.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            let numbers = parts.dropFirst().map { Int64(String($0)) }
            guard (2...3).contains(parts.count), !parts[0].isEmpty, numbers.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                throw AdminError(.badArgument, "lines: '\(ArgumentType.clipped(String(item)))' is not SKU:QTY[:PRICE]")
            }
            change.lines.append(
                OrderEdit.Line(
                    sku: String(parts[0]),
                    quantity: numbers[0]!,
                    unitPriceMinor: parts.count == 3 ? numbers[1] : nil
                )
            )
        }
        let (lat, lon) = (try c.decimal(optional: "lat"), try c.decimal(optional: "lon"))
        guard (lat == nil) == (lon == nil) else { throw AdminError(.badArgument, "lat and lon go together") }
        change.address.name = try c.text(optional: "name")
        change.address.line1 = try c.text(optional: "line1")
        change.address.line2 = try c.text(optional: "line2")
        change.address.city = try c.text(optional: "city")
        change.address.region = try c.text(optional: "region")
        change.address.postalCode = try c.text(optional: "postal")
        change.address.country = try c.text(optional: "country")
        change.address.location = lat.flatMap { lat in lon.map { GeoPoint(latitude: lat, longitude: $0) } }
        change.serviceLevel = try c.text(optional: "service_level").map { $0 == "any" ? .any : .named($0) }
        return change
    }

    /// `ORDER CREATE`'s arguments as a capture.
    static func newOrder(_ c: BoundCommand) throws(AdminError) -> NewOrder {
        let (lat, lon) = (try c.decimal(optional: "lat"), try c.decimal(optional: "lon"))
        guard (lat == nil) == (lon == nil) else { throw AdminError(.badArgument, "lat and lon go together") }
        guard let channel = SalesChannel(rawValue: try c.text(required: "channel")) else {
            throw AdminError(.internal, "ORDER CREATE: the name type allowed a channel SalesChannel refuses")
        }
        let (method, token) = (try c.text(optional: "method"), try c.text(optional: "token"))
        let stated = try statedPayment(c)
        if stated != nil, method != nil || token != nil {
            throw AdminError(.badArgument, "payment= states the payment; method= and token= ask the verifier: not both")
        }
        var order = NewOrder(
            channel: channel,
            externalID: try c.text(required: "external_id"),
            currency: try c.text(required: "currency"),
            lines: try c.lines(required: "lines").map {
                NewOrderLine(skuCode: $0.sku, quantity: $0.quantity, unitPriceMinor: $0.unitPriceMinor)
            },
            shipTo: PostalAddress(
                name: try c.text(required: "name"),
                line1: try c.text(required: "line1"),
                city: try c.text(required: "city"),
                region: try c.text(optional: "region"),
                postalCode: try c.text(optional: "postal"),
                country: try c.text(required: "country"),
                location: lat.flatMap { lat in lon.map { GeoPoint(latitude: lat, longitude: $0) } }
            ),
            billingCountry: try c.text(optional: "billing_country"),
            email: try c.text(optional: "email"),
            shippingMinor: try c.int(optional: "shipping") ?? 0,
            taxMinor: try c.int(optional: "tax") ?? 0,
            discountMinor: try c.int(optional: "discount") ?? 0,
            payment: method.map { PaymentDetails(method: $0, token: token) }
                ?? token.map { PaymentDetails(method: "card", token: $0) },
            riskScore: try c.int(optional: "risk").map { Int($0) },
            reviewRequested: try c.bool(optional: "review") ?? false,
            serviceLevel: try c.text(optional: "service_level"),
            priority: try c.text(optional: "priority").flatMap(OrderPriority.init(rawValue:))
        )
        order.statedPayment = stated
        return order
    }

    /// `payment=authorized|captured|pending|failed|none amount= provider= reference=`: what the
    /// storefront already did. `none` (or no payment=) states nothing.
    static func statedPayment(_ c: BoundCommand) throws(AdminError) -> StatedPayment? {
        let (amount, provider, reference) = (
            try c.int(optional: "amount"), try c.text(optional: "provider"), try c.text(optional: "reference")
        )
        guard let stated = try c.text(optional: "payment"), stated != "none" else {
            if amount != nil || provider != nil || reference != nil {
                throw AdminError(.badArgument, "amount=, provider= and reference= describe a payment=")
            }
            return nil
        }
        guard let status = PaymentStatus(rawValue: stated) else {
            throw AdminError(.internal, "ORDER CREATE: the table allows a payment state PaymentStatus does not have")
        }
        return StatedPayment(
            status: status,
            amountMinor: amount,
            currency: nil,
            provider: provider ?? "storefront",
            reference: reference
        )
    }
}

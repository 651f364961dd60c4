import Foundation
import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// How the admin server writes what the services return, and reads the arguments shared by several
/// commands.
enum AdminReplies {
    /// A reference argument (`warehouse=BER-1` or `warehouse=3`) as the catalogue resolves it.
    static func reference(_ c: BoundCommand, required name: String) throws(AdminError) -> CatalogReference {
        try reference(name, try c.value(required: name))
    }

    static func reference(_ c: BoundCommand, optional name: String) throws(AdminError) -> CatalogReference? {
        try c.value(optional: name).map { value throws(AdminError) in try reference(name, value) }
    }

    private static func reference(_ name: String, _ value: ArgumentValue) throws(AdminError) -> CatalogReference {
        switch value {
        case .int(let id): return .id(id)
        case .text(let code): return .code(code)
        default: throw AdminError(.internal, "'\(name)' is bound as neither an id nor a code")
        }
    }

    /// `picked=SKU:QTY[,...]`: each SKU once, quantities whole and not negative.
    /// `SKU:QTY[,...]` (PICKLIST CONFIRM's `picked=`, ORDER CANCEL's `lines=`): units per SKU, each
    /// SKU once, each count in `minimum...1000000`.
    static func skuCounts(_ text: String?, argument: String, minimum: Int64 = 0) throws -> [String: Int64] {
        guard let text, !text.isEmpty else { return [:] }
        var counts: [String: Int64] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].allSatisfy(\.isASCII), let units = Int64(parts[1]),
                units >= minimum, units <= 1_000_000
            else {
                throw AdminError(
                    .badArgument,
                    "\(argument): '\(ArgumentType.clipped(String(item)))' is not SKU:QTY (\(minimum)...1000000)"
                )
            }
            guard counts.updateValue(units, forKey: String(parts[0])) == nil else {
                throw AdminError(
                    .badArgument,
                    "\(argument): SKU '\(ArgumentType.clipped(String(parts[0])))' appears twice"
                )
            }
        }
        return counts
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
    static func check(_ report: InvariantChecker.Report) -> AdminReply {
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

    static func order(
        _ order: OrderRecord,
        balance: PaymentBalance?,
        promises: [PromiseRecord],
        waits: OrderWaitFacts?
    ) -> AdminReply {
        let waitingFor = waits.map(OrderWaits.describe) ?? []
        var expected: [String: String] = [:]
        for line in waits?.backordered ?? [] { expected[line.sku] = line.expected?.description }
        var head = [
            AdminField("id", order.id), AdminField("channel", order.channel.rawValue),
            AdminField("external_id", order.externalID), AdminField("status", order.status.rawValue),
            AdminField("hold_reason", order.holdReason?.rawValue), AdminField("payment", order.paymentStatus.rawValue),
            AdminField("currency", order.currency.code), AdminField("total", order.totalMinor),
            AdminField("ship_to", "\(order.shipTo.name), \(order.shipTo.city), \(order.shipTo.country)"),
            AdminField("service_level", order.serviceLevel), AdminField("priority", order.priority.rawValue),
            AdminField("waiting_for", waitingFor.isEmpty ? "nothing" : waitingFor.joined(separator: "; ")),
        ]
        if let balance { head += balanceFields(balance) }
        head += promiseFields(promises)
        return .rows(
            [head]
                + order.lines.map {
                    [
                        AdminField("line", $0.lineNo), AdminField("sku", $0.skuCode), AdminField("qty", $0.quantity),
                        AdminField("price", $0.unitPriceMinor), AdminField("reserved", $0.reserved),
                        AdminField("backordered", $0.backordered), AdminField("shipped", $0.shipped),
                        AdminField("cancelled", $0.cancelled),
                        // When the backordered units are expected (STOCK EXPECT), if anything reaches them.
                        AdminField("expected", $0.backordered > 0 ? expected[$0.skuCode] : nil),
                    ]
                }
        )
    }

    /// An order's promise: the latest ship-by of its parcels (UTC), the latest deliver-by (empty when
    /// a parcel has no rate to promise by), and whether any parcel is at risk.
    static func promiseFields(_ promises: [PromiseRecord]) -> [AdminField] {
        let deliverBy =
            promises.allSatisfy { $0.promise.deliverBy != nil } ? promises.compactMap(\.promise.deliverBy).max() : nil
        return [
            AdminField("ship_by", promises.map(\.promise.shipBy).max().map(LocalDate.utcText)),
            AdminField("deliver_by", deliverBy?.description),
            AdminField("at_risk", promises.contains { $0.atRiskAt != nil }),
        ]
    }

    /// An order's money: what was authorized, captured, refunded and voided, and what is outstanding.
    static func balanceFields(_ balance: PaymentBalance) -> [AdminField] {
        [
            AdminField("authorized", balance.authorized), AdminField("captured", balance.captured),
            AdminField("refunded", balance.refunded), AdminField("voided", balance.voided),
            AdminField("refunding", balance.refunding), AdminField("capturable", balance.capturable),
            AdminField("outstanding", balance.outstanding), AdminField("due", balance.due),
        ]
    }

    static func stockFields(_ row: InventoryRow) -> [AdminField] {
        [
            AdminField("warehouse", row.warehouseID), AdminField("sku", row.skuID), AdminField("on_hand", row.onHand),
            AdminField("reserved", row.reserved), AdminField("available", row.availableToPromise),
            AdminField("reorder_point", row.reorderPoint), AdminField("safety_stock", row.safetyStock),
        ]
    }

    @Sendable static func stock(_ row: InventoryRow) -> AdminReply { .ok(stockFields(row)) }

    static func rows(_ rows: [ReportRow]) -> AdminReply {
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

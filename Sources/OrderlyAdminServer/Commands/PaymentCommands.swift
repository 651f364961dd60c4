import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// PAYMENT: verdicts from providers, an order's ledger and balance, refunds.
extension AdminCommandRegistry {
    mutating func registerPaymentCommands() {
        call("PAYMENT RECORD") { call in
            let c = call.command
            guard let status = PaymentStatus(rawValue: try c.text(required: "status")) else {
                throw AdminError(.internal, "PAYMENT RECORD: the table allows a status PaymentStatus does not have")
            }
            let verdict = PaymentVerdict(
                status: status,
                provider: try c.text(optional: "provider") ?? "manual",
                reference: try c.text(required: "reference")
            )
            let (orderID, amount, note) = (
                try c.int(required: "order"), try c.int(optional: "amount"), try c.text(optional: "note")
            )
            return AdminReplies.outcome(
                try await call.payments.record(
                    orderID,
                    verdict: verdict,
                    amountMinor: amount,
                    note: note,
                    alongside: call.storing(AdminReplies.outcome)
                )
            )
        }
        read("PAYMENT LIST") { c throws(AdminError) in
            return AdminReads.payments(orderID: try c.int(required: "order")).map { balance, entries in
                let head: [AdminField] =
                    [AdminField("entry", "balance"), AdminField("total", balance.total)]
                    + AdminReplies.balanceFields(balance)
                guard case .rows(let rows) = AdminReplies.rows(entries) else { return .rows([head]) }
                return .rows([head] + rows)
            }
        }
        call("PAYMENT REFUND") { call in
            let c = call.command
            let orderID = try c.int(required: "order")
            let balance = try await call.payments.refund(
                orderID,
                amountMinor: try c.int(required: "amount"),
                key: try c.text(required: "key"),
                reason: try c.text(required: "reason")
            )
            return .ok([AdminField("order", orderID)] + AdminReplies.balanceFields(balance))
        }
    }
}

public import LibPQ
import OrderlyCore

/// The SQL of store credit (sql/migrations/0021): balances per e-mail and currency, and their ledger.
public struct StoreCreditStore: Sendable {
    public let actor: String
    public init(actor: String) { self.actor = actor }

    /// The balance of `email` in `currency` (0 without an account).
    public static func balance(email: String, currency: String) -> PostgresQuery<Int64> {
        .scalar(
            """
            SELECT coalesce((SELECT balance_minor FROM store_credit_accounts
                             WHERE email = lower(\(email)) AND currency = \(currency)), 0)::int8
            """
        )
    }

    /// Credit added (a return credited, a refund of an order paid by credit), with its ledger row.
    public func credit(
        email: String,
        currency: String,
        amountMinor: Int64,
        reason: String,
        orderID: Int64?,
        returnID: Int64?
    ) -> PostgresStatement {
        """
        WITH account AS (
            INSERT INTO store_credit_accounts AS a (email, currency, balance_minor)
            VALUES (lower(\(same: email)), \(same: currency), \(same: amountMinor))
            ON CONFLICT (email, currency) DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor,
                updated_at = orderly_now()
            RETURNING email
        )
        INSERT INTO store_credit_entries (email, currency, amount_minor, reason, order_id, return_id, actor)
        SELECT email, \(same: currency), \(same: amountMinor), \(reason), \(orderID), \(returnID), \(actor) FROM account
        """
    }

    /// Whether the order was paid with store credit (its capture at checkout names the provider).
    public static func paidWithCredit(orderID: Int64) -> PostgresQuery<Bool> {
        .scalar(
            """
            SELECT EXISTS (SELECT 1 FROM payments WHERE order_id = \(orderID) AND provider = \(StoreCredit.provider)
                           AND kind = 'capture' AND status = 'succeeded')
            """
        )
    }
}

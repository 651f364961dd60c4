-- Store credit: a balance per customer e-mail and currency, never negative (the CHECK holds it under
-- the row's lock, whoever spends concurrently), and the ledger of every credit and debit.
CREATE TABLE store_credit_accounts (
    email           text NOT NULL CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance_minor   bigint NOT NULL DEFAULT 0 CONSTRAINT store_credit_never_negative CHECK (balance_minor >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, currency)
);
CREATE TRIGGER store_credit_accounts_no_delete BEFORE DELETE ON store_credit_accounts
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

CREATE TABLE store_credit_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           text NOT NULL,
    currency        char(3) NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor <> 0),
    -- return: issued for a return; order: spent at capture; refund: an order paid by credit refunded.
    reason          text NOT NULL CHECK (reason IN ('return', 'order', 'refund')),
    order_id        bigint REFERENCES orders (id),
    return_id       bigint REFERENCES returns (id),
    actor           text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (email, currency) REFERENCES store_credit_accounts (email, currency)
);
CREATE INDEX store_credit_entries_account ON store_credit_entries (email, currency, id);
CREATE TRIGGER store_credit_entries_append_only BEFORE UPDATE OR DELETE ON store_credit_entries
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

ALTER TABLE returns DROP CONSTRAINT returns_status;
ALTER TABLE returns ADD CONSTRAINT returns_status CHECK (status IN (
    'open', 'received', 'inspected', 'refunded', 'exchanged', 'credited', 'fraud_review', 'cancelled'));

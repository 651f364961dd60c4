-- Payments through the order's life: the ledger's rows carry what caused them (the parcel a capture
-- was for, the key the provider deduplicates on), the order's balance is one view, and the money
-- invariant (0 <= captured - refunded <= total) is enforced at every insert, under the order's lock.

ALTER TABLE payments
    -- The parcel whose share a capture took.
    ADD COLUMN shipment_id bigint REFERENCES shipments (id),
    -- What makes a row idempotent: its intent's key ('capture:shipment:42', 'void:order:7',
    -- 'refund:order:7:<caller key>') or, for a verdict reported to Orderly, 'record:<provider>:<reference>:<status>'.
    ADD COLUMN idempotency_key text CONSTRAINT payments_idempotency_key CHECK (length(idempotency_key) <= 300),
    ADD COLUMN actor text,
    ADD COLUMN note text;
CREATE UNIQUE INDEX payments_idempotency ON payments (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Some parcels' shares are captured, not yet all of the order.
ALTER TABLE orders DROP CONSTRAINT orders_payment_status;
ALTER TABLE orders ADD CONSTRAINT orders_payment_status CHECK (payment_status IN (
    'pending', 'authorized', 'partially_captured', 'captured', 'failed', 'voided', 'partially_refunded', 'refunded'));

-- Instructions for an external payment system (the recording gateway's outbox), and the alert that
-- a capture failed for good.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'order_confirmed', 'order_shipped', 'order_delayed', 'order_delivered', 'order_backordered',
    'order_cancelled', 'return_received', 'refund_issued', 'low_stock', 'payment_instruction',
    'payment_failed'));

-- What Orderly has asked (or is about to ask) a payment provider, before the answer is in the ledger:
-- the amount is fixed when the intent is written under the order's lock, so concurrent parcels of one
-- order take exact, non-overlapping shares, and every retry asks the provider the same thing with the
-- same key. `open` intents count against the balance (a refund in flight cannot be spent twice); an
-- intent is settled when its payment row is written, or failed when its job gives up.
CREATE TABLE payment_intents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    shipment_id     bigint REFERENCES shipments (id),
    operation       text NOT NULL CONSTRAINT payment_intents_operation CHECK (operation IN ('capture', 'void', 'refund')),
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        char(3) NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    status          text NOT NULL DEFAULT 'open'
                    CONSTRAINT payment_intents_status CHECK (status IN ('open', 'settled', 'failed')),
    reason          text,
    actor           text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz,
    last_error      text,
    CHECK ((status = 'open') = (settled_at IS NULL))
);
CREATE INDEX payment_intents_order ON payment_intents (order_id);
CREATE TRIGGER payment_intents_no_delete BEFORE DELETE ON payment_intents
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- An order's money, from its ledger. A capture stated at checkout was an authorization too; captures
-- at shipment (with their parcel) draw on the authorization. `capturable` is what an authorization
-- still covers; `outstanding` what the order has not collected; `refunding` refunds in flight.
CREATE VIEW order_payment_balances AS
SELECT b.*,
       greatest(b.authorized_minor - b.captured_minor - b.voided_minor, 0)::int8 AS capturable_minor,
       (b.total_minor - b.captured_minor)::int8 AS outstanding_minor
FROM (
    SELECT o.id AS order_id, o.currency, o.total_minor, o.payment_status,
           coalesce(p.authorized, 0)::int8 AS authorized_minor, coalesce(p.captured, 0)::int8 AS captured_minor,
           coalesce(p.refunded, 0)::int8 AS refunded_minor, coalesce(p.voided, 0)::int8 AS voided_minor,
           coalesce(i.refunding, 0)::int8 AS refunding_minor, coalesce(i.capturing, 0)::int8 AS capturing_minor
    FROM orders o
    LEFT JOIN LATERAL (
        -- A capture outside a parcel (at checkout, or reported by the provider) is authorized money too,
        -- but not on top of an authorization it drew on: the larger of the two.
        SELECT greatest(coalesce(sum(amount_minor) FILTER (WHERE kind = 'authorization'), 0),
                        coalesce(sum(amount_minor) FILTER (WHERE kind = 'capture' AND shipment_id IS NULL), 0))
                   AS authorized,
               sum(amount_minor) FILTER (WHERE kind = 'capture') AS captured,
               sum(amount_minor) FILTER (WHERE kind = 'refund') AS refunded,
               sum(amount_minor) FILTER (WHERE kind = 'void') AS voided
        FROM payments WHERE order_id = o.id AND status = 'succeeded'
    ) p ON true
    LEFT JOIN LATERAL (
        SELECT sum(amount_minor) FILTER (WHERE operation = 'refund') AS refunding,
               sum(amount_minor) FILTER (WHERE operation = 'capture') AS capturing
        FROM payment_intents WHERE order_id = o.id AND status = 'open'
    ) i ON true
) b;

-- Invariant 7 at the last line: no capture beyond the total, no refund beyond what was captured, for
-- money moved (payments) and money asked for (open intents) alike. The order's row is locked first,
-- so two inserts for one order cannot both pass on what the other has not committed yet.
CREATE FUNCTION orderly_check_payment_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- The two tables name the operation differently: read it from the row as JSON.
    kind_of text := coalesce(to_jsonb(NEW)->>'kind', to_jsonb(NEW)->>'operation');
    total bigint;
    captured bigint;
    refunded bigint;
    capturing bigint;
    refunding bigint;
BEGIN
    IF kind_of NOT IN ('capture', 'refund') OR (TG_TABLE_NAME = 'payments' AND to_jsonb(NEW)->>'status' <> 'succeeded') THEN
        RETURN NEW;
    END IF;
    SELECT o.total_minor INTO total FROM orders o WHERE o.id = NEW.order_id FOR UPDATE;
    SELECT coalesce(sum(amount_minor) FILTER (WHERE kind = 'capture'), 0),
           coalesce(sum(amount_minor) FILTER (WHERE kind = 'refund'), 0)
      INTO captured, refunded
      FROM payments WHERE order_id = NEW.order_id AND status = 'succeeded';
    SELECT coalesce(sum(amount_minor) FILTER (WHERE operation = 'capture'), 0),
           coalesce(sum(amount_minor) FILTER (WHERE operation = 'refund'), 0)
      INTO capturing, refunding
      FROM payment_intents WHERE order_id = NEW.order_id AND status = 'open';
    IF TG_TABLE_NAME = 'payments' THEN
        -- A settlement's intent is settled first, in the same transaction: it no longer counts as open.
        IF kind_of = 'capture' THEN captured := captured + NEW.amount_minor; ELSE refunded := refunded + NEW.amount_minor; END IF;
    ELSE
        IF kind_of = 'capture' THEN capturing := capturing + NEW.amount_minor; ELSE refunding := refunding + NEW.amount_minor; END IF;
    END IF;
    IF captured + capturing > total THEN
        RAISE EXCEPTION 'orderly: order % would have % captured or being captured, more than its total %',
            NEW.order_id, captured + capturing, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_captured_within_total';
    END IF;
    IF refunded + refunding > captured THEN
        RAISE EXCEPTION 'orderly: order % would have % refunded or being refunded, more than the % captured',
            NEW.order_id, refunded + refunding, captured
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_refunded_within_captured';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER payments_within_balance BEFORE INSERT ON payments
    FOR EACH ROW EXECUTE FUNCTION orderly_check_payment_balance();
CREATE TRIGGER payment_intents_within_balance BEFORE INSERT ON payment_intents
    FOR EACH ROW EXECUTE FUNCTION orderly_check_payment_balance();

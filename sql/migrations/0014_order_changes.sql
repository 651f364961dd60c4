-- Orders that change: units cancelled one by one, the money they release, and the put-back tasks for
-- units a picker already took.

-- The part of the order's total that cancelled units release (their goods' share of the total, as
-- ParcelShare carries shipping, tax and discount in proportion to the goods): what captures may take
-- is total_minor - cancelled_minor. Written by the cancellation, computed in one place (Core's
-- ParcelShare.cancelledShare).
ALTER TABLE orders ADD COLUMN cancelled_minor bigint NOT NULL DEFAULT 0;
-- Orders cancelled before this migration: a whole cancel releases the total, the rest of a partially
-- shipped order what its shipped goods do not owe (floor(total x shipped goods / subtotal)).
UPDATE orders o SET cancelled_minor = CASE
    WHEN o.status = 'cancelled' THEN o.total_minor
    ELSE o.total_minor - CASE WHEN o.subtotal_minor = 0 THEN 0
                              ELSE floor(o.total_minor::numeric * s.shipped / o.subtotal_minor)::int8 END
    END
FROM (SELECT order_id, sum(unit_price_minor * quantity_shipped)::numeric AS shipped,
             sum(quantity_cancelled) AS cancelled
      FROM order_lines GROUP BY order_id) s
WHERE s.order_id = o.id AND s.cancelled > 0;
ALTER TABLE orders ADD CONSTRAINT orders_cancelled_within_total
    CHECK (cancelled_minor >= 0 AND cancelled_minor <= total_minor);

-- What the order owes once cancelled units are taken off: the balance's outstanding is due - captured
-- (never below 0: money collected beyond it is refunded).
DROP VIEW order_payment_balances;
CREATE VIEW order_payment_balances AS
SELECT b.*,
       greatest(b.authorized_minor - b.captured_minor - b.voided_minor, 0)::int8 AS capturable_minor,
       greatest(b.due_minor - b.captured_minor, 0)::int8 AS outstanding_minor
FROM (
    SELECT o.id AS order_id, o.currency, o.total_minor, o.payment_status,
           coalesce(p.authorized, 0)::int8 AS authorized_minor, coalesce(p.captured, 0)::int8 AS captured_minor,
           coalesce(p.refunded, 0)::int8 AS refunded_minor, coalesce(p.voided, 0)::int8 AS voided_minor,
           coalesce(i.refunding, 0)::int8 AS refunding_minor, coalesce(i.capturing, 0)::int8 AS capturing_minor,
           (o.total_minor - o.cancelled_minor)::int8 AS due_minor
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

-- A shipment line (and its pick list line) whose units were all cancelled stays, with 0 units: the
-- history of what was planned is kept, and nothing is deleted.
ALTER TABLE shipment_lines DROP CONSTRAINT shipment_lines_quantity_check;
ALTER TABLE shipment_lines ADD CONSTRAINT shipment_lines_quantity_check CHECK (quantity >= 0);
ALTER TABLE pick_list_lines DROP CONSTRAINT pick_list_lines_quantity_check;
ALTER TABLE pick_list_lines ADD CONSTRAINT pick_list_lines_quantity_check CHECK (quantity >= 0);

-- Units cancelled after a picker may have taken them: someone puts them back in their bin. The stock
-- never left on_hand (it leaves when a parcel ships), so a put-back moves no inventory; it is the
-- warehouse's task list.
CREATE TABLE put_backs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    sku_id          bigint NOT NULL REFERENCES skus (id),
    bin_location    text,
    quantity        integer NOT NULL CHECK (quantity > 0),
    order_id        bigint NOT NULL REFERENCES orders (id),
    shipment_id     bigint NOT NULL REFERENCES shipments (id),
    pick_list_id    bigint REFERENCES pick_lists (id),
    -- picked: the list was confirmed, the units are in a tote; walking: the list was being walked, the
    -- picker may hold them; packed: the parcel was packed and is unpacked.
    source          text NOT NULL CHECK (source IN ('picked', 'walking', 'packed')),
    status          text NOT NULL DEFAULT 'open' CONSTRAINT put_backs_status CHECK (status IN ('open', 'done')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz,
    done_by         text,
    CHECK ((status = 'done') = (done_at IS NOT NULL))
);
CREATE INDEX put_backs_open ON put_backs (warehouse_id, id) WHERE status = 'open';
CREATE INDEX put_backs_order ON put_backs (order_id);
CREATE TRIGGER put_backs_no_delete BEFORE DELETE ON put_backs FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- The customer's message when some units of an order are cancelled (or, later, the order edited).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'order_confirmed', 'order_shipped', 'order_delayed', 'order_delivered', 'order_backordered',
    'order_cancelled', 'return_received', 'refund_issued', 'low_stock', 'payment_instruction',
    'payment_failed', 'promise_at_risk', 'order_updated'));

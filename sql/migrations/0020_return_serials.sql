-- Serial numbers: what left in each parcel (recorded at the pick confirm), and what came back.
-- A serial leaves once until it comes back (the partial unique index), so it is unique per SKU while
-- it is out.
CREATE TABLE shipment_serials (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shipment_line_id bigint NOT NULL REFERENCES shipment_lines (id),
    order_id         bigint NOT NULL REFERENCES orders (id),
    sku_id           bigint NOT NULL REFERENCES skus (id),
    serial           text NOT NULL CHECK (serial ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$'),
    recorded_by      text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    -- Inspected on a return.
    returned_at      timestamptz,
    return_id        bigint REFERENCES returns (id)
);
CREATE UNIQUE INDEX shipment_serials_out ON shipment_serials (sku_id, serial) WHERE returned_at IS NULL;
CREATE INDEX shipment_serials_order ON shipment_serials (order_id);
CREATE TRIGGER shipment_serials_no_delete BEFORE DELETE ON shipment_serials
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- A unit inspected on a return: its serial, and a unit that is not what was returned (wrong item).
ALTER TABLE return_inspections ADD COLUMN serial text;
ALTER TABLE return_inspections DROP CONSTRAINT return_inspections_condition;
ALTER TABLE return_inspections ADD CONSTRAINT return_inspections_condition CHECK (condition IN (
    'sellable', 'damaged', 'defective', 'missing', 'wrong_item'));

-- A return whose serials do not match what left: nothing is restocked or refunded; a person looks.
ALTER TABLE returns DROP CONSTRAINT returns_status;
ALTER TABLE returns ADD CONSTRAINT returns_status CHECK (status IN (
    'open', 'received', 'inspected', 'refunded', 'exchanged', 'fraud_review', 'cancelled'));

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'order_confirmed', 'order_shipped', 'order_delayed', 'order_delivered', 'order_backordered',
    'order_cancelled', 'return_received', 'refund_issued', 'low_stock', 'payment_instruction',
    'payment_failed', 'promise_at_risk', 'order_updated', 'return_opened', 'return_fraud'));

-- Returns (RMA): opened for shipped units within the channel's window, a return label bought, the
-- parcel received at a warehouse, each unit inspected (restocked or scrapped, with its ledger rows),
-- and the money refunded through the refund primitive.

-- RMA numbers: RMA-00000001, ...
CREATE SEQUENCE return_number MINVALUE 1;

ALTER TABLE returns DROP CONSTRAINT returns_status;
ALTER TABLE returns ALTER COLUMN status SET DEFAULT 'open';
ALTER TABLE returns ADD CONSTRAINT returns_status CHECK (status IN (
    'open', 'received', 'inspected', 'refunded', 'cancelled'));
ALTER TABLE returns ADD CONSTRAINT returns_reason CHECK (reason IN (
    'damaged', 'defective', 'wrong_item', 'not_as_described', 'no_longer_needed', 'size_fit', 'other'));
ALTER TABLE returns
    ADD COLUMN note text CHECK (length(note) <= 500),
    -- Where the parcel goes back to, and its label.
    ADD COLUMN warehouse_id bigint REFERENCES warehouses (id),
    ADD COLUMN carrier_id bigint REFERENCES carriers (id),
    ADD COLUMN service text,
    ADD COLUMN tracking_number text UNIQUE,
    ADD COLUMN label_document text,
    ADD COLUMN label_cost_minor bigint CHECK (label_cost_minor >= 0),
    ADD COLUMN opened_by text NOT NULL DEFAULT 'migration',
    ADD COLUMN received_at timestamptz,
    ADD COLUMN inspected_at timestamptz,
    ADD COLUMN refunded_at timestamptz,
    -- The money: goods' share of the total (shipping by policy), less the restocking fee.
    ADD COLUMN refund_minor bigint NOT NULL DEFAULT 0 CHECK (refund_minor >= 0),
    ADD COLUMN restocking_fee_minor bigint NOT NULL DEFAULT 0 CHECK (restocking_fee_minor >= 0);
ALTER TABLE returns ALTER COLUMN opened_by DROP DEFAULT;

-- What a unit was found to be, and what became of it: sellable units are restocked (ledger `return`,
-- on_hand up), damaged and defective ones scrapped (ledger `return` then `scrap`), missing ones never
-- arrived (no ledger row; they are not refunded).
CREATE TABLE return_inspections (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    return_id       bigint NOT NULL REFERENCES returns (id),
    return_line_id  bigint NOT NULL REFERENCES return_lines (id),
    quantity        integer NOT NULL CHECK (quantity > 0),
    condition       text NOT NULL CONSTRAINT return_inspections_condition CHECK (condition IN (
                        'sellable', 'damaged', 'defective', 'missing')),
    disposition     text NOT NULL CONSTRAINT return_inspections_disposition CHECK (disposition IN (
                        'restock', 'scrap', 'none')),
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    inspected_by    text NOT NULL,
    inspected_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX return_inspections_return ON return_inspections (return_id);
CREATE TRIGGER return_inspections_append_only BEFORE UPDATE OR DELETE ON return_inspections
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- A returned unit that comes back into a warehouse.
ALTER TABLE inventory_ledger DROP CONSTRAINT inventory_ledger_reason;
ALTER TABLE inventory_ledger ADD CONSTRAINT inventory_ledger_reason CHECK (reason IN (
    'receive', 'adjust', 'count', 'transfer_out', 'transfer_in', 'reserve', 'release', 'expire', 'ship',
    'restock', 'scrap', 'damaged', 'lost', 'found', 'correction', 'return'));

-- order_lines.quantity_returned counts units on returns that are not cancelled (CHECK: never more
-- than shipped), so the same units cannot be returned twice, whoever asks.

-- The channel's return rules.
ALTER TABLE channel_policies
    ADD COLUMN return_window_days integer NOT NULL DEFAULT 30 CHECK (return_window_days BETWEEN 0 AND 3650),
    ADD COLUMN restocking_fee_percent integer NOT NULL DEFAULT 0 CHECK (restocking_fee_percent BETWEEN 0 AND 100),
    ADD COLUMN refund_shipping boolean NOT NULL DEFAULT false;

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'order_confirmed', 'order_shipped', 'order_delayed', 'order_delivered', 'order_backordered',
    'order_cancelled', 'return_received', 'refund_issued', 'low_stock', 'payment_instruction',
    'payment_failed', 'promise_at_risk', 'order_updated', 'return_opened'));

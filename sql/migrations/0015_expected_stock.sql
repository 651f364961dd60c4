-- Stock on its way: a purchase order's expected arrival per warehouse and SKU. Receipts fill the open
-- expectations of their row first come first served (by expected date), so what is still expected is
-- quantity - received. Backordered lines and their customers are told when the units they wait for
-- are expected; channels that allow it count what is expected as promisable (promise_inbound).
CREATE TABLE stock_expectations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    sku_id          bigint NOT NULL REFERENCES skus (id),
    -- The purchase order (or other source) it comes from; '' when none was named.
    reference       text NOT NULL DEFAULT '' CHECK (length(reference) <= 100),
    quantity        integer NOT NULL CHECK (quantity BETWEEN 0 AND 10000000),
    received        integer NOT NULL DEFAULT 0 CHECK (received >= 0),
    expected_on     date NOT NULL,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_expectations_received_within CHECK (received <= quantity),
    CONSTRAINT stock_expectations_one_per_reference UNIQUE (warehouse_id, sku_id, reference)
);
CREATE INDEX stock_expectations_open ON stock_expectations (sku_id, expected_on, id) WHERE received < quantity;
CREATE TRIGGER stock_expectations_no_delete BEFORE DELETE ON stock_expectations
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- What is still expected, per SKU and day, at active warehouses.
CREATE VIEW inbound_stock AS
SELECT e.sku_id, e.expected_on, sum(e.quantity - e.received)::int8 AS units
FROM stock_expectations e JOIN warehouses w ON w.id = e.warehouse_id
WHERE e.received < e.quantity AND w.active
GROUP BY e.sku_id, e.expected_on;
COMMENT ON VIEW inbound_stock IS 'Units still expected per SKU and day (open stock_expectations of active warehouses).';

-- A channel that rejects short orders may accept them as backorders when what they lack is expected
-- (beyond what orders ahead already wait for).
ALTER TABLE channel_policies ADD COLUMN promise_inbound boolean NOT NULL DEFAULT false;

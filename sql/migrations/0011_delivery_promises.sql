-- Delivery promises. Each warehouse has a shipping calendar: its time zone, the daily cut-off (what
-- is ready by then leaves that day), the weekdays it ships on, its holidays, and the pick/pack lead
-- time an order needs. At reservation each planned parcel gets a promise: it leaves by a cut-off
-- (ship_by) and arrives by a day (deliver_by: the ship day plus the chosen rate's transit days,
-- counted Monday to Friday without the warehouse's holidays). The worker's sweep marks a promise
-- at risk once when its ship-by passes with the parcel not picked, and raises an alert.

ALTER TABLE warehouses
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'
        CONSTRAINT warehouses_time_zone CHECK (time_zone ~ '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$'),
    ADD COLUMN cutoff_time time(0) NOT NULL DEFAULT '15:00',
    ADD COLUMN working_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5}'
        CONSTRAINT warehouses_working_days CHECK (cardinality(working_days) > 0 AND working_days <@ '{1,2,3,4,5,6,7}'),
    ADD COLUMN lead_time_minutes integer NOT NULL DEFAULT 0
        CONSTRAINT warehouses_lead_time CHECK (lead_time_minutes BETWEEN 0 AND 10080);

-- Days a warehouse does not ship (local to its time zone).
CREATE TABLE warehouse_holidays (
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    day             date NOT NULL,
    PRIMARY KEY (warehouse_id, day)
);

-- The promise for the parcel an order ships from a warehouse; a later routing of the order (released
-- from hold, a backorder filled) makes a new promise for that warehouse, replacing this one.
CREATE TABLE delivery_promises (
    order_id        bigint NOT NULL REFERENCES orders (id),
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    decision_id     bigint NOT NULL REFERENCES routing_decisions (id),
    -- When the promise was made: the moment routing read the stock.
    promised_at     timestamptz NOT NULL,
    ship_date       date NOT NULL,
    ship_by         timestamptz NOT NULL,
    deliver_by      date,
    carrier         text,
    service         text,
    -- Set once, by the sweep that found the parcel not picked by ship_by.
    at_risk_at      timestamptz,
    PRIMARY KEY (order_id, warehouse_id),
    CONSTRAINT delivery_promises_order CHECK (ship_by >= promised_at AND (deliver_by IS NULL OR deliver_by >= ship_date))
);
CREATE INDEX delivery_promises_watch ON delivery_promises (ship_by) WHERE at_risk_at IS NULL;
CREATE INDEX delivery_promises_at_risk ON delivery_promises (order_id) WHERE at_risk_at IS NOT NULL;

-- The alert to operations that a promise is at risk.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'order_confirmed', 'order_shipped', 'order_delayed', 'order_delivered', 'order_backordered',
    'order_cancelled', 'return_received', 'refund_issued', 'low_stock', 'payment_instruction',
    'payment_failed', 'promise_at_risk'));

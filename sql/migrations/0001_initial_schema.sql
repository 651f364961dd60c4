-- Orderly's first schema: the whole domain of the design (warehouses to returns, jobs and admins).
--
-- Conventions:
--   * money is bigint minor units next to a char(3) currency; quantities are integers;
--   * statuses are text with named CHECK constraints, so a later migration can widen them;
--   * history is never deleted: the append-only tables refuse UPDATE and DELETE, and the core
--     tables refuse DELETE (invariant 6); cancellations and corrections are new rows;
--   * inventory is locked in (warehouse_id, sku_id) order everywhere.

-- Refuses the statement: used by the append-only and no-delete triggers below.
CREATE FUNCTION orderly_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'orderly: % on % is not allowed (history is append-only)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

-- Warehouses and catalogue ------------------------------------------------------------------------

CREATE TABLE warehouses (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE CONSTRAINT warehouses_code_format CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,31}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    latitude        double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    address_line1   text NOT NULL,
    address_line2   text,
    city            text NOT NULL,
    region          text,
    postal_code     text,
    country         char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    -- Lower ranks first for the `priority` routing strategy.
    priority        integer NOT NULL DEFAULT 100,
    active          boolean NOT NULL DEFAULT true,
    pick_method     text NOT NULL DEFAULT 'single'
                    CONSTRAINT warehouses_pick_method CHECK (pick_method IN ('single', 'batch', 'zone')),
    -- Destination countries this warehouse ships to; empty means anywhere.
    ships_to        text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE skus (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE CONSTRAINT skus_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    weight_grams    integer NOT NULL CHECK (weight_grams > 0),
    length_mm       integer NOT NULL CHECK (length_mm > 0),
    width_mm        integer NOT NULL CHECK (width_mm > 0),
    height_mm       integer NOT NULL CHECK (height_mm > 0),
    serial_tracked  boolean NOT NULL DEFAULT false,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Stock ---------------------------------------------------------------------------------------------

CREATE TABLE inventory (
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    sku_id          bigint NOT NULL REFERENCES skus (id),
    on_hand         bigint NOT NULL DEFAULT 0,
    reserved        bigint NOT NULL DEFAULT 0,
    reorder_point   integer NOT NULL DEFAULT 0 CHECK (reorder_point >= 0),
    safety_stock    integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    bin_location    text,
    zone            text,
    last_counted_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (warehouse_id, sku_id),
    -- The last line of defence against overselling: no bug in Swift can get past it.
    CONSTRAINT inventory_reserved_within_on_hand CHECK (reserved >= 0 AND reserved <= on_hand)
);
CREATE INDEX inventory_sku ON inventory (sku_id);

-- Every change to on_hand or reserved, as deltas; the inventory row equals the sum of its rows here.
CREATE TABLE inventory_ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id    bigint NOT NULL,
    sku_id          bigint NOT NULL,
    on_hand_delta   bigint NOT NULL DEFAULT 0,
    reserved_delta  bigint NOT NULL DEFAULT 0,
    reason          text NOT NULL CONSTRAINT inventory_ledger_reason CHECK (reason IN (
                        'receive', 'adjust', 'count', 'transfer_out', 'transfer_in', 'reserve', 'release',
                        'expire', 'ship', 'restock', 'scrap', 'damaged', 'lost', 'found', 'correction')),
    note            text,
    order_id        bigint,
    shipment_id     bigint,
    return_id       bigint,
    transfer_id     uuid,
    actor           text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (warehouse_id, sku_id) REFERENCES inventory (warehouse_id, sku_id),
    CHECK (on_hand_delta <> 0 OR reserved_delta <> 0)
);
CREATE INDEX inventory_ledger_row ON inventory_ledger (warehouse_id, sku_id);
CREATE INDEX inventory_ledger_order ON inventory_ledger (order_id) WHERE order_id IS NOT NULL;
CREATE TRIGGER inventory_ledger_append_only BEFORE UPDATE OR DELETE ON inventory_ledger
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

CREATE TABLE cycle_counts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id    bigint NOT NULL,
    sku_id          bigint NOT NULL,
    expected        bigint NOT NULL,
    counted         bigint NOT NULL CHECK (counted >= 0),
    variance_reason text CHECK (variance_reason IN ('lost', 'damaged', 'found', 'correction')),
    actor           text NOT NULL,
    counted_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (warehouse_id, sku_id) REFERENCES inventory (warehouse_id, sku_id)
);

-- Customers -----------------------------------------------------------------------------------------

CREATE TABLE customers (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_ref    text UNIQUE,
    email           text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$'),
    name            text NOT NULL,
    phone           text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customer_addresses (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    kind            text NOT NULL DEFAULT 'shipping' CHECK (kind IN ('shipping', 'billing')),
    name            text NOT NULL,
    line1           text NOT NULL,
    line2           text,
    city            text NOT NULL,
    region          text,
    postal_code     text,
    country         char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_addresses_customer ON customer_addresses (customer_id);

-- Orders --------------------------------------------------------------------------------------------

CREATE TABLE orders (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL CONSTRAINT orders_channel CHECK (channel IN ('web', 'pos', 'marketplace', 'phone', 'b2b')),
    external_id     text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 128),
    customer_id     bigint REFERENCES customers (id),
    status          text NOT NULL DEFAULT 'received' CONSTRAINT orders_status CHECK (status IN (
                        'received', 'on_hold', 'backordered', 'partially_reserved', 'reserved', 'picking',
                        'packed', 'partially_shipped', 'shipped', 'delivered', 'cancelled', 'returned',
                        'partially_returned', 'exception')),
    hold_reason     text CONSTRAINT orders_hold_reason CHECK (hold_reason IN (
                        'address_mismatch', 'address_incomplete', 'payment_pending', 'payment_failed',
                        'high_value', 'high_risk', 'manual')),
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal_minor  bigint NOT NULL DEFAULT 0 CHECK (subtotal_minor >= 0),
    shipping_minor  bigint NOT NULL DEFAULT 0 CHECK (shipping_minor >= 0),
    tax_minor       bigint NOT NULL DEFAULT 0 CHECK (tax_minor >= 0),
    discount_minor  bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
    total_minor     bigint NOT NULL DEFAULT 0 CHECK (total_minor >= 0),
    payment_status  text NOT NULL DEFAULT 'pending' CONSTRAINT orders_payment_status CHECK (payment_status IN (
                        'pending', 'authorized', 'captured', 'failed', 'voided', 'partially_refunded', 'refunded')),
    email           text,
    ship_name       text NOT NULL,
    ship_line1      text NOT NULL,
    ship_line2      text,
    ship_city       text NOT NULL,
    ship_region     text,
    ship_postal_code text,
    ship_country    char(2) NOT NULL CHECK (ship_country ~ '^[A-Z]{2}$'),
    ship_latitude   double precision CHECK (ship_latitude BETWEEN -90 AND 90),
    ship_longitude  double precision CHECK (ship_longitude BETWEEN -180 AND 180),
    routing_strategy text,
    placed_at       timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Capturing the same order twice returns the first.
    CONSTRAINT orders_channel_external_id UNIQUE (channel, external_id),
    CONSTRAINT orders_hold_reason_when_held CHECK ((status = 'on_hold') = (hold_reason IS NOT NULL)),
    CONSTRAINT orders_total_adds_up CHECK (total_minor = subtotal_minor + shipping_minor + tax_minor - discount_minor)
);
CREATE INDEX orders_status ON orders (status, id);
CREATE INDEX orders_customer ON orders (customer_id) WHERE customer_id IS NOT NULL;
CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

CREATE TABLE order_lines (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id             bigint NOT NULL REFERENCES orders (id),
    line_no              integer NOT NULL CHECK (line_no > 0),
    sku_id               bigint NOT NULL REFERENCES skus (id),
    quantity             integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    unit_price_minor     bigint NOT NULL CHECK (unit_price_minor >= 0),
    line_total_minor     bigint NOT NULL CHECK (line_total_minor >= 0),
    quantity_reserved    integer NOT NULL DEFAULT 0 CHECK (quantity_reserved >= 0),
    quantity_backordered integer NOT NULL DEFAULT 0 CHECK (quantity_backordered >= 0),
    quantity_shipped     integer NOT NULL DEFAULT 0 CHECK (quantity_shipped >= 0),
    quantity_cancelled   integer NOT NULL DEFAULT 0 CHECK (quantity_cancelled >= 0),
    quantity_returned    integer NOT NULL DEFAULT 0 CHECK (quantity_returned >= 0),
    UNIQUE (order_id, line_no),
    CONSTRAINT order_lines_one_line_per_sku UNIQUE (order_id, sku_id),
    CONSTRAINT order_lines_total CHECK (line_total_minor = unit_price_minor * quantity),
    CHECK (quantity_shipped + quantity_cancelled <= quantity),
    CHECK (quantity_returned <= quantity_shipped)
);
CREATE TRIGGER order_lines_no_delete BEFORE DELETE ON order_lines FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- Every status move of an order, with who and why (invariant 4).
CREATE TABLE order_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    event           text NOT NULL,
    from_status     text,
    to_status       text NOT NULL,
    actor           text NOT NULL,
    reason          text,
    data            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order ON order_events (order_id, id);
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- Reservations and routing -----------------------------------------------------------------------------

CREATE TABLE routing_decisions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    strategy        text NOT NULL,
    -- The rule that decided, e.g. "nearest: closest complete warehouse" or "fallback: split".
    rule            text NOT NULL,
    candidates      jsonb NOT NULL,
    plan            jsonb NOT NULL,
    attempt         integer NOT NULL DEFAULT 1,
    decided_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_decisions_order ON routing_decisions (order_id);

CREATE TABLE reservations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    order_line_id   bigint NOT NULL REFERENCES order_lines (id),
    warehouse_id    bigint NOT NULL,
    sku_id          bigint NOT NULL,
    quantity        integer NOT NULL CHECK (quantity > 0),
    status          text NOT NULL DEFAULT 'active'
                    CONSTRAINT reservations_status CHECK (status IN ('active', 'released', 'consumed', 'expired')),
    decision_id     bigint REFERENCES routing_decisions (id),
    expires_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz,
    FOREIGN KEY (warehouse_id, sku_id) REFERENCES inventory (warehouse_id, sku_id),
    CHECK ((status = 'active') = (closed_at IS NULL))
);
CREATE INDEX reservations_active_row ON reservations (warehouse_id, sku_id) WHERE status = 'active';
CREATE INDEX reservations_order ON reservations (order_id);
CREATE INDEX reservations_expiring ON reservations (expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;
CREATE TRIGGER reservations_no_delete BEFORE DELETE ON reservations FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- Carriers and rates ---------------------------------------------------------------------------------

CREATE TABLE carriers (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9_-]{1,32}$'),
    name            text NOT NULL,
    -- Two letters that start this carrier's tracking numbers.
    tracking_prefix text NOT NULL CHECK (tracking_prefix ~ '^[A-Z]{2}$'),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- A weight bracket [min, max) for a service from an origin (or any) to a destination country/zone.
CREATE TABLE shipping_rates (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    carrier_id          bigint NOT NULL REFERENCES carriers (id),
    service             text NOT NULL CHECK (service ~ '^[a-z0-9_]{1,32}$'),
    origin_warehouse_id bigint REFERENCES warehouses (id),
    destination_country char(2) NOT NULL CHECK (destination_country ~ '^[A-Z]{2}$'),
    destination_zone    text,
    min_weight_grams    integer NOT NULL CHECK (min_weight_grams >= 0),
    max_weight_grams    integer NOT NULL,
    price_minor         bigint NOT NULL CHECK (price_minor >= 0),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    transit_days        integer NOT NULL CHECK (transit_days BETWEEN 0 AND 90),
    active              boolean NOT NULL DEFAULT true,
    CHECK (max_weight_grams > min_weight_grams)
);
CREATE INDEX shipping_rates_lookup ON shipping_rates (destination_country, min_weight_grams) WHERE active;

-- Fulfillment ----------------------------------------------------------------------------------------

CREATE TABLE shipments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    status          text NOT NULL DEFAULT 'planned' CONSTRAINT shipments_status CHECK (status IN (
                        'planned', 'picking', 'picked', 'packed', 'labelled', 'shipped', 'delivered', 'delayed',
                        'lost', 'cancelled')),
    carrier_id      bigint REFERENCES carriers (id),
    service         text,
    tracking_number text UNIQUE,
    label_document  text,
    weight_grams    integer CHECK (weight_grams > 0),
    cost_minor      bigint CHECK (cost_minor >= 0),
    currency        char(3),
    created_at      timestamptz NOT NULL DEFAULT now(),
    packed_at       timestamptz,
    shipped_at      timestamptz,
    delivered_at    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_order ON shipments (order_id);
CREATE INDEX shipments_open ON shipments (warehouse_id, status) WHERE status NOT IN ('delivered', 'cancelled', 'lost');
CREATE TRIGGER shipments_no_delete BEFORE DELETE ON shipments FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

CREATE TABLE shipment_lines (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shipment_id     bigint NOT NULL REFERENCES shipments (id),
    order_line_id   bigint NOT NULL REFERENCES order_lines (id),
    sku_id          bigint NOT NULL REFERENCES skus (id),
    reservation_id  bigint REFERENCES reservations (id),
    quantity        integer NOT NULL CHECK (quantity > 0),
    quantity_picked integer NOT NULL DEFAULT 0 CHECK (quantity_picked >= 0),
    quantity_packed integer NOT NULL DEFAULT 0 CHECK (quantity_packed >= 0),
    CHECK (quantity_picked <= quantity AND quantity_packed <= quantity_picked)
);
CREATE INDEX shipment_lines_shipment ON shipment_lines (shipment_id);

CREATE TABLE pick_lists (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warehouse_id    bigint NOT NULL REFERENCES warehouses (id),
    method          text NOT NULL CHECK (method IN ('single', 'batch', 'zone')),
    zone            text,
    status          text NOT NULL DEFAULT 'open'
                    CONSTRAINT pick_lists_status CHECK (status IN ('open', 'in_progress', 'completed', 'cancelled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);

CREATE TABLE pick_list_lines (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pick_list_id     bigint NOT NULL REFERENCES pick_lists (id),
    shipment_line_id bigint NOT NULL REFERENCES shipment_lines (id),
    sku_id           bigint NOT NULL REFERENCES skus (id),
    bin_location     text,
    -- Position in the picker's walk through the warehouse.
    walk_sequence    integer NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    quantity_picked  integer NOT NULL DEFAULT 0 CHECK (quantity_picked >= 0 AND quantity_picked <= quantity),
    UNIQUE (pick_list_id, shipment_line_id)
);

-- Returns and money ----------------------------------------------------------------------------------

CREATE TABLE returns (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rma_number      text NOT NULL UNIQUE,
    order_id        bigint NOT NULL REFERENCES orders (id),
    status          text NOT NULL DEFAULT 'requested' CONSTRAINT returns_status CHECK (status IN (
                        'requested', 'authorized', 'received', 'inspected', 'completed', 'rejected', 'cancelled')),
    reason          text NOT NULL,
    resolution      text CHECK (resolution IN ('refund', 'exchange', 'store_credit')),
    exchange_order_id bigint REFERENCES orders (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX returns_order ON returns (order_id);
CREATE TRIGGER returns_no_delete BEFORE DELETE ON returns FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

CREATE TABLE return_lines (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    return_id       bigint NOT NULL REFERENCES returns (id),
    order_line_id   bigint NOT NULL REFERENCES order_lines (id),
    sku_id          bigint NOT NULL REFERENCES skus (id),
    quantity        integer NOT NULL CHECK (quantity > 0),
    condition       text CHECK (condition IN ('unopened', 'good', 'damaged', 'defective')),
    disposition     text CHECK (disposition IN ('restock', 'scrap')),
    restock_warehouse_id bigint REFERENCES warehouses (id),
    inspected_at    timestamptz
);

-- Authorizations, captures, refunds and voids, one row each.
CREATE TABLE payments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    return_id       bigint REFERENCES returns (id),
    kind            text NOT NULL CHECK (kind IN ('authorization', 'capture', 'refund', 'void')),
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    amount_minor    bigint NOT NULL CHECK (amount_minor >= 0),
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    provider        text NOT NULL,
    provider_ref    text,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order ON payments (order_id);
CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- Customer notifications, written in the same transaction as their cause and sent by the worker.
CREATE TABLE notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint REFERENCES orders (id),
    kind            text NOT NULL CHECK (kind IN (
                        'order_confirmed', 'order_shipped', 'order_delayed', 'order_delivered', 'order_backordered',
                        'order_cancelled', 'return_received', 'refund_issued', 'low_stock')),
    channel         text NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms', 'webhook', 'log')),
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    -- One notification per cause: e.g. 'order_shipped:shipment:42'.
    dedupe_key      text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX notifications_pending ON notifications (id) WHERE status = 'pending';

-- The job queue ----------------------------------------------------------------------------------------

CREATE TABLE jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue           text NOT NULL DEFAULT 'default' CHECK (queue ~ '^[a-z0-9_]{1,64}$'),
    kind            text NOT NULL CHECK (kind ~ '^[a-z0-9_.]{1,64}$'),
    args            jsonb NOT NULL DEFAULT '{}',
    priority        smallint NOT NULL DEFAULT 100,
    state           text NOT NULL DEFAULT 'available' CONSTRAINT jobs_state CHECK (state IN (
                        'available', 'scheduled', 'running', 'retryable', 'completed', 'discarded', 'cancelled')),
    attempt         integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts    integer NOT NULL DEFAULT 20 CHECK (max_attempts > 0),
    run_at          timestamptz NOT NULL DEFAULT now(),
    unique_key      text,
    attempted_at    timestamptz,
    attempted_by    text,
    lease_expires_at timestamptz,
    completed_at    timestamptz,
    last_error      text,
    errors          jsonb NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'running') = (lease_expires_at IS NOT NULL))
);
-- What a worker claims next: the queue's highest priority (lowest number), earliest due, oldest.
CREATE INDEX jobs_claimable ON jobs (queue, priority, run_at, id) WHERE state IN ('available', 'scheduled', 'retryable');
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running';
-- A unique job exists at most once until it finishes.
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable');

-- Admins -------------------------------------------------------------------------------------------------

CREATE TABLE admin_principals (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    role            text NOT NULL CHECK (role IN ('readonly', 'operator', 'admin')),
    -- A salted, slow hash with its parameters (e.g. PBKDF2-SHA256), never the secret.
    secret_hash     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz
);

-- Analyst views --------------------------------------------------------------------------------------------

-- Available to promise per warehouse and SKU: what is on hand, less what is promised and kept back.
CREATE VIEW inventory_availability AS
SELECT i.warehouse_id, w.code AS warehouse_code, i.sku_id, s.code AS sku_code,
       i.on_hand, i.reserved, i.safety_stock,
       greatest(i.on_hand - i.reserved - i.safety_stock, 0) AS available,
       i.reorder_point,
       (i.on_hand - i.reserved) <= i.reorder_point AS at_or_below_reorder_point
FROM inventory i
JOIN warehouses w ON w.id = i.warehouse_id
JOIN skus s ON s.id = i.sku_id;

-- Analytics: the views analysts query from psql or a BI tool, in a schema of their own, and the
-- read-only role that may read them and nothing else.
--
-- Conventions (docs/analytics.md has every view with a sample query):
--   * days are UTC calendar days (`…_on` columns); times are timestamptz (`…_at`);
--   * durations are hours as double precision; rates and shares are fractions in [0, 1] (`…_rate`);
--   * money is minor units (`…_minor`) and is never summed across currencies: every money column
--     has its `currency` beside it, in the group;
--   * no customer data beyond the ship-to country and the first two characters of its postal code;
--   * materialized views (the per-order, per-parcel and per-day facts that would be slow to compute
--     over a million orders) are refreshed by the worker's `refresh_analytics` sweep, each
--     concurrently (readers never wait), and `analytics.refresh_status` says when and how long;
--     plain views read the live tables (stock, backlog, the job queue) and answer at once.

CREATE SCHEMA analytics;
COMMENT ON SCHEMA analytics IS
    'Orderly''s reporting views (read-only for orderly_analyst). Days are UTC; durations in hours; money in minor units beside its currency.';

-- The first two characters of a postal code, spaces removed: enough to map, too little to find anyone.
CREATE FUNCTION analytics.postal_prefix(code text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN nullif(left(upper(regexp_replace(coalesce(code, ''), '\s', '', 'g')), 2), '');
COMMENT ON FUNCTION analytics.postal_prefix(text) IS 'First two characters of a postal code (spaces removed, upper case).';

-- Hours between two instants (NULL when either is).
CREATE FUNCTION analytics.hours_between(since timestamptz, until timestamptz) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN extract(epoch FROM until - since)::float8 / 3600;
COMMENT ON FUNCTION analytics.hours_between(timestamptz, timestamptz) IS 'Hours from since to until.';

-- Refreshes ------------------------------------------------------------------------------------------

CREATE TABLE analytics.refresh_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    view_name       text NOT NULL,
    started_at      timestamptz NOT NULL,
    duration_ms     double precision NOT NULL,
    row_count       bigint NOT NULL
);
CREATE INDEX refresh_log_view ON analytics.refresh_log (view_name, id);
COMMENT ON TABLE analytics.refresh_log IS 'One row per refresh of a materialized view, by the worker''s refresh_analytics sweep or analytics.refresh().';
COMMENT ON COLUMN analytics.refresh_log.view_name IS 'The materialized view refreshed (schema-qualified).';
COMMENT ON COLUMN analytics.refresh_log.started_at IS 'When the refresh started.';
COMMENT ON COLUMN analytics.refresh_log.duration_ms IS 'How long it took, in milliseconds.';
COMMENT ON COLUMN analytics.refresh_log.row_count IS 'Rows in the view after the refresh.';

-- Per-order facts -------------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW analytics.order_facts AS
WITH stages AS (
    SELECT e.order_id,
           min(e.created_at) FILTER (WHERE e.to_status = 'on_hold') AS held_at,
           min(e.created_at) FILTER (WHERE e.to_status IN ('reserved', 'partially_reserved')) AS reserved_at,
           min(e.created_at) FILTER (WHERE e.to_status IN ('backordered', 'partially_reserved')) AS backordered_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'picking') AS picking_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'packed') AS packed_at,
           min(e.created_at) FILTER (WHERE e.to_status IN ('partially_shipped', 'shipped')) AS first_shipped_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'shipped') AS shipped_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'delivered') AS delivered_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'cancelled') AS cancelled_at,
           min(e.created_at) FILTER (WHERE e.to_status IN ('returned', 'partially_returned')) AS returned_at,
           min(e.created_at) FILTER (WHERE e.to_status = 'exception') AS exception_at
    FROM order_events e
    WHERE e.from_status IS DISTINCT FROM e.to_status
    GROUP BY e.order_id
), lines AS (
    SELECT l.order_id, sum(l.quantity)::int8 AS units_ordered, sum(l.quantity_shipped)::int8 AS units_shipped,
           sum(l.quantity_cancelled)::int8 AS units_cancelled, sum(l.quantity_returned)::int8 AS units_returned,
           count(*)::int4 AS lines
    FROM order_lines l
    GROUP BY l.order_id
), first_routing AS (
    SELECT DISTINCT ON (d.order_id) d.order_id, d.id AS decision_id
    FROM routing_decisions d
    ORDER BY d.order_id, d.attempt, d.id
), first_fill AS (
    SELECT f.order_id, sum(r.quantity)::int8 AS units
    FROM first_routing f JOIN reservations r ON r.decision_id = f.decision_id
    GROUP BY f.order_id
), parcels AS (
    SELECT s.order_id, count(*)::int4 AS parcels, count(DISTINCT s.warehouse_id)::int4 AS warehouses,
           bool_or(s.status = 'damaged') AS damaged_in_transit,
           sum(s.cost_minor)::int8 AS shipping_cost_minor
    FROM shipments s
    WHERE s.status <> 'cancelled'
    GROUP BY s.order_id
), promises AS (
    SELECT p.order_id,
           bool_and(s.shipped_at IS NOT NULL AND s.shipped_at <= p.ship_by) AS shipped_on_time,
           bool_and(s.delivered_at IS NOT NULL AND p.deliver_by IS NOT NULL
                    AND (s.delivered_at AT TIME ZONE 'UTC')::date <= p.deliver_by) AS delivered_on_time
    FROM delivery_promises p
    JOIN shipments s ON s.order_id = p.order_id AND s.warehouse_id = p.warehouse_id AND s.status <> 'cancelled'
    GROUP BY p.order_id
), claimed AS (
    SELECT c.order_id, bool_or(c.kind = 'damaged') AS damaged
    FROM claims c
    GROUP BY c.order_id
), returned AS (
    SELECT r.order_id,
           bool_or(r.reason IN ('defective', 'wrong_item', 'damaged')
                   OR i.condition IN ('defective', 'wrong_item', 'damaged')) AS returned_faulty
    FROM returns r LEFT JOIN return_inspections i ON i.return_id = r.id
    WHERE r.status <> 'cancelled'
    GROUP BY r.order_id
)
SELECT o.id AS order_id,
       o.channel,
       c.kind AS channel_kind,
       (o.placed_at AT TIME ZONE 'UTC')::date AS captured_on,
       o.placed_at AS captured_at,
       o.status,
       o.payment_status,
       o.priority,
       o.service_level,
       o.routing_strategy,
       o.currency,
       o.total_minor,
       o.cancelled_minor,
       o.ship_country,
       analytics.postal_prefix(o.ship_postal_code) AS ship_postal_prefix,
       s.held_at, s.reserved_at, s.backordered_at, s.picking_at, s.packed_at, s.first_shipped_at, s.shipped_at,
       s.delivered_at, s.cancelled_at, s.returned_at, s.exception_at,
       coalesce(l.lines, 0) AS lines,
       coalesce(l.units_ordered, 0) AS units_ordered,
       coalesce(f.units, 0)::int8 AS units_reserved_first,
       coalesce(l.units_shipped, 0) AS units_shipped,
       coalesce(l.units_cancelled, 0) AS units_cancelled,
       coalesce(l.units_returned, 0) AS units_returned,
       coalesce(p.parcels, 0) AS parcels,
       coalesce(p.warehouses, 0) AS warehouses,
       p.shipping_cost_minor,
       pr.shipped_on_time,
       pr.delivered_on_time,
       coalesce(p.damaged_in_transit, false) OR coalesce(cl.damaged, false) AS damaged,
       coalesce(rt.returned_faulty, false) AS returned_faulty
FROM orders o
JOIN channel_policies c ON c.name = o.channel
LEFT JOIN stages s ON s.order_id = o.id
LEFT JOIN lines l ON l.order_id = o.id
LEFT JOIN first_fill f ON f.order_id = o.id
LEFT JOIN parcels p ON p.order_id = o.id
LEFT JOIN promises pr ON pr.order_id = o.id
LEFT JOIN claimed cl ON cl.order_id = o.id
LEFT JOIN returned rt ON rt.order_id = o.id;
CREATE UNIQUE INDEX order_facts_order ON analytics.order_facts (order_id);
CREATE INDEX order_facts_day ON analytics.order_facts (captured_on, channel);

COMMENT ON MATERIALIZED VIEW analytics.order_facts IS
    'One row per order: where it came from, when it first reached each stage, units, parcels and the flags the rates are made of. Materialized.';
COMMENT ON COLUMN analytics.order_facts.order_id IS 'The order (orders.id).';
COMMENT ON COLUMN analytics.order_facts.channel IS 'The sales channel it was captured on.';
COMMENT ON COLUMN analytics.order_facts.channel_kind IS 'The channel''s kind: web, pos, phone, b2b or marketplace.';
COMMENT ON COLUMN analytics.order_facts.captured_on IS 'The UTC day it was captured.';
COMMENT ON COLUMN analytics.order_facts.captured_at IS 'When it was captured (orders.placed_at).';
COMMENT ON COLUMN analytics.order_facts.status IS 'Where it stands now.';
COMMENT ON COLUMN analytics.order_facts.payment_status IS 'Its payment status now.';
COMMENT ON COLUMN analytics.order_facts.priority IS 'Its fulfillment priority.';
COMMENT ON COLUMN analytics.order_facts.service_level IS 'The shipping service level asked for, if any.';
COMMENT ON COLUMN analytics.order_facts.routing_strategy IS 'The routing strategy its channel used.';
COMMENT ON COLUMN analytics.order_facts.currency IS 'ISO 4217 currency of its money columns.';
COMMENT ON COLUMN analytics.order_facts.total_minor IS 'Order total as captured (minor units).';
COMMENT ON COLUMN analytics.order_facts.cancelled_minor IS 'Value of the units cancelled since (minor units).';
COMMENT ON COLUMN analytics.order_facts.ship_country IS 'Ship-to country (ISO 3166-1 alpha-2).';
COMMENT ON COLUMN analytics.order_facts.ship_postal_prefix IS 'First two characters of the ship-to postal code.';
COMMENT ON COLUMN analytics.order_facts.held_at IS 'First put on hold (NULL: never held).';
COMMENT ON COLUMN analytics.order_facts.reserved_at IS 'First reserved, wholly or partly.';
COMMENT ON COLUMN analytics.order_facts.backordered_at IS 'First waited for stock, wholly or partly.';
COMMENT ON COLUMN analytics.order_facts.picking_at IS 'First moved to picking.';
COMMENT ON COLUMN analytics.order_facts.packed_at IS 'Every parcel first packed.';
COMMENT ON COLUMN analytics.order_facts.first_shipped_at IS 'First parcel shipped.';
COMMENT ON COLUMN analytics.order_facts.shipped_at IS 'Everything shipped.';
COMMENT ON COLUMN analytics.order_facts.delivered_at IS 'Everything delivered.';
COMMENT ON COLUMN analytics.order_facts.cancelled_at IS 'Cancelled as a whole.';
COMMENT ON COLUMN analytics.order_facts.returned_at IS 'First unit returned.';
COMMENT ON COLUMN analytics.order_facts.exception_at IS 'First carrier exception.';
COMMENT ON COLUMN analytics.order_facts.lines IS 'Order lines.';
COMMENT ON COLUMN analytics.order_facts.units_ordered IS 'Units ordered (after edits).';
COMMENT ON COLUMN analytics.order_facts.units_reserved_first IS 'Units reserved by the order''s first routing decision (what stock could fill at once).';
COMMENT ON COLUMN analytics.order_facts.units_shipped IS 'Units shipped.';
COMMENT ON COLUMN analytics.order_facts.units_cancelled IS 'Units cancelled.';
COMMENT ON COLUMN analytics.order_facts.units_returned IS 'Units on returns that were not cancelled.';
COMMENT ON COLUMN analytics.order_facts.parcels IS 'Parcels (shipments not cancelled).';
COMMENT ON COLUMN analytics.order_facts.warehouses IS 'Warehouses its parcels left from (more than one: a split shipment).';
COMMENT ON COLUMN analytics.order_facts.shipping_cost_minor IS 'What its parcels'' labels cost (minor units, in the rate''s currency).';
COMMENT ON COLUMN analytics.order_facts.shipped_on_time IS 'Every promised parcel shipped by its ship-by (NULL: no promise).';
COMMENT ON COLUMN analytics.order_facts.delivered_on_time IS 'Every promised parcel delivered by its promised day (NULL: no promise).';
COMMENT ON COLUMN analytics.order_facts.damaged IS 'A parcel was damaged in transit or claimed as damaged.';
COMMENT ON COLUMN analytics.order_facts.returned_faulty IS 'A unit came back as damaged, defective or the wrong item (by reason or inspection).';

-- Per-parcel facts -----------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW analytics.shipment_facts AS
WITH picked AS (
    SELECT sl.shipment_id, max(pl.completed_at) AS picked_at, sum(sl.quantity)::int8 AS units
    FROM shipment_lines sl
    LEFT JOIN pick_list_lines pll ON pll.shipment_line_id = sl.id
    LEFT JOIN pick_lists pl ON pl.id = pll.pick_list_id AND pl.status = 'completed'
    GROUP BY sl.shipment_id
)
SELECT s.id AS shipment_id,
       s.order_id,
       o.channel,
       s.warehouse_id,
       w.code AS warehouse,
       o.routing_strategy,
       c.code AS carrier,
       s.service,
       o.ship_country AS destination_country,
       analytics.postal_prefix(o.ship_postal_code) AS destination_postal_prefix,
       s.status,
       coalesce(k.units, 0) AS units,
       s.weight_grams,
       s.cost_minor,
       s.currency,
       o.placed_at AS captured_at,
       (o.placed_at AT TIME ZONE 'UTC')::date AS captured_on,
       f.reserved_at,
       s.created_at AS allocated_at,
       k.picked_at,
       s.packed_at,
       s.shipped_at,
       (s.shipped_at AT TIME ZONE 'UTC')::date AS shipped_on,
       s.delivered_at,
       p.ship_date AS promised_ship_on,
       p.ship_by,
       p.deliver_by,
       CASE WHEN p.ship_by IS NULL THEN NULL
            WHEN s.shipped_at IS NOT NULL THEN s.shipped_at <= p.ship_by
            WHEN s.status = 'cancelled' THEN NULL
            WHEN now() > p.ship_by THEN false END AS shipped_on_time,
       CASE WHEN p.deliver_by IS NULL THEN NULL
            WHEN s.delivered_at IS NOT NULL THEN (s.delivered_at AT TIME ZONE 'UTC')::date <= p.deliver_by
            WHEN s.status = 'cancelled' THEN NULL
            WHEN (now() AT TIME ZONE 'UTC')::date > p.deliver_by THEN false END AS delivered_on_time
FROM shipments s
JOIN orders o ON o.id = s.order_id
JOIN warehouses w ON w.id = s.warehouse_id
LEFT JOIN carriers c ON c.id = s.carrier_id
LEFT JOIN picked k ON k.shipment_id = s.id
LEFT JOIN delivery_promises p ON p.order_id = s.order_id AND p.warehouse_id = s.warehouse_id
LEFT JOIN LATERAL (
    SELECT min(e.created_at) AS reserved_at FROM order_events e
    WHERE e.order_id = s.order_id AND e.to_status IN ('reserved', 'partially_reserved')
      AND e.from_status IS DISTINCT FROM e.to_status
) f ON true;
CREATE UNIQUE INDEX shipment_facts_shipment ON analytics.shipment_facts (shipment_id);
CREATE INDEX shipment_facts_captured ON analytics.shipment_facts (captured_on, warehouse);
CREATE INDEX shipment_facts_shipped ON analytics.shipment_facts (shipped_on);
CREATE INDEX shipment_facts_promised ON analytics.shipment_facts (promised_ship_on);

COMMENT ON MATERIALIZED VIEW analytics.shipment_facts IS
    'One row per parcel: where it left from, with which carrier, what it cost, when it passed each step and whether it kept its promise. Materialized.';
COMMENT ON COLUMN analytics.shipment_facts.shipment_id IS 'The parcel (shipments.id).';
COMMENT ON COLUMN analytics.shipment_facts.order_id IS 'Its order.';
COMMENT ON COLUMN analytics.shipment_facts.channel IS 'Its order''s channel.';
COMMENT ON COLUMN analytics.shipment_facts.warehouse_id IS 'The warehouse it leaves from (warehouses.id).';
COMMENT ON COLUMN analytics.shipment_facts.warehouse IS 'That warehouse''s code.';
COMMENT ON COLUMN analytics.shipment_facts.routing_strategy IS 'The routing strategy that chose the warehouse.';
COMMENT ON COLUMN analytics.shipment_facts.carrier IS 'Carrier code (NULL until labelled).';
COMMENT ON COLUMN analytics.shipment_facts.service IS 'Carrier service.';
COMMENT ON COLUMN analytics.shipment_facts.destination_country IS 'Ship-to country.';
COMMENT ON COLUMN analytics.shipment_facts.destination_postal_prefix IS 'First two characters of the ship-to postal code.';
COMMENT ON COLUMN analytics.shipment_facts.status IS 'The parcel''s status now.';
COMMENT ON COLUMN analytics.shipment_facts.units IS 'Units in the parcel.';
COMMENT ON COLUMN analytics.shipment_facts.weight_grams IS 'Packed weight.';
COMMENT ON COLUMN analytics.shipment_facts.cost_minor IS 'What its label cost (minor units).';
COMMENT ON COLUMN analytics.shipment_facts.currency IS 'Currency of cost_minor.';
COMMENT ON COLUMN analytics.shipment_facts.captured_at IS 'When its order was captured.';
COMMENT ON COLUMN analytics.shipment_facts.captured_on IS 'The UTC day its order was captured.';
COMMENT ON COLUMN analytics.shipment_facts.reserved_at IS 'When its order was first reserved.';
COMMENT ON COLUMN analytics.shipment_facts.allocated_at IS 'When the parcel was created for picking.';
COMMENT ON COLUMN analytics.shipment_facts.picked_at IS 'When the last pick list holding its lines was completed.';
COMMENT ON COLUMN analytics.shipment_facts.packed_at IS 'When it was packed.';
COMMENT ON COLUMN analytics.shipment_facts.shipped_at IS 'When it left the warehouse.';
COMMENT ON COLUMN analytics.shipment_facts.shipped_on IS 'The UTC day it left.';
COMMENT ON COLUMN analytics.shipment_facts.delivered_at IS 'When the carrier delivered it.';
COMMENT ON COLUMN analytics.shipment_facts.promised_ship_on IS 'The day it was promised to leave (the warehouse''s ship date).';
COMMENT ON COLUMN analytics.shipment_facts.ship_by IS 'The promised ship-by (the warehouse''s cutoff that day).';
COMMENT ON COLUMN analytics.shipment_facts.deliver_by IS 'The promised delivery day.';
COMMENT ON COLUMN analytics.shipment_facts.shipped_on_time IS 'Shipped by ship_by; false once ship_by passed unshipped; NULL when no promise or not yet due.';
COMMENT ON COLUMN analytics.shipment_facts.delivered_on_time IS 'Delivered by deliver_by (UTC day); false once that day passed; NULL when no promise or not yet due.';

-- Per-day stock movements and sales --------------------------------------------------------------------

CREATE MATERIALIZED VIEW analytics.stock_movements_daily AS
SELECT m.day, m.warehouse_id, w.code AS warehouse, m.sku_id, k.code AS sku, m.reason, m.on_hand_delta,
       m.reserved_delta, m.moves
FROM (
    SELECT (l.created_at AT TIME ZONE 'UTC')::date AS day, l.warehouse_id, l.sku_id, l.reason,
           sum(l.on_hand_delta)::int8 AS on_hand_delta, sum(l.reserved_delta)::int8 AS reserved_delta,
           count(*)::int8 AS moves
    FROM inventory_ledger l
    GROUP BY 1, 2, 3, 4
) m
JOIN warehouses w ON w.id = m.warehouse_id
JOIN skus k ON k.id = m.sku_id;
CREATE UNIQUE INDEX stock_movements_daily_key ON analytics.stock_movements_daily (day, warehouse_id, sku_id, reason);
CREATE INDEX stock_movements_daily_sku ON analytics.stock_movements_daily (sku_id, warehouse_id, day);

COMMENT ON MATERIALIZED VIEW analytics.stock_movements_daily IS
    'The inventory ledger summed per UTC day, warehouse, SKU and reason. Materialized.';
COMMENT ON COLUMN analytics.stock_movements_daily.day IS 'UTC day.';
COMMENT ON COLUMN analytics.stock_movements_daily.warehouse_id IS 'Warehouse (warehouses.id).';
COMMENT ON COLUMN analytics.stock_movements_daily.warehouse IS 'Warehouse code.';
COMMENT ON COLUMN analytics.stock_movements_daily.sku_id IS 'SKU (skus.id).';
COMMENT ON COLUMN analytics.stock_movements_daily.sku IS 'SKU code.';
COMMENT ON COLUMN analytics.stock_movements_daily.reason IS 'Ledger reason: receive, ship, return, restock, scrap, count, adjust, damaged, lost, found, correction, transfer_in, transfer_out, reserve, release, expire.';
COMMENT ON COLUMN analytics.stock_movements_daily.on_hand_delta IS 'Net change of on hand (shipping is negative).';
COMMENT ON COLUMN analytics.stock_movements_daily.reserved_delta IS 'Net change of reserved.';
COMMENT ON COLUMN analytics.stock_movements_daily.moves IS 'Ledger rows.';

CREATE MATERIALIZED VIEW analytics.sales_daily AS
SELECT (o.placed_at AT TIME ZONE 'UTC')::date AS day,
       l.sku_id,
       k.code AS sku,
       o.channel,
       o.currency,
       count(*)::int8 AS orders,
       sum(l.quantity)::int8 AS units_ordered,
       sum(l.quantity_cancelled)::int8 AS units_cancelled,
       sum(l.quantity_shipped)::int8 AS units_shipped,
       sum(l.quantity_returned)::int8 AS units_returned,
       sum(l.unit_price_minor * (l.quantity - l.quantity_cancelled))::int8 AS revenue_minor
FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN skus k ON k.id = l.sku_id
GROUP BY 1, 2, 3, 4, 5;
CREATE UNIQUE INDEX sales_daily_key ON analytics.sales_daily (day, sku_id, channel, currency);
CREATE INDEX sales_daily_sku ON analytics.sales_daily (sku_id, day);

COMMENT ON MATERIALIZED VIEW analytics.sales_daily IS
    'Units and revenue per UTC day of capture, SKU, channel and currency. Materialized.';
COMMENT ON COLUMN analytics.sales_daily.day IS 'UTC day the orders were captured.';
COMMENT ON COLUMN analytics.sales_daily.sku_id IS 'SKU (skus.id).';
COMMENT ON COLUMN analytics.sales_daily.sku IS 'SKU code.';
COMMENT ON COLUMN analytics.sales_daily.channel IS 'Sales channel.';
COMMENT ON COLUMN analytics.sales_daily.currency IS 'Currency of revenue_minor.';
COMMENT ON COLUMN analytics.sales_daily.orders IS 'Orders with a line of this SKU.';
COMMENT ON COLUMN analytics.sales_daily.units_ordered IS 'Units ordered.';
COMMENT ON COLUMN analytics.sales_daily.units_cancelled IS 'Of those, units cancelled since.';
COMMENT ON COLUMN analytics.sales_daily.units_shipped IS 'Of those, units shipped so far.';
COMMENT ON COLUMN analytics.sales_daily.units_returned IS 'Of those, units returned so far.';
COMMENT ON COLUMN analytics.sales_daily.revenue_minor IS 'Unit price times units not cancelled (before order-level discounts, tax and shipping).';

-- The funnel -------------------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW analytics.order_funnel AS
SELECT captured_on AS day, channel,
       count(*)::int8 AS captured,
       count(held_at)::int8 AS held,
       count(reserved_at)::int8 AS reserved,
       count(backordered_at)::int8 AS backordered,
       count(first_shipped_at)::int8 AS shipped,
       count(delivered_at)::int8 AS delivered,
       count(cancelled_at)::int8 AS cancelled,
       count(returned_at)::int8 AS returned,
       count(*) FILTER (WHERE status NOT IN ('delivered', 'cancelled', 'returned', 'partially_returned'))::int8 AS open_now
FROM analytics.order_facts
GROUP BY captured_on, channel;
CREATE UNIQUE INDEX order_funnel_key ON analytics.order_funnel (day, channel);

COMMENT ON MATERIALIZED VIEW analytics.order_funnel IS
    'Orders captured per UTC day and channel, and how many of them ever reached each stage. Materialized.';
COMMENT ON COLUMN analytics.order_funnel.day IS 'UTC day of capture.';
COMMENT ON COLUMN analytics.order_funnel.channel IS 'Sales channel.';
COMMENT ON COLUMN analytics.order_funnel.captured IS 'Orders captured.';
COMMENT ON COLUMN analytics.order_funnel.held IS 'Of those, put on hold at least once.';
COMMENT ON COLUMN analytics.order_funnel.reserved IS 'Reserved (wholly or partly) at least once.';
COMMENT ON COLUMN analytics.order_funnel.backordered IS 'Waited for stock at least once.';
COMMENT ON COLUMN analytics.order_funnel.shipped IS 'Shipped at least one parcel.';
COMMENT ON COLUMN analytics.order_funnel.delivered IS 'Delivered in full.';
COMMENT ON COLUMN analytics.order_funnel.cancelled IS 'Cancelled as a whole.';
COMMENT ON COLUMN analytics.order_funnel.returned IS 'Returned a unit at least.';
COMMENT ON COLUMN analytics.order_funnel.open_now IS 'Not yet delivered, cancelled or returned: still in flight.';

-- Cycle times -------------------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW analytics.fulfillment_cycle_times AS
WITH steps AS (
    SELECT warehouse, captured_on,
           analytics.hours_between(captured_at, reserved_at) AS to_reserve,
           analytics.hours_between(reserved_at, picked_at) AS to_pick,
           analytics.hours_between(picked_at, packed_at) AS to_pack,
           analytics.hours_between(packed_at, shipped_at) AS to_ship,
           analytics.hours_between(shipped_at, delivered_at) AS in_transit,
           analytics.hours_between(captured_at, shipped_at) AS click_to_ship,
           analytics.hours_between(captured_at, delivered_at) AS click_to_door
    FROM analytics.shipment_facts
    WHERE status <> 'cancelled'
), q AS (
    SELECT warehouse, captured_on AS day, count(*)::int8 AS parcels,
           count(click_to_ship)::int8 AS shipped, count(click_to_door)::int8 AS delivered,
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY to_reserve) AS reserve,
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY to_pick) AS pick,
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY to_pack) AS pack,
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY to_ship) AS ship,
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY in_transit) AS transit,
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY click_to_ship) AS c2s,
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY click_to_door) AS c2d
    FROM steps
    GROUP BY warehouse, captured_on
)
SELECT warehouse, day, parcels, shipped, delivered,
       reserve[1] AS reserve_p50_h, reserve[2] AS reserve_p90_h, reserve[3] AS reserve_p99_h,
       pick[1] AS pick_p50_h, pick[2] AS pick_p90_h, pick[3] AS pick_p99_h,
       pack[1] AS pack_p50_h, pack[2] AS pack_p90_h, pack[3] AS pack_p99_h,
       ship[1] AS ship_p50_h, ship[2] AS ship_p90_h, ship[3] AS ship_p99_h,
       transit[1] AS transit_p50_h, transit[2] AS transit_p90_h, transit[3] AS transit_p99_h,
       c2s[1] AS click_to_ship_p50_h, c2s[2] AS click_to_ship_p90_h, c2s[3] AS click_to_ship_p99_h,
       c2d[1] AS click_to_door_p50_h, c2d[2] AS click_to_door_p90_h, c2d[3] AS click_to_door_p99_h
FROM q;
CREATE UNIQUE INDEX fulfillment_cycle_times_key ON analytics.fulfillment_cycle_times (warehouse, day);
CREATE INDEX fulfillment_cycle_times_day ON analytics.fulfillment_cycle_times (day);

COMMENT ON MATERIALIZED VIEW analytics.fulfillment_cycle_times IS
    'Hours each step took, p50/p90/p99 over the parcels of orders captured that UTC day, per warehouse: captured → reserved → picked → packed → shipped → delivered. A step not reached yet is left out of its percentile. Materialized.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.warehouse IS 'Warehouse code.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.day IS 'UTC day the orders were captured.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.parcels IS 'Parcels not cancelled.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.shipped IS 'Of those, shipped.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.delivered IS 'Of those, delivered.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.reserve_p50_h IS 'Captured → first reserved, median hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.reserve_p90_h IS 'Captured → first reserved, 90th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.reserve_p99_h IS 'Captured → first reserved, 99th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.pick_p50_h IS 'Reserved → picked, median hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.pick_p90_h IS 'Reserved → picked, 90th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.pick_p99_h IS 'Reserved → picked, 99th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.pack_p50_h IS 'Picked → packed, median hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.pack_p90_h IS 'Picked → packed, 90th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.pack_p99_h IS 'Picked → packed, 99th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.ship_p50_h IS 'Packed → shipped, median hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.ship_p90_h IS 'Packed → shipped, 90th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.ship_p99_h IS 'Packed → shipped, 99th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.transit_p50_h IS 'Shipped → delivered, median hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.transit_p90_h IS 'Shipped → delivered, 90th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.transit_p99_h IS 'Shipped → delivered, 99th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.click_to_ship_p50_h IS 'Captured → shipped, median hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.click_to_ship_p90_h IS 'Captured → shipped, 90th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.click_to_ship_p99_h IS 'Captured → shipped, 99th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.click_to_door_p50_h IS 'Captured → delivered, median hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.click_to_door_p90_h IS 'Captured → delivered, 90th percentile hours.';
COMMENT ON COLUMN analytics.fulfillment_cycle_times.click_to_door_p99_h IS 'Captured → delivered, 99th percentile hours.';

-- Routing -----------------------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW analytics.routing_facts AS
SELECT d.id AS decision_id,
       d.order_id,
       o.channel,
       d.strategy,
       d.rule,
       d.attempt,
       (d.decided_at AT TIME ZONE 'UTC')::date AS decided_on,
       o.currency,
       coalesce(jsonb_array_length(d.plan -> 'shipments'), 0) AS parcels,
       ARRAY(SELECT w.code FROM jsonb_array_elements(d.plan -> 'shipments') s
             JOIN warehouses w ON w.id = (s ->> 'warehouse_id')::int8 ORDER BY w.code) AS warehouses,
       (SELECT sum((s ->> 'distance_km')::float8) FROM jsonb_array_elements(d.plan -> 'shipments') s) AS distance_km,
       (SELECT min((c ->> 'distance_km')::float8) FROM jsonb_array_elements(d.candidates) c
        WHERE (c ->> 'can_ship_whole')::boolean AND c ->> 'excluded_because' IS NULL) AS nearest_whole_km,
       (SELECT sum((s ->> 'cost_minor')::int8)::int8 FROM jsonb_array_elements(d.plan -> 'shipments') s) AS cost_minor,
       (SELECT min((c ->> 'whole_order_cost_minor')::int8) FROM jsonb_array_elements(d.candidates) c
        WHERE c ->> 'excluded_because' IS NULL) AS cheapest_whole_cost_minor,
       (SELECT coalesce(sum(v::int8), 0) FROM jsonb_each_text(coalesce(d.plan -> 'shortage', '{}')) AS t(k, v))::int8
           AS shortage_units
FROM routing_decisions d JOIN orders o ON o.id = d.order_id;
CREATE UNIQUE INDEX routing_facts_decision ON analytics.routing_facts (decision_id);
CREATE INDEX routing_facts_day ON analytics.routing_facts (decided_on, strategy);

COMMENT ON MATERIALIZED VIEW analytics.routing_facts IS
    'One row per routing decision: the strategy, the warehouses it chose, distance and cost against the nearest and cheapest single warehouse. Materialized.';
COMMENT ON COLUMN analytics.routing_facts.decision_id IS 'The decision (routing_decisions.id).';
COMMENT ON COLUMN analytics.routing_facts.order_id IS 'Its order.';
COMMENT ON COLUMN analytics.routing_facts.channel IS 'Its order''s channel.';
COMMENT ON COLUMN analytics.routing_facts.strategy IS 'The strategy that decided (nearest, cheapest, split, priority or a registered one).';
COMMENT ON COLUMN analytics.routing_facts.rule IS 'The rule inside the strategy that chose.';
COMMENT ON COLUMN analytics.routing_facts.attempt IS '1 for the order''s first routing; later ones are reroutes and backorder retries.';
COMMENT ON COLUMN analytics.routing_facts.decided_on IS 'UTC day decided.';
COMMENT ON COLUMN analytics.routing_facts.currency IS 'Currency of the cost columns.';
COMMENT ON COLUMN analytics.routing_facts.parcels IS 'Parcels planned (more than one: a split).';
COMMENT ON COLUMN analytics.routing_facts.warehouses IS 'Codes of the warehouses chosen.';
COMMENT ON COLUMN analytics.routing_facts.distance_km IS 'Sum of the planned parcels'' distances to the customer.';
COMMENT ON COLUMN analytics.routing_facts.nearest_whole_km IS 'Distance of the nearest warehouse that could ship the whole order (NULL: none could).';
COMMENT ON COLUMN analytics.routing_facts.cost_minor IS 'Shipping cost of the plan (minor units; NULL when no rate was priced).';
COMMENT ON COLUMN analytics.routing_facts.cheapest_whole_cost_minor IS 'Cheapest cost of shipping the whole order from one candidate (NULL: not priced or none could).';
COMMENT ON COLUMN analytics.routing_facts.shortage_units IS 'Units the plan could not place (backordered).';

CREATE VIEW analytics.routing_outcomes AS
SELECT decided_on AS day, channel, strategy, currency,
       count(*)::int8 AS decisions,
       count(*) FILTER (WHERE parcels > 1)::int8 AS split_decisions,
       (count(*) FILTER (WHERE parcels > 1))::float8 / nullif(count(*) FILTER (WHERE parcels > 0), 0) AS split_rate,
       count(*) FILTER (WHERE shortage_units > 0)::int8 AS short_decisions,
       avg(distance_km) AS avg_distance_km,
       avg(distance_km - nearest_whole_km) AS avg_km_over_nearest,
       sum(cost_minor)::int8 AS cost_minor,
       sum(cheapest_whole_cost_minor) FILTER (WHERE cost_minor IS NOT NULL)::int8 AS cheapest_cost_minor,
       sum(cost_minor) FILTER (WHERE cheapest_whole_cost_minor IS NOT NULL)::float8
           / nullif(sum(cheapest_whole_cost_minor) FILTER (WHERE cost_minor IS NOT NULL), 0) - 1 AS cost_over_cheapest
FROM analytics.routing_facts
GROUP BY decided_on, channel, strategy, currency;
COMMENT ON VIEW analytics.routing_outcomes IS 'Routing per UTC day, channel and strategy: how often it split, how far parcels travel, what it cost against the cheapest single warehouse.';
COMMENT ON COLUMN analytics.routing_outcomes.day IS 'UTC day decided.';
COMMENT ON COLUMN analytics.routing_outcomes.channel IS 'Sales channel (each channel names its strategy).';
COMMENT ON COLUMN analytics.routing_outcomes.strategy IS 'Routing strategy.';
COMMENT ON COLUMN analytics.routing_outcomes.currency IS 'Currency of the cost columns.';
COMMENT ON COLUMN analytics.routing_outcomes.decisions IS 'Routing decisions (first routings and retries).';
COMMENT ON COLUMN analytics.routing_outcomes.split_decisions IS 'Decisions that planned more than one parcel.';
COMMENT ON COLUMN analytics.routing_outcomes.split_rate IS 'Split decisions over decisions that planned a parcel.';
COMMENT ON COLUMN analytics.routing_outcomes.short_decisions IS 'Decisions that left units backordered.';
COMMENT ON COLUMN analytics.routing_outcomes.avg_distance_km IS 'Mean planned distance per decision (sum over its parcels).';
COMMENT ON COLUMN analytics.routing_outcomes.avg_km_over_nearest IS 'Mean extra distance over the nearest warehouse that could ship it whole.';
COMMENT ON COLUMN analytics.routing_outcomes.cost_minor IS 'Planned shipping cost (minor units).';
COMMENT ON COLUMN analytics.routing_outcomes.cheapest_cost_minor IS 'What the cheapest single warehouse would have cost for the same decisions.';
COMMENT ON COLUMN analytics.routing_outcomes.cost_over_cheapest IS 'Planned cost over the cheapest, less one (0.05: 5 % dearer), where both are known.';

CREATE VIEW analytics.routing_choices AS
SELECT f.decided_on AS day, f.strategy, w.code AS warehouse,
       count(*)::int8 AS parcels,
       sum((s ->> 'weight_grams')::int8)::int8 AS weight_grams,
       avg((s ->> 'distance_km')::float8) AS avg_distance_km
FROM analytics.routing_facts f
JOIN routing_decisions d ON d.id = f.decision_id
CROSS JOIN LATERAL jsonb_array_elements(d.plan -> 'shipments') s
JOIN warehouses w ON w.id = (s ->> 'warehouse_id')::int8
GROUP BY f.decided_on, f.strategy, w.code;
COMMENT ON VIEW analytics.routing_choices IS 'Which warehouses each strategy chose, per UTC day: parcels planned, their weight and mean distance.';
COMMENT ON COLUMN analytics.routing_choices.day IS 'UTC day decided.';
COMMENT ON COLUMN analytics.routing_choices.strategy IS 'Routing strategy.';
COMMENT ON COLUMN analytics.routing_choices.warehouse IS 'Warehouse code chosen.';
COMMENT ON COLUMN analytics.routing_choices.parcels IS 'Parcels planned from it.';
COMMENT ON COLUMN analytics.routing_choices.weight_grams IS 'Their planned weight.';
COMMENT ON COLUMN analytics.routing_choices.avg_distance_km IS 'Mean distance to the customer.';

-- On time, fill rate, shipping cost, perfect orders -----------------------------------------------------

CREATE VIEW analytics.on_time AS
SELECT promised_ship_on AS day, warehouse, carrier, service,
       count(*)::int8 AS promised,
       count(shipped_on_time)::int8 AS ship_due,
       count(*) FILTER (WHERE shipped_on_time)::int8 AS shipped_on_time,
       (count(*) FILTER (WHERE shipped_on_time))::float8 / nullif(count(shipped_on_time), 0) AS ship_on_time_rate,
       count(delivered_on_time)::int8 AS delivery_due,
       count(*) FILTER (WHERE delivered_on_time)::int8 AS delivered_on_time,
       (count(*) FILTER (WHERE delivered_on_time))::float8 / nullif(count(delivered_on_time), 0) AS delivery_on_time_rate
FROM analytics.shipment_facts
WHERE promised_ship_on IS NOT NULL
GROUP BY promised_ship_on, warehouse, carrier, service;
COMMENT ON VIEW analytics.on_time IS 'Promises kept, per promised ship day, warehouse, carrier and service. A parcel counts once its promise is due (shipped or past its time); the rates are over those.';
COMMENT ON COLUMN analytics.on_time.day IS 'The day parcels were promised to leave.';
COMMENT ON COLUMN analytics.on_time.warehouse IS 'Warehouse code.';
COMMENT ON COLUMN analytics.on_time.carrier IS 'Carrier code (NULL before labelling).';
COMMENT ON COLUMN analytics.on_time.service IS 'Carrier service.';
COMMENT ON COLUMN analytics.on_time.promised IS 'Parcels with a promise.';
COMMENT ON COLUMN analytics.on_time.ship_due IS 'Of those, shipped or past their ship-by.';
COMMENT ON COLUMN analytics.on_time.shipped_on_time IS 'Shipped by their ship-by.';
COMMENT ON COLUMN analytics.on_time.ship_on_time_rate IS 'shipped_on_time / ship_due.';
COMMENT ON COLUMN analytics.on_time.delivery_due IS 'Delivered or past their promised day.';
COMMENT ON COLUMN analytics.on_time.delivered_on_time IS 'Delivered by their promised day.';
COMMENT ON COLUMN analytics.on_time.delivery_on_time_rate IS 'delivered_on_time / delivery_due.';

CREATE VIEW analytics.fill_rate AS
SELECT captured_on AS day, channel,
       count(*) FILTER (WHERE reserved_at IS NOT NULL OR backordered_at IS NOT NULL)::int8 AS routed_orders,
       sum(units_ordered) FILTER (WHERE reserved_at IS NOT NULL OR backordered_at IS NOT NULL)::int8 AS units_ordered,
       sum(units_reserved_first)::int8 AS units_reserved_first,
       sum(units_reserved_first)::float8
           / nullif(sum(units_ordered) FILTER (WHERE reserved_at IS NOT NULL OR backordered_at IS NOT NULL), 0) AS fill_rate,
       count(*) FILTER (WHERE (reserved_at IS NOT NULL OR backordered_at IS NOT NULL)
                        AND units_reserved_first >= units_ordered)::int8 AS filled_whole,
       (count(*) FILTER (WHERE (reserved_at IS NOT NULL OR backordered_at IS NOT NULL)
                         AND units_reserved_first >= units_ordered))::float8
           / nullif(count(*) FILTER (WHERE reserved_at IS NOT NULL OR backordered_at IS NOT NULL), 0) AS order_fill_rate
FROM analytics.order_facts
GROUP BY captured_on, channel;
COMMENT ON VIEW analytics.fill_rate IS 'Of the units ordered, how many stock could reserve at the order''s first routing, per UTC day of capture and channel. Orders never routed (held, rejected, cancelled first) are left out.';
COMMENT ON COLUMN analytics.fill_rate.day IS 'UTC day of capture.';
COMMENT ON COLUMN analytics.fill_rate.channel IS 'Sales channel.';
COMMENT ON COLUMN analytics.fill_rate.routed_orders IS 'Orders routed at least once.';
COMMENT ON COLUMN analytics.fill_rate.units_ordered IS 'Their units ordered.';
COMMENT ON COLUMN analytics.fill_rate.units_reserved_first IS 'Units their first routing reserved.';
COMMENT ON COLUMN analytics.fill_rate.fill_rate IS 'units_reserved_first / units_ordered (the unit fill rate).';
COMMENT ON COLUMN analytics.fill_rate.filled_whole IS 'Orders whose first routing reserved every unit.';
COMMENT ON COLUMN analytics.fill_rate.order_fill_rate IS 'filled_whole / routed_orders (the order fill rate).';

CREATE VIEW analytics.backorder_age AS
SELECT q.order_id, o.channel, k.code AS sku, q.units, q.placed_at,
       analytics.hours_between(q.placed_at, now()) / 24 AS age_days,
       (SELECT min(i.expected_on) FROM inbound_stock i WHERE i.sku_id = q.sku_id) AS next_inbound_on
FROM backorder_queue q
JOIN orders o ON o.id = q.order_id
JOIN skus k ON k.id = q.sku_id;
COMMENT ON VIEW analytics.backorder_age IS 'Units waiting for stock now, per order and SKU, with how long they have waited and when stock is next expected. Live.';
COMMENT ON COLUMN analytics.backorder_age.order_id IS 'The waiting order.';
COMMENT ON COLUMN analytics.backorder_age.channel IS 'Its channel.';
COMMENT ON COLUMN analytics.backorder_age.sku IS 'SKU code it waits for.';
COMMENT ON COLUMN analytics.backorder_age.units IS 'Units it waits for.';
COMMENT ON COLUMN analytics.backorder_age.placed_at IS 'When it was captured (the queue''s order).';
COMMENT ON COLUMN analytics.backorder_age.age_days IS 'Days since capture.';
COMMENT ON COLUMN analytics.backorder_age.next_inbound_on IS 'Earliest day stock of this SKU is expected (NULL: none expected).';

CREATE VIEW analytics.shipping_costs AS
SELECT shipped_on AS day, carrier, service, destination_country, currency,
       count(*)::int8 AS parcels,
       count(DISTINCT order_id)::int8 AS orders,
       sum(cost_minor)::int8 AS cost_minor,
       avg(cost_minor)::float8 AS avg_cost_per_parcel_minor,
       sum(cost_minor)::float8 / nullif(count(DISTINCT order_id), 0) AS cost_per_order_minor,
       sum(weight_grams)::int8 AS weight_grams,
       sum(cost_minor)::float8 / nullif(sum(weight_grams) / 1000.0, 0) AS cost_per_kg_minor
FROM analytics.shipment_facts
WHERE shipped_at IS NOT NULL
GROUP BY shipped_on, carrier, service, destination_country, currency;
COMMENT ON VIEW analytics.shipping_costs IS 'What labels cost per UTC ship day, carrier, service and destination country.';
COMMENT ON COLUMN analytics.shipping_costs.day IS 'UTC day shipped.';
COMMENT ON COLUMN analytics.shipping_costs.carrier IS 'Carrier code.';
COMMENT ON COLUMN analytics.shipping_costs.service IS 'Carrier service.';
COMMENT ON COLUMN analytics.shipping_costs.destination_country IS 'Ship-to country.';
COMMENT ON COLUMN analytics.shipping_costs.currency IS 'Currency of the cost columns.';
COMMENT ON COLUMN analytics.shipping_costs.parcels IS 'Parcels shipped.';
COMMENT ON COLUMN analytics.shipping_costs.orders IS 'Orders they belong to.';
COMMENT ON COLUMN analytics.shipping_costs.cost_minor IS 'Total label cost.';
COMMENT ON COLUMN analytics.shipping_costs.avg_cost_per_parcel_minor IS 'Mean cost per parcel.';
COMMENT ON COLUMN analytics.shipping_costs.cost_per_order_minor IS 'Cost per order (a split order counts its parcels together).';
COMMENT ON COLUMN analytics.shipping_costs.weight_grams IS 'Weight shipped.';
COMMENT ON COLUMN analytics.shipping_costs.cost_per_kg_minor IS 'Cost per kilogram shipped.';

CREATE VIEW analytics.perfect_orders AS
SELECT captured_on AS day, channel,
       count(*)::int8 AS finished,
       count(*) FILTER (WHERE units_cancelled = 0 AND units_shipped = units_ordered AND delivered_on_time IS NOT FALSE
                        AND NOT damaged AND NOT returned_faulty)::int8 AS perfect,
       (count(*) FILTER (WHERE units_cancelled = 0 AND units_shipped = units_ordered AND delivered_on_time IS NOT FALSE
                         AND NOT damaged AND NOT returned_faulty))::float8 / nullif(count(*), 0) AS perfect_rate,
       count(*) FILTER (WHERE units_cancelled > 0 OR units_shipped < units_ordered)::int8 AS incomplete,
       count(*) FILTER (WHERE delivered_on_time IS FALSE)::int8 AS late,
       count(*) FILTER (WHERE damaged)::int8 AS damaged,
       count(*) FILTER (WHERE returned_faulty)::int8 AS returned_faulty
FROM analytics.order_facts
WHERE delivered_at IS NOT NULL
GROUP BY captured_on, channel;
COMMENT ON VIEW analytics.perfect_orders IS 'Perfect order rate per UTC day of capture and channel, over orders delivered in full: complete (nothing cancelled or short), delivered by the promise, undamaged, and no unit returned damaged, defective or wrong.';
COMMENT ON COLUMN analytics.perfect_orders.day IS 'UTC day of capture.';
COMMENT ON COLUMN analytics.perfect_orders.channel IS 'Sales channel.';
COMMENT ON COLUMN analytics.perfect_orders.finished IS 'Orders delivered in full (returned since included).';
COMMENT ON COLUMN analytics.perfect_orders.perfect IS 'Of those, perfect.';
COMMENT ON COLUMN analytics.perfect_orders.perfect_rate IS 'perfect / finished.';
COMMENT ON COLUMN analytics.perfect_orders.incomplete IS 'Some units cancelled or never shipped.';
COMMENT ON COLUMN analytics.perfect_orders.late IS 'Delivered after the promised day.';
COMMENT ON COLUMN analytics.perfect_orders.damaged IS 'Damaged in transit or claimed damaged.';
COMMENT ON COLUMN analytics.perfect_orders.returned_faulty IS 'A unit returned damaged, defective or the wrong item.';

-- Stock ---------------------------------------------------------------------------------------------------

CREATE VIEW analytics.inventory_position AS
WITH velocity AS (
    SELECT warehouse_id, sku_id, -sum(on_hand_delta)::int8 AS shipped_28d
    FROM analytics.stock_movements_daily
    WHERE reason = 'ship' AND day > (now() AT TIME ZONE 'UTC')::date - 28
    GROUP BY warehouse_id, sku_id
), waiting AS (
    SELECT sku_id, sum(units)::int8 AS units FROM backorder_queue GROUP BY sku_id
), inbound AS (
    SELECT warehouse_id, sku_id, sum(quantity - received)::int8 AS units, min(expected_on) AS next_on
    FROM stock_expectations WHERE received < quantity
    GROUP BY warehouse_id, sku_id
)
SELECT k.code AS sku, w.code AS warehouse, i.on_hand, i.reserved, i.safety_stock,
       greatest(0, i.on_hand - i.reserved - i.safety_stock)::int8 AS available,
       coalesce(b.units, 0) AS sku_backordered,
       coalesce(n.units, 0) AS inbound, n.next_on AS next_inbound_on,
       i.reorder_point,
       (i.on_hand - i.reserved) <= i.reorder_point AS at_reorder_point,
       coalesce(v.shipped_28d, 0) AS shipped_28d,
       coalesce(v.shipped_28d, 0)::float8 / 28 AS units_per_day,
       greatest(0, i.on_hand - i.reserved - i.safety_stock)::float8 / nullif(coalesce(v.shipped_28d, 0)::float8 / 28, 0)
           AS days_of_cover,
       i.last_counted_at
FROM inventory i
JOIN skus k ON k.id = i.sku_id
JOIN warehouses w ON w.id = i.warehouse_id
LEFT JOIN velocity v ON v.warehouse_id = i.warehouse_id AND v.sku_id = i.sku_id
LEFT JOIN waiting b ON b.sku_id = i.sku_id
LEFT JOIN inbound n ON n.warehouse_id = i.warehouse_id AND n.sku_id = i.sku_id;
COMMENT ON VIEW analytics.inventory_position IS 'Stock now per SKU and warehouse, what waits for it, what is coming, and how many days the available units last at the last 28 days'' shipping rate. Live, but the velocity is as of the last refresh.';
COMMENT ON COLUMN analytics.inventory_position.sku IS 'SKU code.';
COMMENT ON COLUMN analytics.inventory_position.warehouse IS 'Warehouse code.';
COMMENT ON COLUMN analytics.inventory_position.on_hand IS 'Units on the shelf.';
COMMENT ON COLUMN analytics.inventory_position.reserved IS 'Of those, reserved for orders.';
COMMENT ON COLUMN analytics.inventory_position.safety_stock IS 'Units never promised.';
COMMENT ON COLUMN analytics.inventory_position.available IS 'Available to promise: on hand − reserved − safety stock, at least 0.';
COMMENT ON COLUMN analytics.inventory_position.sku_backordered IS 'Units of this SKU orders wait for, across warehouses (backorders are not yet placed in one).';
COMMENT ON COLUMN analytics.inventory_position.inbound IS 'Units still expected at this warehouse.';
COMMENT ON COLUMN analytics.inventory_position.next_inbound_on IS 'Earliest expected arrival.';
COMMENT ON COLUMN analytics.inventory_position.reorder_point IS 'Reorder when on hand − reserved falls to this.';
COMMENT ON COLUMN analytics.inventory_position.at_reorder_point IS 'On hand − reserved is at or below the reorder point.';
COMMENT ON COLUMN analytics.inventory_position.shipped_28d IS 'Units shipped from here in the last 28 UTC days.';
COMMENT ON COLUMN analytics.inventory_position.units_per_day IS 'shipped_28d / 28.';
COMMENT ON COLUMN analytics.inventory_position.days_of_cover IS 'available / units_per_day (NULL: nothing shipped lately).';
COMMENT ON COLUMN analytics.inventory_position.last_counted_at IS 'Last cycle count.';

CREATE VIEW analytics.inventory_turnover AS
WITH moves AS (
    SELECT sku_id,
           -sum(on_hand_delta) FILTER (WHERE reason = 'ship' AND day > today - 28)::int8 AS shipped_28d,
           -sum(on_hand_delta) FILTER (WHERE reason = 'ship' AND day > today - 90)::int8 AS shipped_90d,
           -sum(on_hand_delta) FILTER (WHERE reason = 'ship' AND day > today - 365)::int8 AS shipped_365d,
           sum(on_hand_delta) FILTER (WHERE day > today - 365)::int8 AS net_365d
    FROM analytics.stock_movements_daily, (SELECT (now() AT TIME ZONE 'UTC')::date AS today) t
    GROUP BY sku_id
), stock AS (
    SELECT sku_id, sum(on_hand)::int8 AS on_hand FROM inventory GROUP BY sku_id
)
SELECT k.code AS sku, k.name,
       s.on_hand,
       s.on_hand - coalesce(m.net_365d, 0) AS on_hand_365d_ago,
       coalesce(m.shipped_28d, 0) AS shipped_28d,
       coalesce(m.shipped_90d, 0) AS shipped_90d,
       coalesce(m.shipped_365d, 0) AS shipped_365d,
       coalesce(m.shipped_28d, 0)::float8 / 28 AS units_per_day_28d,
       coalesce(m.shipped_90d, 0)::float8 / 90 AS units_per_day_90d,
       coalesce(m.shipped_365d, 0)::float8 / nullif((s.on_hand + s.on_hand - coalesce(m.net_365d, 0))::float8 / 2, 0)
           AS turnover_365d,
       s.on_hand::float8 / nullif(coalesce(m.shipped_90d, 0)::float8 / 90, 0) AS days_on_hand
FROM stock s JOIN skus k ON k.id = s.sku_id
LEFT JOIN moves m ON m.sku_id = s.sku_id;
COMMENT ON VIEW analytics.inventory_turnover IS 'Sales velocity and turnover per SKU over all warehouses: units shipped in the last 28, 90 and 365 UTC days, and turnover as units shipped in a year over the mean of on hand now and a year ago (rebuilt from the ledger). Movements as of the last refresh.';
COMMENT ON COLUMN analytics.inventory_turnover.sku IS 'SKU code.';
COMMENT ON COLUMN analytics.inventory_turnover.name IS 'SKU name.';
COMMENT ON COLUMN analytics.inventory_turnover.on_hand IS 'Units on hand now, all warehouses.';
COMMENT ON COLUMN analytics.inventory_turnover.on_hand_365d_ago IS 'Units on hand 365 days ago: now less the ledger''s net since.';
COMMENT ON COLUMN analytics.inventory_turnover.shipped_28d IS 'Units shipped in the last 28 days.';
COMMENT ON COLUMN analytics.inventory_turnover.shipped_90d IS 'Units shipped in the last 90 days.';
COMMENT ON COLUMN analytics.inventory_turnover.shipped_365d IS 'Units shipped in the last 365 days.';
COMMENT ON COLUMN analytics.inventory_turnover.units_per_day_28d IS 'shipped_28d / 28.';
COMMENT ON COLUMN analytics.inventory_turnover.units_per_day_90d IS 'shipped_90d / 90.';
COMMENT ON COLUMN analytics.inventory_turnover.turnover_365d IS 'shipped_365d / ((on_hand + on_hand_365d_ago) / 2): how many times the stock turned in a year.';
COMMENT ON COLUMN analytics.inventory_turnover.days_on_hand IS 'on_hand / units_per_day_90d: days the stock lasts at the last quarter''s rate.';

CREATE VIEW analytics.sales_trend AS
SELECT d.day, d.sku, d.channel, d.currency, d.orders, d.units_ordered, d.units_cancelled, d.revenue_minor,
       avg(d.units_ordered::float8) OVER (PARTITION BY d.sku_id, d.channel, d.currency ORDER BY d.day
                                  RANGE BETWEEN INTERVAL '6 days' PRECEDING AND CURRENT ROW) AS units_7d_avg
FROM analytics.sales_daily d;
COMMENT ON VIEW analytics.sales_trend IS 'Units ordered per UTC day, SKU and channel with a trailing seven-day mean, for purchasing.';
COMMENT ON COLUMN analytics.sales_trend.day IS 'UTC day of capture.';
COMMENT ON COLUMN analytics.sales_trend.sku IS 'SKU code.';
COMMENT ON COLUMN analytics.sales_trend.channel IS 'Sales channel.';
COMMENT ON COLUMN analytics.sales_trend.currency IS 'Currency of revenue_minor.';
COMMENT ON COLUMN analytics.sales_trend.orders IS 'Orders with the SKU.';
COMMENT ON COLUMN analytics.sales_trend.units_ordered IS 'Units ordered.';
COMMENT ON COLUMN analytics.sales_trend.units_cancelled IS 'Of those, cancelled since.';
COMMENT ON COLUMN analytics.sales_trend.revenue_minor IS 'Unit price times units not cancelled.';
COMMENT ON COLUMN analytics.sales_trend.units_7d_avg IS 'Mean units ordered per day with an order over the seven days ending here (days without orders have no row).';

CREATE VIEW analytics.inventory_accuracy AS
SELECT date_trunc('month', c.counted_at AT TIME ZONE 'UTC')::date AS month, w.code AS warehouse,
       count(*)::int8 AS counts,
       count(*) FILTER (WHERE c.counted = c.expected)::int8 AS exact_counts,
       (count(*) FILTER (WHERE c.counted = c.expected))::float8 / count(*) AS accuracy_rate,
       sum(c.expected)::int8 AS expected_units,
       sum(c.counted)::int8 AS counted_units,
       sum(c.counted - c.expected)::int8 AS net_variance_units,
       sum(abs(c.counted - c.expected))::int8 AS abs_variance_units,
       1 - sum(abs(c.counted - c.expected))::float8 / nullif(sum(c.expected), 0) AS unit_accuracy_rate
FROM cycle_counts c JOIN warehouses w ON w.id = c.warehouse_id
GROUP BY 1, 2;
COMMENT ON VIEW analytics.inventory_accuracy IS 'How well the books match the shelves, per UTC month and warehouse, from cycle counts.';
COMMENT ON COLUMN analytics.inventory_accuracy.month IS 'First day of the UTC month counted.';
COMMENT ON COLUMN analytics.inventory_accuracy.warehouse IS 'Warehouse code.';
COMMENT ON COLUMN analytics.inventory_accuracy.counts IS 'Cycle counts.';
COMMENT ON COLUMN analytics.inventory_accuracy.exact_counts IS 'Counts that found what the books said.';
COMMENT ON COLUMN analytics.inventory_accuracy.accuracy_rate IS 'exact_counts / counts (record accuracy).';
COMMENT ON COLUMN analytics.inventory_accuracy.expected_units IS 'Units the books said.';
COMMENT ON COLUMN analytics.inventory_accuracy.counted_units IS 'Units found.';
COMMENT ON COLUMN analytics.inventory_accuracy.net_variance_units IS 'Found less expected (negative: shrinkage).';
COMMENT ON COLUMN analytics.inventory_accuracy.abs_variance_units IS 'Sum of each count''s absolute difference.';
COMMENT ON COLUMN analytics.inventory_accuracy.unit_accuracy_rate IS '1 − abs_variance_units / expected_units.';

CREATE VIEW analytics.count_variances AS
SELECT date_trunc('month', c.counted_at AT TIME ZONE 'UTC')::date AS month, w.code AS warehouse,
       coalesce(c.variance_reason, CASE WHEN c.counted = c.expected THEN 'none' ELSE 'unexplained' END) AS reason,
       count(*)::int8 AS counts,
       sum(c.counted - c.expected)::int8 AS net_variance_units,
       sum(abs(c.counted - c.expected))::int8 AS abs_variance_units
FROM cycle_counts c JOIN warehouses w ON w.id = c.warehouse_id
GROUP BY 1, 2, 3;
COMMENT ON VIEW analytics.count_variances IS 'Cycle-count variance per UTC month, warehouse and reason given (lost, damaged, found, correction; none when exact; unexplained when no reason was given).';
COMMENT ON COLUMN analytics.count_variances.month IS 'First day of the UTC month counted.';
COMMENT ON COLUMN analytics.count_variances.warehouse IS 'Warehouse code.';
COMMENT ON COLUMN analytics.count_variances.reason IS 'Variance reason.';
COMMENT ON COLUMN analytics.count_variances.counts IS 'Counts.';
COMMENT ON COLUMN analytics.count_variances.net_variance_units IS 'Found less expected.';
COMMENT ON COLUMN analytics.count_variances.abs_variance_units IS 'Sum of absolute differences.';

-- Returns -----------------------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW analytics.returns_by_sku AS
WITH shipped AS (
    SELECT l.sku_id, o.channel, sum(l.quantity_shipped)::int8 AS units
    FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE l.quantity_shipped > 0
    GROUP BY l.sku_id, o.channel
), returned AS (
    SELECT rl.sku_id, o.channel, r.reason, sum(rl.quantity)::int8 AS units, count(DISTINCT r.id)::int8 AS returns,
           count(DISTINCT r.id) FILTER (WHERE r.status = 'fraud_review')::int8 AS fraud_review
    FROM return_lines rl JOIN returns r ON r.id = rl.return_id JOIN orders o ON o.id = r.order_id
    WHERE r.status <> 'cancelled'
    GROUP BY rl.sku_id, o.channel, r.reason
), pivot AS (
    SELECT sku_id, channel, sum(units)::int8 AS units, sum(returns)::int8 AS returns,
           sum(fraud_review)::int8 AS fraud_review,
           coalesce(sum(units) FILTER (WHERE reason = 'damaged'), 0)::int8 AS damaged,
           coalesce(sum(units) FILTER (WHERE reason = 'defective'), 0)::int8 AS defective,
           coalesce(sum(units) FILTER (WHERE reason = 'wrong_item'), 0)::int8 AS wrong_item,
           coalesce(sum(units) FILTER (WHERE reason = 'not_as_described'), 0)::int8 AS not_as_described,
           coalesce(sum(units) FILTER (WHERE reason = 'no_longer_needed'), 0)::int8 AS no_longer_needed,
           coalesce(sum(units) FILTER (WHERE reason = 'size_fit'), 0)::int8 AS size_fit,
           coalesce(sum(units) FILTER (WHERE reason = 'other'), 0)::int8 AS other
    FROM returned GROUP BY sku_id, channel
)
SELECT k.code AS sku, s.channel, s.units AS units_shipped,
       coalesce(p.units, 0) AS units_returned,
       coalesce(p.units, 0)::float8 / s.units AS return_rate,
       coalesce(p.returns, 0) AS returns,
       coalesce(p.fraud_review, 0) AS fraud_review,
       coalesce(p.damaged, 0) AS damaged, coalesce(p.defective, 0) AS defective,
       coalesce(p.wrong_item, 0) AS wrong_item, coalesce(p.not_as_described, 0) AS not_as_described,
       coalesce(p.no_longer_needed, 0) AS no_longer_needed, coalesce(p.size_fit, 0) AS size_fit,
       coalesce(p.other, 0) AS other
FROM shipped s JOIN skus k ON k.id = s.sku_id
LEFT JOIN pivot p ON p.sku_id = s.sku_id AND p.channel = s.channel;
CREATE UNIQUE INDEX returns_by_sku_key ON analytics.returns_by_sku (sku, channel);

COMMENT ON MATERIALIZED VIEW analytics.returns_by_sku IS 'Return rate and reasons per SKU and channel: units on returns (not cancelled) over units shipped, with the units per reason. Materialized.';
COMMENT ON COLUMN analytics.returns_by_sku.sku IS 'SKU code.';
COMMENT ON COLUMN analytics.returns_by_sku.channel IS 'Sales channel.';
COMMENT ON COLUMN analytics.returns_by_sku.units_shipped IS 'Units shipped.';
COMMENT ON COLUMN analytics.returns_by_sku.units_returned IS 'Units on returns.';
COMMENT ON COLUMN analytics.returns_by_sku.return_rate IS 'units_returned / units_shipped.';
COMMENT ON COLUMN analytics.returns_by_sku.returns IS 'Returns holding the SKU.';
COMMENT ON COLUMN analytics.returns_by_sku.fraud_review IS 'Of those, flagged for fraud review (a serial that did not match).';
COMMENT ON COLUMN analytics.returns_by_sku.damaged IS 'Units returned as damaged.';
COMMENT ON COLUMN analytics.returns_by_sku.defective IS 'Units returned as defective.';
COMMENT ON COLUMN analytics.returns_by_sku.wrong_item IS 'Units returned as the wrong item.';
COMMENT ON COLUMN analytics.returns_by_sku.not_as_described IS 'Units returned as not as described (fix the listing).';
COMMENT ON COLUMN analytics.returns_by_sku.no_longer_needed IS 'Units returned as no longer needed.';
COMMENT ON COLUMN analytics.returns_by_sku.size_fit IS 'Units returned for size or fit.';
COMMENT ON COLUMN analytics.returns_by_sku.other IS 'Units returned for another reason.';

CREATE VIEW analytics.returns_summary AS
SELECT date_trunc('month', r.created_at AT TIME ZONE 'UTC')::date AS month, o.channel, r.reason, o.currency,
       count(*)::int8 AS returns,
       coalesce(sum(u.units), 0)::int8 AS units,
       count(*) FILTER (WHERE r.received_at IS NOT NULL)::int8 AS received,
       count(*) FILTER (WHERE r.keep_item)::int8 AS kept_items,
       count(*) FILTER (WHERE r.status = 'fraud_review')::int8 AS fraud_review,
       count(*) FILTER (WHERE r.status = 'refunded')::int8 AS refunded,
       count(*) FILTER (WHERE r.status = 'exchanged')::int8 AS exchanged,
       count(*) FILTER (WHERE r.status = 'credited')::int8 AS credited,
       sum(r.refund_minor)::int8 AS refund_minor,
       sum(r.restocking_fee_minor)::int8 AS restocking_fee_minor,
       sum(r.label_cost_minor)::int8 AS label_cost_minor
FROM returns r JOIN orders o ON o.id = r.order_id
LEFT JOIN LATERAL (SELECT sum(quantity) AS units FROM return_lines WHERE return_id = r.id) u ON true
WHERE r.status <> 'cancelled'
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW analytics.returns_summary IS 'Returns opened per UTC month, channel and reason: how they ended and the money (refunds, restocking fees, return labels), per currency.';
COMMENT ON COLUMN analytics.returns_summary.month IS 'First day of the UTC month opened.';
COMMENT ON COLUMN analytics.returns_summary.channel IS 'Sales channel.';
COMMENT ON COLUMN analytics.returns_summary.reason IS 'Return reason.';
COMMENT ON COLUMN analytics.returns_summary.currency IS 'Currency of the money columns.';
COMMENT ON COLUMN analytics.returns_summary.returns IS 'Returns opened (not cancelled).';
COMMENT ON COLUMN analytics.returns_summary.units IS 'Units on them.';
COMMENT ON COLUMN analytics.returns_summary.received IS 'Received back at a warehouse.';
COMMENT ON COLUMN analytics.returns_summary.kept_items IS 'Refunded without coming back (keep_item).';
COMMENT ON COLUMN analytics.returns_summary.fraud_review IS 'Flagged for fraud review.';
COMMENT ON COLUMN analytics.returns_summary.refunded IS 'Resolved by a refund.';
COMMENT ON COLUMN analytics.returns_summary.exchanged IS 'Resolved by an exchange.';
COMMENT ON COLUMN analytics.returns_summary.credited IS 'Resolved by store credit.';
COMMENT ON COLUMN analytics.returns_summary.refund_minor IS 'Refunded or credited.';
COMMENT ON COLUMN analytics.returns_summary.restocking_fee_minor IS 'Restocking fees kept.';
COMMENT ON COLUMN analytics.returns_summary.label_cost_minor IS 'Return labels paid.';

-- Operations now ----------------------------------------------------------------------------------------

CREATE VIEW analytics.pick_backlog AS
SELECT w.code AS warehouse, p.method, p.status,
       date_trunc('hour', p.created_at, 'UTC') AS created_hour,
       count(DISTINCT p.id)::int8 AS pick_lists,
       count(l.id)::int8 AS lines,
       coalesce(sum(l.quantity - l.quantity_picked), 0)::int8 AS units_to_pick,
       min(p.created_at) AS oldest_at,
       analytics.hours_between(min(p.created_at), now()) AS oldest_age_h
FROM pick_lists p
JOIN warehouses w ON w.id = p.warehouse_id
LEFT JOIN pick_list_lines l ON l.pick_list_id = p.id
WHERE p.status IN ('open', 'in_progress')
GROUP BY w.code, p.method, p.status, date_trunc('hour', p.created_at, 'UTC');
COMMENT ON VIEW analytics.pick_backlog IS 'Pick lists not yet done, per warehouse, method, status and the hour they were made: what the floor has to do and how old it is. Live.';
COMMENT ON COLUMN analytics.pick_backlog.warehouse IS 'Warehouse code.';
COMMENT ON COLUMN analytics.pick_backlog.method IS 'Pick method: single, batch or zone.';
COMMENT ON COLUMN analytics.pick_backlog.status IS 'open (not started) or in_progress (walked).';
COMMENT ON COLUMN analytics.pick_backlog.created_hour IS 'The hour the lists were made.';
COMMENT ON COLUMN analytics.pick_backlog.pick_lists IS 'Pick lists.';
COMMENT ON COLUMN analytics.pick_backlog.lines IS 'Their lines.';
COMMENT ON COLUMN analytics.pick_backlog.units_to_pick IS 'Units not yet picked.';
COMMENT ON COLUMN analytics.pick_backlog.oldest_at IS 'When the oldest was made.';
COMMENT ON COLUMN analytics.pick_backlog.oldest_age_h IS 'Its age in hours.';

CREATE VIEW analytics.job_queue_health AS
SELECT j.queue, j.kind,
       count(*) FILTER (WHERE j.state IN ('available', 'retryable') AND j.run_at <= now())::int8 AS due,
       count(*) FILTER (WHERE j.state IN ('available', 'scheduled', 'retryable') AND j.run_at > now())::int8 AS scheduled,
       count(*) FILTER (WHERE j.state = 'running')::int8 AS running,
       count(*) FILTER (WHERE j.state = 'retryable')::int8 AS retrying,
       count(*) FILTER (WHERE j.state = 'completed')::int8 AS completed_kept,
       count(*) FILTER (WHERE j.state = 'completed' AND j.completed_at > now() - INTERVAL '1 hour')::int8 AS completed_1h,
       count(*) FILTER (WHERE j.state = 'discarded')::int8 AS dead,
       count(*) FILTER (WHERE j.state = 'cancelled')::int8 AS cancelled,
       coalesce(sum(jsonb_array_length(j.errors)), 0)::int8 AS failed_attempts,
       min(j.run_at) FILTER (WHERE j.state IN ('available', 'retryable') AND j.run_at <= now()) AS oldest_due_at,
       extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.state IN ('available', 'retryable') AND j.run_at <= now()))::float8
           AS oldest_due_age_s
FROM jobs j
GROUP BY j.queue, j.kind;
COMMENT ON VIEW analytics.job_queue_health IS 'The job queue per queue and kind: what is due and how long the oldest has waited, running, retrying, dead (discarded) and failed attempts. Finished jobs are kept for their retention only. Live.';
COMMENT ON COLUMN analytics.job_queue_health.queue IS 'Queue name.';
COMMENT ON COLUMN analytics.job_queue_health.kind IS 'Job kind.';
COMMENT ON COLUMN analytics.job_queue_health.due IS 'Jobs due now and not running: the depth.';
COMMENT ON COLUMN analytics.job_queue_health.scheduled IS 'Jobs waiting for a later time (scheduled, backing off).';
COMMENT ON COLUMN analytics.job_queue_health.running IS 'Jobs held by a worker.';
COMMENT ON COLUMN analytics.job_queue_health.retrying IS 'Jobs that failed and will be tried again.';
COMMENT ON COLUMN analytics.job_queue_health.completed_kept IS 'Completed jobs still kept.';
COMMENT ON COLUMN analytics.job_queue_health.completed_1h IS 'Completed in the last hour.';
COMMENT ON COLUMN analytics.job_queue_health.dead IS 'Discarded after their last attempt: a person must look.';
COMMENT ON COLUMN analytics.job_queue_health.cancelled IS 'Cancelled jobs still kept.';
COMMENT ON COLUMN analytics.job_queue_health.failed_attempts IS 'Failed attempts recorded on the jobs kept.';
COMMENT ON COLUMN analytics.job_queue_health.oldest_due_at IS 'Due time of the oldest job waiting.';
COMMENT ON COLUMN analytics.job_queue_health.oldest_due_age_s IS 'How long it has waited, in seconds.';

-- Refreshing ---------------------------------------------------------------------------------------------

-- The materialized views in the order they must be refreshed (facts before what is built on them).
CREATE FUNCTION analytics.materialized_views() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    RETURN ARRAY['analytics.order_facts', 'analytics.shipment_facts', 'analytics.routing_facts',
                 'analytics.stock_movements_daily', 'analytics.sales_daily', 'analytics.order_funnel',
                 'analytics.fulfillment_cycle_times', 'analytics.returns_by_sku'];
COMMENT ON FUNCTION analytics.materialized_views() IS 'The materialized views, in refresh order.';

-- Refreshes one materialized view without blocking its readers and logs how long it took.
CREATE FUNCTION analytics.refresh_view(view_name text) RETURNS double precision
    LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    took double precision;
    row_count bigint;
BEGIN
    IF NOT view_name = ANY (analytics.materialized_views()) THEN
        RAISE EXCEPTION '% is not one of analytics'' materialized views', view_name USING ERRCODE = '22023';
    END IF;
    EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', view_name);
    EXECUTE format('SELECT count(*) FROM %s', view_name) INTO row_count;
    took := extract(epoch FROM clock_timestamp() - started) * 1000;
    INSERT INTO analytics.refresh_log (view_name, started_at, duration_ms, row_count)
    VALUES (view_name, started, took, row_count);
    RETURN took;
END
$$;
COMMENT ON FUNCTION analytics.refresh_view(text) IS 'Refreshes one materialized view concurrently and logs it in analytics.refresh_log; returns milliseconds.';

-- Every materialized view in order, in the caller's transaction (the worker refreshes each in its own).
CREATE FUNCTION analytics.refresh() RETURNS SETOF analytics.refresh_log
    LANGUAGE plpgsql AS $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY analytics.materialized_views() LOOP
        PERFORM analytics.refresh_view(name);
        RETURN QUERY SELECT * FROM analytics.refresh_log r WHERE r.view_name = name ORDER BY r.id DESC LIMIT 1;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.refresh() IS 'Refreshes every materialized view in order (SELECT * FROM analytics.refresh()).';

CREATE VIEW analytics.refresh_status AS
SELECT v.view_name, l.started_at AS last_refreshed_at, l.duration_ms, l.row_count,
       extract(epoch FROM now() - l.started_at)::float8 AS age_s
FROM unnest(analytics.materialized_views()) WITH ORDINALITY AS v(view_name, n)
LEFT JOIN LATERAL (
    SELECT * FROM analytics.refresh_log r WHERE r.view_name = v.view_name ORDER BY r.id DESC LIMIT 1
) l ON true
ORDER BY v.n;
COMMENT ON VIEW analytics.refresh_status IS 'Each materialized view''s last refresh: when, how long, how many rows, and how old its data is.';
COMMENT ON COLUMN analytics.refresh_status.view_name IS 'The materialized view.';
COMMENT ON COLUMN analytics.refresh_status.last_refreshed_at IS 'When its last refresh started (NULL: only the migration filled it).';
COMMENT ON COLUMN analytics.refresh_status.duration_ms IS 'How long that refresh took, in milliseconds.';
COMMENT ON COLUMN analytics.refresh_status.row_count IS 'Rows after it.';
COMMENT ON COLUMN analytics.refresh_status.age_s IS 'Seconds since it started.';

-- The read-only role ----------------------------------------------------------------------------------------

-- A group role (cluster-wide, so created once for every database of the cluster). Analysts log in
-- as roles of their own that are members (`CREATE ROLE alice LOGIN IN ROLE orderly_analyst`);
-- PostgreSQL does not pass a group's settings to its members, so docs/analytics.md shows the
-- statement_timeout to set on each (the setting here covers a login as the group itself).
-- Databases of one cluster may migrate at once: whoever creates the role sets it up; the others
-- find it (or lose the race to create it) and leave it alone, as they do a role a DBA made.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orderly_analyst') THEN
        BEGIN
            CREATE ROLE orderly_analyst NOLOGIN;
            COMMENT ON ROLE orderly_analyst IS 'Orderly analysts: USAGE and SELECT on the analytics schema only.';
            ALTER ROLE orderly_analyst SET statement_timeout = '30s';
            ALTER ROLE orderly_analyst SET default_transaction_read_only = on;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA analytics TO orderly_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO orderly_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO orderly_analyst;
-- Refreshing is the worker's (and the owner's) business, not an analyst's.
REVOKE EXECUTE ON FUNCTION analytics.refresh_view(text), analytics.refresh() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.postal_prefix(text), analytics.hours_between(timestamptz, timestamptz),
    analytics.materialized_views() TO orderly_analyst;

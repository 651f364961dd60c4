-- Multiplies a seeded database's order history :factor times (copies with ids shifted), for timing
-- the analytics views at scale. The copies keep their originals' instants, channels and SKUs; they are
-- for reading only: the stock they would have moved is not there, so `orderly check` is not clean
-- afterwards. Usage: psql -v factor=50 -f replicate.sql
\set ON_ERROR_STOP on
SELECT max(id) AS o FROM orders \gset
SELECT max(id) AS ol FROM order_lines \gset
SELECT max(id) AS ev FROM order_events \gset
SELECT max(id) AS rd FROM routing_decisions \gset
SELECT max(id) AS rs FROM reservations \gset
SELECT max(id) AS sh FROM shipments \gset
SELECT max(id) AS sl FROM shipment_lines \gset
SELECT max(id) AS pl FROM pick_lists \gset
SELECT max(id) AS pll FROM pick_list_lines \gset
SELECT coalesce(max(id), 0) AS rt FROM returns \gset
SELECT coalesce(max(id), 0) AS rl FROM return_lines \gset
SELECT coalesce(max(id), 0) AS ri FROM return_inspections \gset
SELECT max(id) AS lg FROM inventory_ledger \gset
SELECT coalesce(max(id), 0) AS cl FROM claims \gset
SELECT coalesce(max(id), 0) AS cc FROM cycle_counts \gset
ALTER TABLE order_events DISABLE TRIGGER order_events_append_only;
ALTER TABLE inventory_ledger DISABLE TRIGGER inventory_ledger_append_only;
CREATE TEMP TABLE k AS SELECT generate_series(1, :factor - 1) AS k;
INSERT INTO orders OVERRIDING SYSTEM VALUE
SELECT (o.id + k * :o), channel, external_id || '-x' || k, NULL, status, hold_reason, currency, subtotal_minor,
       shipping_minor, tax_minor, discount_minor, total_minor, payment_status, email, ship_name, ship_line1, ship_line2,
       ship_city, ship_region, ship_postal_code, ship_country, ship_latitude, ship_longitude, routing_strategy,
       placed_at, created_at, updated_at, billing_country, risk_score, review_requested, service_level, priority,
       cancelled_minor
FROM orders o, k;
INSERT INTO order_lines OVERRIDING SYSTEM VALUE
SELECT id + k * :ol, order_id + k * :o, line_no, sku_id, quantity, unit_price_minor, line_total_minor,
       quantity_reserved, quantity_backordered, quantity_shipped, quantity_cancelled, quantity_returned
FROM order_lines, k;
INSERT INTO order_events OVERRIDING SYSTEM VALUE
SELECT id + k * :ev, order_id + k * :o, event, from_status, to_status, actor, reason, data, created_at FROM order_events, k;
INSERT INTO routing_decisions OVERRIDING SYSTEM VALUE
SELECT id + k * :rd, order_id + k * :o, strategy, rule, candidates, plan, attempt, decided_at FROM routing_decisions, k;
INSERT INTO reservations OVERRIDING SYSTEM VALUE
SELECT id + k * :rs, order_id + k * :o, order_line_id + k * :ol, warehouse_id, sku_id, quantity,
       CASE WHEN status = 'active' THEN 'released' ELSE status END, decision_id + k * :rd, expires_at, created_at,
       coalesce(closed_at, created_at)
FROM reservations, k;
INSERT INTO shipments OVERRIDING SYSTEM VALUE
SELECT id + k * :sh, order_id + k * :o, warehouse_id, status, carrier_id, service,
       tracking_number || '-' || k, NULL, weight_grams, cost_minor, currency, created_at, packed_at, shipped_at,
       delivered_at, updated_at, ready_at, handed_over_at
FROM shipments, k;
INSERT INTO shipment_lines OVERRIDING SYSTEM VALUE
SELECT id + k * :sl, shipment_id + k * :sh, order_line_id + k * :ol, sku_id, reservation_id + k * :rs, quantity,
       quantity_picked, quantity_packed
FROM shipment_lines, k;
INSERT INTO pick_lists OVERRIDING SYSTEM VALUE
SELECT id + k * :pl, warehouse_id, method, zone, CASE WHEN status IN ('open', 'in_progress') THEN 'cancelled' ELSE status END,
       created_at, completed_at, walked_at
FROM pick_lists, k;
INSERT INTO pick_list_lines OVERRIDING SYSTEM VALUE
SELECT id + k * :pll, pick_list_id + k * :pl, shipment_line_id + k * :sl, sku_id, bin_location, walk_sequence, quantity,
       quantity_picked
FROM pick_list_lines, k;
INSERT INTO delivery_promises
SELECT order_id + k * :o, warehouse_id, decision_id + k * :rd, promised_at, ship_date, ship_by, deliver_by, carrier, service,
       at_risk_at
FROM delivery_promises, k;
INSERT INTO claims OVERRIDING SYSTEM VALUE
SELECT id + k * :cl, order_id + k * :o, shipment_id + k * :sh, kind, 'resolved', coalesce(resolution, 'refund'), units,
       refund_minor, note, opened_by, opened_at, coalesce(resolved_by, opened_by), coalesce(resolved_at, opened_at)
FROM claims, k;
INSERT INTO returns OVERRIDING SYSTEM VALUE
SELECT id + k * :rt, rma_number || '-' || k, order_id + k * :o, status, reason, resolution, NULL, created_at, updated_at,
       note, warehouse_id, carrier_id, service, tracking_number || '-' || k, NULL, label_cost_minor, opened_by,
       received_at, inspected_at, refunded_at, refund_minor, restocking_fee_minor, exchanged_at, keep_item
FROM returns, k;
INSERT INTO return_lines OVERRIDING SYSTEM VALUE
SELECT id + k * :rl, return_id + k * :rt, order_line_id + k * :ol, sku_id, quantity, condition, disposition,
       restock_warehouse_id, inspected_at
FROM return_lines, k;
INSERT INTO return_inspections OVERRIDING SYSTEM VALUE
SELECT id + k * :ri, return_id + k * :rt, return_line_id + k * :rl, quantity, condition, disposition, warehouse_id,
       inspected_by, inspected_at, serial
FROM return_inspections, k;
INSERT INTO inventory_ledger OVERRIDING SYSTEM VALUE
SELECT id + k * :lg, warehouse_id, sku_id, on_hand_delta, reserved_delta, reason, note, order_id + k * :o,
       shipment_id + k * :sh, return_id + k * :rt, transfer_id, actor, created_at
FROM inventory_ledger, k;
INSERT INTO cycle_counts OVERRIDING SYSTEM VALUE
SELECT id + k * :cc, warehouse_id, sku_id, expected, counted, variance_reason, actor, counted_at FROM cycle_counts, k;
ALTER TABLE order_events ENABLE TRIGGER order_events_append_only;
ALTER TABLE inventory_ledger ENABLE TRIGGER inventory_ledger_append_only;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['orders', 'order_lines', 'order_events', 'routing_decisions', 'reservations', 'shipments',
        'shipment_lines', 'pick_lists', 'pick_list_lines', 'claims', 'returns', 'return_lines', 'return_inspections',
        'inventory_ledger', 'cycle_counts'] LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), (SELECT max(id) FROM %I))', t, t);
    END LOOP;
END
$$;
VACUUM ANALYZE;
SELECT count(*) AS orders FROM orders;

-- Backorders, first come first served. The units an order waits for, per SKU, in the order they are
-- served: by the order's capture time, then its priority, then its id. A reservation may take a SKU's
-- stock only beyond what orders ahead of it wait for (OrderService reads this under its locks), so
-- stock that arrives goes to the waiting orders before any newer order can reserve it.
CREATE VIEW backorder_queue AS
SELECT l.order_id, l.sku_id, l.quantity_backordered AS units, o.placed_at,
       orderly_job_priority(o.priority) AS priority_rank
FROM order_lines l JOIN orders o ON o.id = l.order_id
WHERE l.quantity_backordered > 0
  AND o.status IN ('backordered', 'partially_reserved', 'picking', 'packed', 'partially_shipped');

COMMENT ON VIEW backorder_queue IS
    'Units each order waits for per SKU, served by (placed_at, priority_rank, order_id).';

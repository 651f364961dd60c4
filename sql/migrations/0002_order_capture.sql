-- What capture knows that the hold rules read again when a held order is re-evaluated.
ALTER TABLE orders
    ADD COLUMN billing_country char(2) CONSTRAINT orders_billing_country CHECK (billing_country ~ '^[A-Z]{2}$'),
    ADD COLUMN risk_score smallint CONSTRAINT orders_risk_score CHECK (risk_score BETWEEN 0 AND 100),
    ADD COLUMN review_requested boolean NOT NULL DEFAULT false;

-- The expiry sweep's question: which unpaid orders hold reservations that have run out?
CREATE INDEX reservations_expiring_order ON reservations (expires_at, order_id)
    WHERE status = 'active' AND expires_at IS NOT NULL;
DROP INDEX reservations_expiring;

-- Order lines as analysts read them: what is reserved, backordered, shipped, and still open.
CREATE VIEW order_line_status AS
SELECT l.order_id, o.channel, o.external_id, o.status AS order_status, l.line_no, s.code AS sku_code,
       l.quantity, l.quantity_reserved, l.quantity_backordered, l.quantity_shipped, l.quantity_cancelled,
       l.quantity - l.quantity_reserved - l.quantity_shipped - l.quantity_cancelled AS quantity_open
FROM order_lines l
JOIN orders o ON o.id = l.order_id
JOIN skus s ON s.id = l.sku_id;

-- Pending jobs of an order (cancelling an order cancels its pending picks).
CREATE INDEX jobs_pending_order ON jobs (((args->>'order_id')::bigint))
    WHERE args ? 'order_id' AND state IN ('available', 'scheduled', 'retryable');

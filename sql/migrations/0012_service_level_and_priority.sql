-- What a customer asked for and how urgently an order is fulfilled. service_level names a rate's
-- service (`express`): routing considers only warehouses with such a rate to the destination, the
-- promise counts its transit days and the label step buys it. NULL: any service, by the channel's
-- carrier rule. priority orders the order's pick jobs; a channel gives the default.

ALTER TABLE orders
    ADD COLUMN service_level text CONSTRAINT orders_service_level CHECK (service_level ~ '^[a-z0-9_]{1,32}$'),
    ADD COLUMN priority text NOT NULL DEFAULT 'normal'
        CONSTRAINT orders_priority CHECK (priority IN ('urgent', 'high', 'normal', 'low'));

ALTER TABLE channel_policies
    ADD COLUMN priority text NOT NULL DEFAULT 'normal'
        CONSTRAINT channel_policies_priority CHECK (priority IN ('urgent', 'high', 'normal', 'low'));

-- Marketplaces hold sellers to their own ship-by dates: their orders go first by default.
WITH before AS (
    SELECT name, to_jsonb(p) - 'updated_by' - 'updated_at' AS policy FROM channel_policies p WHERE kind = 'marketplace'
), changed AS (
    UPDATE channel_policies p SET priority = 'high', updated_by = 'migration', updated_at = now()
    WHERE kind = 'marketplace'
    RETURNING name, to_jsonb(p) - 'updated_by' - 'updated_at' AS policy
)
INSERT INTO channel_policy_changes (channel, actor, before, after)
SELECT c.name, 'migration', b.policy, c.policy FROM changed c JOIN before b USING (name);

-- An order's priority as its fulfillment jobs' (pick, pack, label, capture, ship, reroute; lower runs
-- first, most other kinds run at 100). The one mapping: every statement that enqueues them calls it.
CREATE FUNCTION orderly_job_priority(order_priority text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE order_priority WHEN 'urgent' THEN 10 WHEN 'high' THEN 50 WHEN 'low' THEN 150 ELSE 100 END
$$;

-- The same for a stored order (100 if there is none).
CREATE FUNCTION orderly_order_job_priority(order_id bigint) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT orderly_job_priority(o.priority) FROM orders o WHERE o.id = order_id), 100)
$$;

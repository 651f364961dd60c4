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

-- An order's priority as its pick jobs' (lower runs first; most kinds run at 100). The one mapping:
-- every statement that enqueues picks calls it.
CREATE FUNCTION orderly_pick_priority(order_priority text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE order_priority WHEN 'urgent' THEN 10 WHEN 'high' THEN 50 WHEN 'low' THEN 150 ELSE 100 END
$$;

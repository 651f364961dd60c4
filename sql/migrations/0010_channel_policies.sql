-- Channel policies in the database: what capture, reservation, holds and labels decide by, one row per
-- channel, read by every process in the transaction that acts on it (so a change made by one server
-- is what the next order on any server or worker sees, without a restart or a cache to invalidate).
-- A channel is a name: the five kinds have a channel each (named after the kind), and a business adds
-- its own (amazon, ebay, a second web shop...), each with a policy of its own.

CREATE TABLE channel_policies (
    name        text PRIMARY KEY CONSTRAINT channel_policies_name CHECK (name ~ '^[a-z][a-z0-9_]{0,31}$'),
    kind        text NOT NULL CONSTRAINT channel_policies_kind CHECK (kind IN ('web', 'pos', 'marketplace', 'phone', 'b2b')),
    -- An inactive channel captures no new orders; its orders already captured go on as before.
    active      boolean NOT NULL DEFAULT true,
    -- A routing strategy or chain of the routing registry, e.g. 'nearest>split'. The names are checked
    -- by the server that sets them (strategies are code, registered per process).
    routing     text NOT NULL CONSTRAINT channel_policies_routing CHECK (routing ~ '^[a-z0-9_]+(>[a-z0-9_]+)*$'),
    on_shortage text NOT NULL CONSTRAINT channel_policies_on_shortage CHECK (on_shortage IN ('backorder', 'reject')),
    -- How long an unpaid order keeps its stock; 0: unpaid orders reserve nothing and are held
    -- (payment_pending) until paid.
    unpaid_reservation_seconds integer NOT NULL
        CONSTRAINT channel_policies_unpaid_reservation CHECK (unpaid_reservation_seconds >= 0),
    carrier_rule text NOT NULL CONSTRAINT channel_policies_carrier_rule CHECK (carrier_rule IN ('cheapest', 'fastest')),
    -- Currency code -> minor units: an order at or over it is held for review (high_value). A currency
    -- not named has no limit.
    high_value_limits jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT channel_policies_high_value CHECK (jsonb_typeof(high_value_limits) = 'object'),
    -- A fraud score at or over it holds the order (high_risk); 101 never does.
    risk_score_limit integer NOT NULL DEFAULT 80
        CONSTRAINT channel_policies_risk_score CHECK (risk_score_limit BETWEEN 0 AND 101),
    -- The payment states an order of the channel may be captured in; any other is refused at capture.
    payment_states text[] NOT NULL DEFAULT ARRAY['pending', 'authorized', 'captured', 'failed']
        CONSTRAINT channel_policies_payment_states CHECK (
            cardinality(payment_states) > 0
            AND payment_states <@ ARRAY['pending', 'authorized', 'captured', 'failed']),
    updated_by  text NOT NULL DEFAULT 'migration',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every change, with who made it and when, and the whole policy before and after (before is NULL
-- when the change created the channel).
CREATE TABLE channel_policy_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text NOT NULL REFERENCES channel_policies (name),
    actor      text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    before     jsonb,
    after      jsonb NOT NULL
);
CREATE INDEX channel_policy_changes_channel ON channel_policy_changes (channel, id);

-- Orders name their channel. No foreign key: every capture already reads its channel's row (and is
-- refused when there is none), and a foreign key would lock the channel's one row KEY SHARE from
-- every concurrent capture (a MultiXact per moment under load). Instead a channel is never deleted.
ALTER TABLE orders DROP CONSTRAINT orders_channel;
ALTER TABLE orders ADD CONSTRAINT orders_channel CHECK (channel ~ '^[a-z][a-z0-9_]{0,31}$');

CREATE FUNCTION orderly_keep_channels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'channel % cannot be deleted (orders name it); set active=false instead', OLD.name
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER channel_policies_kept BEFORE DELETE ON channel_policies
    FOR EACH ROW EXECUTE FUNCTION orderly_keep_channels();

-- Today's defaults, as they were compiled in: web and phone backorder and keep an unpaid order's
-- stock for a while; POS and marketplaces reject what they cannot fill and ship fastest; B2B routes
-- for cost and keeps unpaid (invoiced) orders' stock for a week. Amazon and eBay start as the
-- marketplace's policy, each its own row. The yen has no minor unit: its limit is ¥1,500,000 (the
-- compiled-in 150,000,000 treated it as if it had cents).
INSERT INTO channel_policies (name, kind, routing, on_shortage, unpaid_reservation_seconds, carrier_rule,
                              high_value_limits)
SELECT name, kind, routing, on_shortage, unpaid, carrier_rule,
       '{"USD": 1000000, "EUR": 1000000, "GBP": 800000, "CAD": 1300000, "AUD": 1500000,
         "JPY": 1500000, "CHF": 1000000, "SEK": 10000000}'::jsonb
FROM (VALUES
    ('web', 'web', 'nearest>split', 'backorder', 1800, 'cheapest'),
    ('pos', 'pos', 'priority>split', 'reject', 0, 'fastest'),
    ('marketplace', 'marketplace', 'nearest>split', 'reject', 0, 'fastest'),
    ('phone', 'phone', 'nearest>split', 'backorder', 86400, 'cheapest'),
    ('b2b', 'b2b', 'cheapest>split', 'backorder', 604800, 'cheapest'),
    ('amazon', 'marketplace', 'nearest>split', 'reject', 0, 'fastest'),
    ('ebay', 'marketplace', 'nearest>split', 'reject', 0, 'fastest')
) AS seed (name, kind, routing, on_shortage, unpaid, carrier_rule);

INSERT INTO channel_policy_changes (channel, actor, after)
SELECT name, 'migration', to_jsonb(p) - 'updated_by' - 'updated_at' FROM channel_policies p;

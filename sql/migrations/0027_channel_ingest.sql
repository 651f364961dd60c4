-- Orders from where they are sold (docs/channels.md). A channel is connected to the platform its
-- documents come from, with how they are authenticated (Shopify signs each webhook with HMAC-SHA256
-- of the raw body under the app's secret; the others send a bearer token, kept here only as its
-- SHA-256) and where Orderly tells it about its orders (an outbound webhook URL). A channel's own
-- identifiers (a marketplace SKU, an ASIN, an eBay legacyItemId) map to Orderly's SKUs through
-- sku_aliases. Every document received is kept, once per (channel, external id): captured (its
-- order), held before capture (a SKU no alias maps, an address the platform withholds) or cancelled
-- before it was ever captured (docs/channels.md: the holds). A held document is imported again when it is sent again or when an
-- alias is added (CHANNEL ALIAS).
-- compatibility: additive

CREATE TABLE channel_connections (
    channel         text PRIMARY KEY REFERENCES channel_policies (name),
    platform        text NOT NULL CHECK (platform IN ('shopify', 'magento', 'sfcc', 'amazon', 'ebay')),
    signing_secret  text CHECK (length(signing_secret) BETWEEN 16 AND 512),
    token_sha256    text CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    webhook_url     text CHECK (webhook_url ~ '^https?://[^/\s]+(/\S*)?$'),
    -- The stock feed (a `stock.updated` webhook): what the channel is told it may sell of a SKU is what
    -- all warehouses have available less this buffer (never below 0), published when it crosses
    -- stock_threshold or reaches 0, or moves by stock_min_change or more since it was last published.
    stock_buffer     integer NOT NULL DEFAULT 0 CHECK (stock_buffer >= 0),
    stock_threshold  integer NOT NULL DEFAULT 5 CHECK (stock_threshold >= 0),
    stock_min_change integer NOT NULL DEFAULT 10 CHECK (stock_min_change >= 1),
    updated_by      text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT channel_connections_credentials CHECK (
        (platform = 'shopify' AND signing_secret IS NOT NULL AND token_sha256 IS NULL)
        OR (platform <> 'shopify' AND token_sha256 IS NOT NULL AND signing_secret IS NULL))
);
COMMENT ON TABLE channel_connections IS
    'The platform each channel imports from, how its documents are authenticated, and its outbound webhook.';

CREATE TABLE sku_aliases (
    channel     text NOT NULL REFERENCES channel_policies (name),
    alias       text NOT NULL CHECK (length(alias) BETWEEN 1 AND 128),
    sku_id      bigint NOT NULL REFERENCES skus (id),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, alias)
);
COMMENT ON TABLE sku_aliases IS
    'A channel''s identifier for a product (its SKU, an ASIN, a legacyItemId) and the Orderly SKU it is.';

CREATE TABLE channel_documents (
    channel         text NOT NULL REFERENCES channel_policies (name),
    external_id     text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 128),
    platform        text NOT NULL,
    -- The document(s) as received, the latest delivery.
    body            text NOT NULL,
    state           text NOT NULL CHECK (state IN ('captured', 'held', 'cancelled')),
    holds           text[] NOT NULL DEFAULT '{}'
                    CHECK (holds <@ ARRAY['unmapped_sku', 'missing_address', 'ship_to_not_allowed']),
    -- The line identifiers no SKU or alias matched.
    unmapped        text[] NOT NULL DEFAULT '{}',
    order_id        bigint UNIQUE REFERENCES orders (id),
    -- The platform's grand total, kept where it differs from Orderly's (lines + shipping + tax - discount).
    channel_total_minor bigint,
    deliveries      integer NOT NULL DEFAULT 1 CHECK (deliveries > 0),
    received_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, external_id),
    CONSTRAINT channel_documents_state CHECK (
        (state = 'captured') = (order_id IS NOT NULL) AND (state = 'held') = (cardinality(holds) > 0))
);
CREATE INDEX channel_documents_held ON channel_documents (channel) WHERE state = 'held';
COMMENT ON TABLE channel_documents IS
    'Every order document a channel sent, once per external id: captured, held before capture, or cancelled.';

-- What each channel was last told it may sell, per SKU (the stock feed's memory).
CREATE TABLE channel_stock_published (
    channel      text NOT NULL REFERENCES channel_connections (channel) ON DELETE CASCADE,
    sku_id       bigint NOT NULL REFERENCES skus (id),
    available    bigint NOT NULL CHECK (available >= 0),
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, sku_id)
);

-- What a channel hears about its orders: an outbound webhook for each shipment, delivery, cancellation
-- and refund of an order of a channel with a webhook_url, written (in the transaction of the move) as a
-- 'webhook' notification, sent by the notify job like every other message: at least once, retried
-- with backoff, its id the delivery id the receiver uses to drop repeats.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'order_confirmed', 'order_shipped', 'order_delayed', 'order_delivered', 'order_backordered',
    'order_cancelled', 'return_received', 'refund_issued', 'low_stock', 'payment_instruction',
    'payment_failed', 'promise_at_risk', 'order_updated', 'return_opened', 'return_fraud', 'channel_update',
    'stock_update'));

CREATE FUNCTION orderly_channel_updates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (order_id, kind, channel, recipient, subject, body, dedupe_key)
    SELECT e.order_id, 'channel_update', 'webhook', c.webhook_url, u.topic,
           jsonb_build_object(
               'topic', u.topic, 'event', e.event, 'event_id', e.id, 'at', e.created_at,
               'channel', o.channel, 'external_id', o.external_id, 'order_id', o.id, 'status', e.to_status,
               'reason', e.reason, 'data', e.data,
               'shipments', CASE WHEN u.topic = 'order.shipped' OR u.topic = 'order.delivered' THEN (
                   SELECT coalesce(jsonb_agg(jsonb_build_object(
                              'shipment_id', s.id, 'status', s.status, 'carrier', k.code,
                              'tracking_number', s.tracking_number, 'shipped_at', s.shipped_at) ORDER BY s.id),
                          '[]'::jsonb)
                   FROM shipments s LEFT JOIN carriers k ON k.id = s.carrier_id
                   WHERE s.order_id = o.id AND s.shipped_at IS NOT NULL) END)::text,
           'channel_update:' || e.id
    FROM inserted e
    CROSS JOIN LATERAL (SELECT CASE
        WHEN e.event IN ('ship', 'ship_partially') THEN 'order.shipped'
        WHEN e.event = 'deliver' THEN 'order.delivered'
        WHEN e.event LIKE 'cancel%' THEN 'order.cancelled'
        WHEN e.event = 'payment_refunded' THEN 'order.refunded'
        END AS topic) u
    JOIN orders o ON o.id = e.order_id
    JOIN channel_connections c ON c.channel = o.channel AND c.webhook_url IS NOT NULL
    WHERE u.topic IS NOT NULL
    ON CONFLICT (dedupe_key) DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER order_events_channel_updates AFTER INSERT ON order_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION orderly_channel_updates();

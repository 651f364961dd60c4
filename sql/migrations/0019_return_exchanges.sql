-- A return resolved by exchange: a new order for the replacement, linked by returns.exchange_order_id.
ALTER TABLE returns DROP CONSTRAINT returns_status;
ALTER TABLE returns ADD CONSTRAINT returns_status CHECK (status IN (
    'open', 'received', 'inspected', 'refunded', 'exchanged', 'cancelled'));
ALTER TABLE returns ADD COLUMN exchanged_at timestamptz;

-- A parcel's weight is its units times grams per unit: past 2^31 g (about 2,147 t) for an order heavy
-- enough, which made the pack job fail for good with "integer out of range". 64-bit, like every
-- other quantity that is a product.
ALTER TABLE shipments ALTER COLUMN weight_grams TYPE bigint;

-- A fulfillment job discarded for good (its retries spent) holds its order, with this reason, for an
-- operator to see and release, instead of leaving it stuck in picking or packed.
ALTER TABLE orders DROP CONSTRAINT orders_hold_reason;
ALTER TABLE orders ADD CONSTRAINT orders_hold_reason CHECK (hold_reason IN (
    'address_mismatch', 'address_incomplete', 'payment_pending', 'payment_failed',
    'high_value', 'high_risk', 'manual', 'fulfillment_failed'));

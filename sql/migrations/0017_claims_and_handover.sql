-- Parcels that go wrong, and parcels that leave only when the carrier takes them.

-- A parcel damaged in transit, or returned to the sender by the carrier.
ALTER TABLE shipments DROP CONSTRAINT shipments_status;
ALTER TABLE shipments ADD CONSTRAINT shipments_status CHECK (status IN (
    'planned', 'picking', 'picked', 'packed', 'labelled', 'shipped', 'delivered', 'delayed', 'lost', 'damaged',
    'returned', 'cancelled'));

-- A claim on a parcel the carrier reported lost, damaged, delayed or returned to sender: resolved by
-- sending its units again (reship), by refunding them, or (a delayed parcel) by its delivery.
CREATE TABLE claims (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (id),
    shipment_id     bigint NOT NULL REFERENCES shipments (id),
    kind            text NOT NULL CONSTRAINT claims_kind CHECK (kind IN ('lost', 'damaged', 'delayed', 'returned_to_sender')),
    status          text NOT NULL DEFAULT 'open' CONSTRAINT claims_status CHECK (status IN ('open', 'resolved')),
    resolution      text CONSTRAINT claims_resolution CHECK (resolution IN ('reship', 'refund', 'delivered')),
    -- Units the resolution sent again or refunded, and the money it refunds.
    units           integer NOT NULL DEFAULT 0 CHECK (units >= 0),
    refund_minor    bigint NOT NULL DEFAULT 0 CHECK (refund_minor >= 0),
    note            text CHECK (length(note) <= 500),
    opened_by       text NOT NULL,
    opened_at       timestamptz NOT NULL DEFAULT now(),
    resolved_by     text,
    resolved_at     timestamptz,
    CONSTRAINT claims_resolved CHECK ((status = 'resolved') = (resolution IS NOT NULL AND resolved_at IS NOT NULL))
);
CREATE UNIQUE INDEX claims_one_open_per_shipment ON claims (shipment_id) WHERE status = 'open';
CREATE INDEX claims_order ON claims (order_id);
CREATE INDEX claims_open ON claims (id) WHERE status = 'open';
CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims FOR EACH ROW EXECUTE FUNCTION orderly_refuse_change();

-- What a channel does with a claim by itself: nothing (a person resolves it), reship or refund.
ALTER TABLE channel_policies ADD COLUMN claim_action text NOT NULL DEFAULT 'none'
    CONSTRAINT channel_policies_claim_action CHECK (claim_action IN ('none', 'reship', 'refund'));

-- Handover: at an 'auto' warehouse a labelled parcel (its capture done) ships at once, as before; at
-- a 'scan' one it ships when the carrier takes it (SHIPMENT HANDOVER, or the carrier's pickup scan).
-- ready_at: the parcel may leave (labelled, money settled); handed_over_at: the carrier has it.
ALTER TABLE warehouses ADD COLUMN handover text NOT NULL DEFAULT 'auto'
    CONSTRAINT warehouses_handover CHECK (handover IN ('auto', 'scan'));
ALTER TABLE shipments ADD COLUMN ready_at timestamptz, ADD COLUMN handed_over_at timestamptz;

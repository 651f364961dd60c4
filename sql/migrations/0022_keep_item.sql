-- Refund without return: a channel lets the customer keep low-value items (a line worth at most
-- keep_item_limit_minor of the order's minor units; 0: never). Such a return is inspected at once,
-- its units `kept` (no stock moves), and refunded as any other.
ALTER TABLE channel_policies ADD COLUMN keep_item_limit_minor bigint NOT NULL DEFAULT 0
    CHECK (keep_item_limit_minor >= 0);
ALTER TABLE returns ADD COLUMN keep_item boolean NOT NULL DEFAULT false;
ALTER TABLE return_inspections DROP CONSTRAINT return_inspections_condition;
ALTER TABLE return_inspections ADD CONSTRAINT return_inspections_condition CHECK (condition IN (
    'sellable', 'damaged', 'defective', 'missing', 'wrong_item', 'kept'));

-- Hold for manual review: a unit whose fate a person decides later (RETURN DECIDE). Held units have
-- arrived but are not in stock; the decision adds a `review` row that restocks or scraps them.
ALTER TABLE return_inspections DROP CONSTRAINT return_inspections_condition;
ALTER TABLE return_inspections ADD CONSTRAINT return_inspections_condition CHECK (condition IN (
    'sellable', 'damaged', 'defective', 'missing', 'wrong_item', 'kept', 'review'));
ALTER TABLE return_inspections DROP CONSTRAINT return_inspections_disposition;
ALTER TABLE return_inspections ADD CONSTRAINT return_inspections_disposition CHECK (disposition IN (
    'restock', 'scrap', 'hold', 'none'));

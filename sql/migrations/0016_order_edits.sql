-- ORDER EDIT: a line removed before picking keeps its row (the history of what was ordered is in its
-- edit event) with no units.
ALTER TABLE order_lines DROP CONSTRAINT order_lines_quantity_check;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_quantity_check CHECK (quantity BETWEEN 0 AND 1000000);

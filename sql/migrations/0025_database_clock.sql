-- Orderly's clock. Every instant Orderly records (captures, moves, promises, ledgers, returns) and
-- every comparison with "now" in the domain (return windows, unpaid reservations, promises at risk,
-- delivery calendars) reads orderly_now(): PostgreSQL's now(), the transaction's start, unless the
-- session asked for the simulated clock (`orderly.simulated_clock = on`, which `orderly seed` sets on
-- its own connections only), in which case it is the instant in orderly_clock. The job queue and the
-- admin tables keep now(): leases, backoff and retention run on real time whatever is simulated.
CREATE TABLE orderly_clock (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    at              timestamptz NOT NULL
);
COMMENT ON TABLE orderly_clock IS
    'The simulated instant, read by orderly_now() in sessions with orderly.simulated_clock = on (orderly seed); other sessions ignore it.';

CREATE FUNCTION orderly_now() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN current_setting('orderly.simulated_clock', true) = 'on'
                THEN coalesce((SELECT c.at FROM orderly_clock c), now())
                ELSE now() END;
COMMENT ON FUNCTION orderly_now() IS
    'Orderly''s now: now(), or the simulated instant in orderly_clock for sessions with orderly.simulated_clock = on.';

-- Every domain column that defaults to now() defaults to orderly_now() instead.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT c.table_name, c.column_name
        FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
          AND c.column_default = 'now()'
          AND c.table_name NOT IN ('jobs', 'admin_idempotency', 'admin_principals', 'orderly_schema_migrations')
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT orderly_now()', col.table_name, col.column_name);
    END LOOP;
END
$$;

-- Fulfillment: how each warehouse picks, tracking serials, the outbox's jobs, and one NOTIFY per
-- queue for every job inserted, wherever the INSERT is written.

-- How a warehouse's pick lists are confirmed: 'auto' confirms full picks as soon as a list is walked
-- (automated or trusted warehouses, drop-shippers), 'scanner' waits for PICKLIST CONFIRM with the
-- quantities a picker scanned. Batch warehouses gather up to batch_size shipments per walk, or what
-- arrived within batch_window_seconds of the batch's first shipment.
ALTER TABLE warehouses
    ADD COLUMN pick_confirmation text NOT NULL DEFAULT 'auto'
        CONSTRAINT warehouses_pick_confirmation CHECK (pick_confirmation IN ('auto', 'scanner')),
    ADD COLUMN batch_size integer NOT NULL DEFAULT 10
        CONSTRAINT warehouses_batch_size CHECK (batch_size BETWEEN 1 AND 500),
    ADD COLUMN batch_window_seconds integer NOT NULL DEFAULT 5
        CONSTRAINT warehouses_batch_window CHECK (batch_window_seconds BETWEEN 0 AND 3600);

-- The eight-digit serial of UPU S10 tracking numbers (prefix, serial, check digit, origin country).
CREATE SEQUENCE tracking_serial MINVALUE 1 MAXVALUE 99999999 CYCLE;

ALTER TABLE pick_lists ADD COLUMN walked_at timestamptz;
-- A batch warehouse's list still gathering shipments.
CREATE INDEX pick_lists_open ON pick_lists (warehouse_id, method) WHERE status = 'open';
CREATE INDEX pick_list_lines_shipment_line ON pick_list_lines (shipment_line_id);
CREATE INDEX shipment_lines_reservation ON shipment_lines (reservation_id) WHERE reservation_id IS NOT NULL;

-- An order's jobs, in any state (its timeline; cancelling an order cancels its pending picks).
CREATE INDEX jobs_order ON jobs (((args->>'order_id')::bigint)) WHERE args ? 'order_id';
DROP INDEX jobs_pending_order;

-- Every notification written (in its cause's transaction) gets the job that sends it.
CREATE FUNCTION orderly_enqueue_notification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (queue, kind, args, unique_key, max_attempts)
    SELECT 'notifications', 'notify',
           jsonb_build_object('notification_id', n.id) || CASE WHEN n.order_id IS NULL THEN '{}'::jsonb
                                                               ELSE jsonb_build_object('order_id', n.order_id) END,
           'notify:' || n.id, 10
    FROM inserted n;
    RETURN NULL;
END;
$$;
CREATE TRIGGER notifications_enqueue AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION orderly_enqueue_notification();

-- Wakes listening workers once per queue and statement, at commit (NOTIFY is transactional and
-- folds duplicates), for every INSERT into jobs: JobQueue.enqueue, the reservation's picks, triggers.
CREATE FUNCTION orderly_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orderly_jobs', q.queue) FROM (SELECT DISTINCT queue FROM inserted) q;
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_notify AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION orderly_notify_jobs();

-- Backordered lines by SKU: what arriving stock can fill (the retry_backorders job and sweep).
CREATE INDEX order_lines_backordered ON order_lines (sku_id, order_id) WHERE quantity_backordered > 0;

-- Completes a job for the worker holding it, or raises OJ001 so the transaction holding the job's
-- effects cannot commit: a worker sends this and COMMIT in one round trip.
CREATE FUNCTION orderly_complete_job(job_id bigint, holder text, held_attempt integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs SET state = 'completed', completed_at = now(), lease_expires_at = NULL
    WHERE id = job_id AND state = 'running' AND attempted_by = holder AND attempt = held_attempt;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'orderly: job % (attempt %) is no longer held by %', job_id, held_attempt, holder
            USING ERRCODE = 'OJ001';
    END IF;
END;
$$;

-- The same for a batch of jobs run in one transaction: all completed, or OJ001 and nothing commits.
CREATE FUNCTION orderly_complete_jobs(job_ids bigint[], holder text, held_attempts integer[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    done integer;
BEGIN
    UPDATE jobs j SET state = 'completed', completed_at = now(), lease_expires_at = NULL
    FROM unnest(job_ids, held_attempts) AS h(id, attempt)
    WHERE j.id = h.id AND j.state = 'running' AND j.attempted_by = holder AND j.attempt = h.attempt;
    GET DIAGNOSTICS done = ROW_COUNT;
    IF done <> cardinality(job_ids) THEN
        RAISE EXCEPTION 'orderly: % of % jobs are no longer held by %', cardinality(job_ids) - done,
            cardinality(job_ids), holder USING ERRCODE = 'OJ001';
    END IF;
END;
$$;

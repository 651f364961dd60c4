-- One way into the job queue. Every enqueue, from Swift (JobQueue) or from a statement's SQL (the
-- reservation's picks, packing's labels, the notification trigger), goes through
-- orderly_enqueue_jobs, so the state a new job starts in and the duplicate-job guard (at most one
-- pending job per unique key: the partial unique index jobs_unique_key) are written once, here.
--
-- One kind per call, as many jobs as args (unique_keys, when given, matches args; a NULL key is no
-- key). Returns the ids of the jobs inserted, in args' order; a job whose key is pending is skipped.
CREATE FUNCTION orderly_enqueue_jobs(
    job_queue text,
    job_kind text,
    job_args jsonb[],
    unique_keys text[] DEFAULT NULL,
    delay_seconds double precision DEFAULT 0,
    job_priority integer DEFAULT 100,
    attempts integer DEFAULT 20
) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF unique_keys IS NOT NULL AND cardinality(unique_keys) <> cardinality(job_args) THEN
        RAISE EXCEPTION 'orderly: % unique keys for % jobs', cardinality(unique_keys), cardinality(job_args)
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    INSERT INTO jobs (queue, kind, args, priority, state, run_at, unique_key, max_attempts)
    SELECT job_queue, job_kind, j.args, job_priority,
           CASE WHEN delay_seconds > 0 THEN 'scheduled' ELSE 'available' END,
           now() + make_interval(secs => delay_seconds), unique_keys[j.n], attempts
    FROM unnest(job_args) WITH ORDINALITY AS j(args, n)
    ORDER BY j.n
    ON CONFLICT (unique_key)
        WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable')
    DO NOTHING
    RETURNING id;
END;
$$;

-- One job: its id, or NULL when a pending job holds its unique key.
CREATE FUNCTION orderly_enqueue_job(
    job_queue text,
    job_kind text,
    job_args jsonb,
    unique_key text DEFAULT NULL,
    delay_seconds double precision DEFAULT 0,
    job_priority integer DEFAULT 100,
    attempts integer DEFAULT 20
) RETURNS bigint
LANGUAGE sql AS $$
    SELECT id FROM orderly_enqueue_jobs(job_queue, job_kind, ARRAY[job_args], ARRAY[unique_key], delay_seconds,
                                        job_priority, attempts) AS e(id)
$$;

-- The notification trigger (0004) through the same door.
CREATE OR REPLACE FUNCTION orderly_enqueue_notification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orderly_enqueue_jobs(
        'notifications', 'notify',
        array_agg(jsonb_build_object('notification_id', n.id)
                  || CASE WHEN n.order_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('order_id', n.order_id) END
                  ORDER BY n.id),
        array_agg('notify:' || n.id ORDER BY n.id),
        attempts => 10)
    FROM inserted n
    HAVING count(*) > 0;
    RETURN NULL;
END;
$$;

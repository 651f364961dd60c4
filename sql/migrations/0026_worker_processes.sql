-- Worker processes as they report themselves (Oban's peers, Sidekiq's processes): every
-- `orderly worker` upserts its row every --heartbeat-seconds and marks it stopped when it shuts down
-- cleanly. A row not stopped whose last beat is older than three beats is a dead worker (killed, or
-- cut off from the database): its running jobs come back when their leases lapse. Rows of workers
-- stopped or dead for a day are pruned by the prune_jobs sweep. Real time (now()), like the queue.
-- compatibility: additive

CREATE TABLE worker_processes (
    id                text PRIMARY KEY,
    host              text NOT NULL,
    pid               integer NOT NULL,
    queues            text[] NOT NULL,
    concurrency       integer NOT NULL CHECK (concurrency > 0),
    heartbeat_seconds double precision NOT NULL CHECK (heartbeat_seconds > 0),
    jobs_running      integer NOT NULL DEFAULT 0 CHECK (jobs_running >= 0),
    started_at        timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    stopped_at        timestamptz
);

COMMENT ON TABLE worker_processes IS 'One row per orderly worker process, upserted by its heartbeat.';

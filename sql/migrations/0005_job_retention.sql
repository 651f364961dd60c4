-- Finished jobs by when they finished: what the prune_jobs sweep deletes once past their retention
-- (completed and cancelled after a day, discarded after a week, by default; see `orderly worker`).
-- Jobs are the queue's bookkeeping, not the domain's history: orders, events, ledgers and shipments
-- keep that (DESIGN.md invariant 6 is about those).
CREATE INDEX jobs_finished ON jobs (completed_at) WHERE state IN ('completed', 'cancelled', 'discarded');

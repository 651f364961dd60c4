-- Replies of mutating admin commands sent with idem=KEY: a replay returns the stored reply, the same
-- key with another request is refused. The key is claimed (reply NULL) before the command runs and
-- the reply stored after it commits, so a command runs at most once per key.
CREATE TABLE admin_idempotency (
    principal       text NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    request_hash    text NOT NULL,
    reply           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (principal, key)
);

-- Accepted work lives in PostgreSQL; Redis holds only what can be rebuilt (issue 11).
--
-- investigation_jobs: one row per accepted investigation (the thread's investigation key), written by the
-- edge before it answers Slack. A worker takes a lease (lease_owner, lease_until) and extends it with a
-- heartbeat; a reconciler re-enqueues rows whose lease expired (the worker died) or which Redis forgot
-- (a restart without AOF, or an enqueue that failed while Redis was down).
CREATE TABLE investigation_jobs (
    key           text PRIMARY KEY,
    payload       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempt       integer NOT NULL DEFAULT 0,
    arq_job_id    text,
    lease_owner   text,
    lease_until   timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX investigation_jobs_open_idx ON investigation_jobs (updated_at) WHERE state IN ('queued', 'running');

-- outbox: other jobs (feedback, follow-ups, resolutions, cost reports) the edge accepted while Redis was
-- down; the reconciler hands them to Redis when it is back, then deletes them.
CREATE TABLE job_outbox (
    arq_job_id    text PRIMARY KEY,
    job_name      text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Alert webhooks (Alertmanager, Grafana unified alerting), the incidents they are grouped into, and the
-- REST API's tokens. The bot writes `alerts` before it answers 2xx (persist first); `enqueued_at` NULL is
-- the outbox: rows whose processing job is not in Redis yet (Redis was away), drained when it returns.

CREATE TABLE alert_incidents (
    id                 uuid PRIMARY KEY,
    title              text NOT NULL,
    group_key          text NOT NULL,
    component          text,
    components         text[] NOT NULL DEFAULT '{}',  -- of all its alerts: what related alerts are matched on
    severity           text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    category           text NOT NULL
                       CHECK (category IN ('availability', 'latency', 'errors', 'saturation', 'data', 'security')),
    status             text NOT NULL DEFAULT 'firing' CHECK (status IN ('firing', 'resolved')),
    channel            text,
    root_ts            text,            -- the Slack root message, whose thread the investigation streams into
    investigation_key  text,
    first_alert_id     bigint NOT NULL,  -- only the job of this alert announces the incident (once)
    embedding          vector(384),
    embedding_model    text,
    alert_count        integer NOT NULL DEFAULT 1,
    opened_at          timestamptz NOT NULL,
    last_alert_at      timestamptz NOT NULL,
    resolved_at        timestamptz,
    resolution_posted  boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_incidents_open_idx ON alert_incidents (status, last_alert_at DESC);
CREATE INDEX alert_incidents_group_idx ON alert_incidents (group_key) WHERE status = 'firing';

CREATE TABLE alerts (
    id                bigserial PRIMARY KEY,
    source            text NOT NULL CHECK (source IN ('alertmanager', 'grafana')),
    fingerprint       text NOT NULL,
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz,
    status            text NOT NULL CHECK (status IN ('firing', 'resolved')),
    name              text NOT NULL,
    summary           text NOT NULL DEFAULT '',
    labels            jsonb NOT NULL,
    annotations       jsonb NOT NULL,
    group_key         text NOT NULL,
    generator_url     text,
    received_at       timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    incident_id       uuid REFERENCES alert_incidents (id),
    enqueued_at       timestamptz,      -- NULL: in the outbox
    processed_status  text,             -- the status the worker last processed (a resolve changes it)
    announced         boolean NOT NULL DEFAULT false,  -- said in the incident's thread
    grouped_by        text,             -- why it joined its incident: fingerprint, group_key, component, ...
    UNIQUE (fingerprint, starts_at)     -- a redelivery of the same alert is absorbed
);
CREATE INDEX alerts_outbox_idx ON alerts (id) WHERE enqueued_at IS NULL;
CREATE INDEX alerts_incident_idx ON alerts (incident_id);
CREATE INDEX alerts_fingerprint_idx ON alerts (fingerprint, starts_at DESC);

-- REST API tokens: only a SHA-256 of the secret is kept. Scopes: read, feedback, admin.
CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    scopes      text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'feedback', 'admin']::text[]),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

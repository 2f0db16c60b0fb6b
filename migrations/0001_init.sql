-- COMPASS knowledge store: the first schema.
-- Applied by `compass migrate` inside one transaction. Never edit an applied migration: add a new file.

CREATE EXTENSION IF NOT EXISTS vector;

-- Who may see a row. personal = one user (owner), team = one team (team_id), org = everybody.
-- Every scoped table repeats these three columns and this check, so that a query filters on one row.

CREATE TABLE teams (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A Slack channel belongs to one team; knowledge from that channel is that team's.
CREATE TABLE slack_channel_teams (
    channel_id  text PRIMARY KEY,
    team_id     text NOT NULL REFERENCES teams (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
    id          uuid PRIMARY KEY,
    title       text NOT NULL,
    service     text,
    signal      text,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    scope       text NOT NULL CHECK (scope IN ('personal', 'team', 'org')),
    owner       text,
    team_id     text REFERENCES teams (id),
    CHECK (scope <> 'personal' OR owner IS NOT NULL),
    CHECK (scope <> 'team' OR team_id IS NOT NULL)
);

CREATE TABLE investigations (
    id               uuid PRIMARY KEY,
    incident_id      uuid NOT NULL REFERENCES incidents (id),
    -- A retried job presents the same key and resumes the same investigation.
    idempotency_key  text NOT NULL UNIQUE,
    trigger          text NOT NULL CHECK (trigger IN ('slack_thread', 'alert', 'cli', 'api')),
    trigger_ref      text,            -- alert fingerprint, Slack permalink, ...
    requested_by     text,
    incident_json    jsonb NOT NULL,  -- the domain Incident (symptom, window, ...)
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 1,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX investigations_started_idx ON investigations (started_at DESC);
CREATE INDEX investigations_incident_idx ON investigations (incident_id);

-- The latest state of each hypothesis; its evidence lives in `evidence`.
CREATE TABLE hypotheses (
    investigation_id  uuid NOT NULL REFERENCES investigations (id) ON DELETE CASCADE,
    key               text NOT NULL,  -- "<component>/<fault>"
    seq               integer NOT NULL,  -- order in which it was proposed
    component         text NOT NULL,
    fault             text NOT NULL,
    prior             double precision NOT NULL,
    origin            text NOT NULL,
    status            text NOT NULL,
    confidence        double precision NOT NULL DEFAULT 0,
    score             double precision NOT NULL DEFAULT 0,
    rationale         text NOT NULL DEFAULT '',
    refuted_because   text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (investigation_id, key)
);

CREATE TABLE checks (
    id                bigserial PRIMARY KEY,
    investigation_id  uuid NOT NULL REFERENCES investigations (id) ON DELETE CASCADE,
    hypothesis_key    text NOT NULL,
    description       text NOT NULL,
    source            text NOT NULL,
    query             text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (investigation_id, hypothesis_key, query)
);

CREATE TABLE evidence (
    id                bigserial PRIMARY KEY,
    investigation_id  uuid NOT NULL REFERENCES investigations (id) ON DELETE CASCADE,
    hypothesis_key    text,           -- NULL: an observation not tied to one hypothesis
    source            text NOT NULL,
    query             text NOT NULL,
    observation       text NOT NULL,
    link              text,
    value             double precision,
    stance            text NOT NULL CHECK (stance IN ('supports', 'refutes', 'neutral')),
    weight            double precision NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_investigation_idx ON evidence (investigation_id, hypothesis_key);

CREATE TABLE verdicts (
    investigation_id  uuid PRIMARY KEY REFERENCES investigations (id) ON DELETE CASCADE,
    verdict           text NOT NULL CHECK (verdict IN ('root_cause', 'inconclusive')),
    component         text,           -- the top root cause, NULL when inconclusive
    fault             text,
    confidence        double precision,
    verdict_json      jsonb NOT NULL, -- the whole domain Verdict, as `compass investigate --json` prints it
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Feedback from every channel (Slack reply, Slack button, CLI) lands here: who said what, when.
-- kind = 'confirmed': the verdict's cause was right; 'corrected': the actual cause was another one.
CREATE TABLE corrections (
    id                bigserial PRIMARY KEY,
    investigation_id  uuid NOT NULL REFERENCES investigations (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('confirmed', 'corrected')),
    component         text NOT NULL,  -- the cause that was actually at fault
    fault             text NOT NULL,
    wrong_component   text,           -- what COMPASS had said, when it was wrong
    wrong_fault       text,
    author            text NOT NULL,
    channel           text NOT NULL CHECK (channel IN ('slack', 'cli', 'api')),
    note              text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX corrections_investigation_idx ON corrections (investigation_id, created_at DESC);

CREATE TABLE resolutions (
    id                bigserial PRIMARY KEY,
    investigation_id  uuid NOT NULL REFERENCES investigations (id) ON DELETE CASCADE,
    text              text NOT NULL,
    author            text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per incident signature: the investigation's, or a promoted pattern's (redacted copy).
-- The outcome columns are the latest feedback, copied here so that memory is one indexed scan.
CREATE TABLE incident_signatures (
    id                 bigserial PRIMARY KEY,
    investigation_id   uuid UNIQUE REFERENCES investigations (id) ON DELETE CASCADE,
    scope              text NOT NULL CHECK (scope IN ('personal', 'team', 'org')),
    owner              text,
    team_id            text REFERENCES teams (id),
    symptom            text NOT NULL,
    components         text[] NOT NULL DEFAULT '{}',
    fingerprint        jsonb NOT NULL DEFAULT '[]',  -- ordered anomaly steps: signal, component, onset
    features           text[] NOT NULL DEFAULT '{}', -- structured tokens, e.g. 'first:payments-db'
    embedding          vector(384) NOT NULL,
    embedding_model    text NOT NULL,
    confirmed_component text,
    confirmed_fault     text,
    wrong_component     text,
    wrong_fault         text,
    confirmed_by        text,
    confirmed_at        timestamptz,
    resolution          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (scope <> 'personal' OR owner IS NOT NULL),
    CHECK (scope <> 'team' OR team_id IS NOT NULL)
);
CREATE INDEX incident_signatures_embedding_idx
    ON incident_signatures USING hnsw (embedding vector_cosine_ops);

-- Knowledge promoted on purpose to a wider scope (always redacted first).
CREATE TABLE learned_patterns (
    id                   bigserial PRIMARY KEY,
    signature_id         bigint NOT NULL UNIQUE REFERENCES incident_signatures (id) ON DELETE CASCADE,
    promoted_from        bigint REFERENCES incident_signatures (id) ON DELETE SET NULL,
    scope                text NOT NULL CHECK (scope IN ('personal', 'team', 'org')),
    owner                text,
    team_id              text REFERENCES teams (id),
    component            text NOT NULL,
    fault                text NOT NULL,
    summary              text NOT NULL,
    promoted_by          text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (scope <> 'personal' OR owner IS NOT NULL),
    CHECK (scope <> 'team' OR team_id IS NOT NULL)
);

-- The cost ledger: one row per LLM call. usd NULL means "price unknown", never zero.
CREATE TABLE llm_calls (
    id                bigserial PRIMARY KEY,
    investigation_id  uuid REFERENCES investigations (id) ON DELETE SET NULL,
    phase             text NOT NULL,
    provider          text NOT NULL,
    model             text NOT NULL,
    tokens_in         integer NOT NULL CHECK (tokens_in >= 0),
    tokens_out        integer NOT NULL CHECK (tokens_out >= 0),
    tokens_cached     integer NOT NULL DEFAULT 0 CHECK (tokens_cached >= 0),
    usd               numeric(14, 6),
    latency_ms        integer NOT NULL CHECK (latency_ms >= 0),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_calls_created_idx ON llm_calls (created_at);
CREATE INDEX llm_calls_investigation_idx ON llm_calls (investigation_id);

CREATE TABLE slack_threads (
    channel_id         text NOT NULL,
    thread_ts          text NOT NULL,
    investigation_id   uuid NOT NULL REFERENCES investigations (id) ON DELETE CASCADE,
    status_message_ts  text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, thread_ts)
);
CREATE INDEX slack_threads_investigation_idx ON slack_threads (investigation_id);

-- Every tool call COMPASS made (read-only by design; this is the proof).
CREATE TABLE tool_calls (
    id                bigserial PRIMARY KEY,
    investigation_id  uuid REFERENCES investigations (id) ON DELETE SET NULL,
    server            text NOT NULL,
    tool              text NOT NULL,
    arguments         jsonb NOT NULL,
    status            text NOT NULL CHECK (status IN ('ok', 'no_data', 'error', 'timeout', 'denied')),
    error             text,
    duration_ms       integer NOT NULL CHECK (duration_ms >= 0),
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tool_calls_investigation_idx ON tool_calls (investigation_id, created_at);

-- Model calls that COMPASS did not make because the built-in engine or a known pattern had already settled the question.
-- `compass cost` and /compass cost report them as "calls avoided".
CREATE TABLE llm_calls_avoided (
    id                bigserial PRIMARY KEY,
    investigation_id  uuid REFERENCES investigations (id) ON DELETE SET NULL,
    phase             text NOT NULL,
    reason            text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_calls_avoided_created_idx ON llm_calls_avoided (created_at);

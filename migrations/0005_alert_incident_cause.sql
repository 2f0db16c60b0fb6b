-- The root component an alert incident's investigation named (a root_cause verdict). Once it is known,
-- grouping asks "is this alert about that component or a caller of it?" instead of guessing the cause
-- from the incident's alerts (compass_worker/alerts/grouping.py).
ALTER TABLE alert_incidents ADD COLUMN cause_component text;
-- The worker looks the incident up by its investigation's thread key after every verdict.
CREATE INDEX alert_incidents_investigation_idx ON alert_incidents (investigation_key)
    WHERE investigation_key IS NOT NULL;

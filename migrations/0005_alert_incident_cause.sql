-- The root component an alert incident's investigation named (a root_cause verdict). Once it is known,
-- grouping asks "is this alert about that component or a caller of it?" instead of guessing the cause
-- from the incident's alerts (compass_worker/alerts/grouping.py).
ALTER TABLE alert_incidents ADD COLUMN cause_component text;

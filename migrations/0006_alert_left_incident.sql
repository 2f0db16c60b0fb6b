-- Re-pinning (compass_worker/alerts/store.py `pin_cause`): an alert a pinned cause detached remembers the
-- incident it left, so that a correction naming a cause it is on the path of brings it back; an incident
-- every alert of which went back is closed as merged into the incident they rejoined.
ALTER TABLE alerts ADD COLUMN left_incident uuid;
CREATE INDEX alerts_left_incident_idx ON alerts (left_incident) WHERE left_incident IS NOT NULL;
ALTER TABLE alert_incidents ADD COLUMN merged_into uuid;

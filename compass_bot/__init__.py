"""COMPASS' edge: verifies Slack requests, acknowledges within 3 s, deduplicates, records and enqueues.

It imports only `compass_worker.contracts` from the worker side (job names and payloads), never the engine.
"""

"""Prometheus metrics of the edge (one registry per app, so tests can build several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class EdgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "compass_slack_requests_total",
            "Slack requests by HTTP status",
            ["status"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "compass_slack_ack_seconds",
            "time from receiving a Slack request to answering it",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
            registry=self.registry,
        )
        self.duplicates = Counter(
            "compass_slack_duplicate_events_total",
            "retried or repeated deliveries dropped",
            registry=self.registry,
        )
        self.rejected = Counter(
            "compass_slack_rejected_total",
            "requests refused before or while processing (malformed, unsigned, stale, bad content)",
            ["status"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "compass_jobs_enqueued_total", "jobs handed to the workers", ["job"], registry=self.registry
        )
        self.alerts = Counter(
            "compass_webhook_alerts_total",
            "alerts received by webhook source",
            ["source"],
            registry=self.registry,
        )
        self.webhook_seconds = Histogram(
            "compass_webhook_seconds",
            "time from receiving an alert webhook to answering it (persisted)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

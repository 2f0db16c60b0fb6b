"""Shared steps of the alert tests: webhook bodies shaped like the real Alertmanager 0.25 capture."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from compass_bot.settings import BotSettings
from compass_testing import FakeSlack, SlackMessage
from compass_worker.alerts.settings import AlertSettings
from compass_worker.knowledge.settings import EmbedderKind, KnowledgeSettings
from compass_worker.service.settings import ServiceSettings, WorkerConfig
from compass_worker.settings import Settings

CHANNEL = "CALERTS"
AM_TOKEN = "am-webhook-token"
GRAFANA_SECRET = "grafana-hmac-secret"
SLACK_TOKEN = "xoxb-test-token"
SIGNING_SECRET = "test-signing-secret"
REFERENCE = Path(__file__).resolve().parents[1] / "alerts" / "data"


def reference_body(status: str = "firing") -> dict[str, Any]:
    """The body a real Alertmanager 0.25 posted (captured; see /work/shared/reference)."""
    return json.loads((REFERENCE / f"alertmanager-0.25-webhook-{status}.json").read_text())


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def alert_body(
    *,
    name: str,
    service: str,
    summary: str,
    starts_at: float,
    fingerprint: str,
    status: str = "firing",
    severity: str = "critical",
    extra_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The captured body with one alert rewritten (labels, times, fingerprint), as Alertmanager sends it."""
    body = copy.deepcopy(reference_body("firing"))
    labels = {
        "alertname": name,
        "service": service,
        "severity": severity,
        "team": "payments",
        **(extra_labels or {}),
    }
    alert = body["alerts"][0]
    alert.update(
        status=status,
        labels=labels,
        annotations={"summary": summary, "description": summary},
        startsAt=iso(starts_at),
        endsAt=iso(starts_at + 600) if status == "resolved" else "0001-01-01T00:00:00Z",
        fingerprint=fingerprint,
    )
    body.update(
        status=status,
        groupLabels={"alertname": name, "service": service},
        commonLabels=labels,
        commonAnnotations=alert["annotations"],
        groupKey=f'{{}}:{{alertname="{name}", service="{service}"}}',
    )
    return body


async def post_alertmanager(http: httpx.AsyncClient, body: object, token: str = AM_TOKEN) -> httpx.Response:
    return await http.post(
        "/webhooks/alertmanager", content=json.dumps(body), headers={"Authorization": f"Bearer {token}"}
    )


def worker_config(redis_url: str, slack_url: str, db_url: str, **alerts: object) -> WorkerConfig:
    return WorkerConfig(
        service=ServiceSettings.model_validate(
            {
                "slack_bot_token": SLACK_TOKEN,
                "slack_api_url": slack_url,
                "redis_url": redis_url,
                "status_interval_s": 0.2,
            }
        ),
        engine=Settings(),
        knowledge=KnowledgeSettings(database_url=db_url, embedder=EmbedderKind.HASHING, auto_migrate=False),
        alerts=AlertSettings.model_validate({"channel": CHANNEL, **alerts}),
    )


def roots(slack: FakeSlack, channel: str = CHANNEL) -> list[SlackMessage]:
    """Top-level messages in the channel: one per announced incident."""
    found = [m for m in slack.messages.values() if m.channel == channel and m.thread_ts is None]
    return sorted(found, key=lambda m: float(m.ts))


def verdicts(messages: list[SlackMessage]) -> list[SlackMessage]:
    return [m for m in messages if any(isinstance(b, dict) and b.get("type") == "actions" for b in m.blocks)]


def bot_settings(redis_url: str, slack_url: str, db_url: str) -> BotSettings:
    return BotSettings.model_validate(
        {
            "slack_bot_token": SLACK_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack_url,
            "redis_url": redis_url,
            "database_url": db_url,
            "alertmanager_token": AM_TOKEN,
            "grafana_hmac_secret": GRAFANA_SECRET,
            "outbox_interval_s": 0.2,
        }
    )

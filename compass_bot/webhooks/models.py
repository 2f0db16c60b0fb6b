"""The webhook bodies Alertmanager (v4) and Grafana unified alerting post, and the one alert row both become.

Grafana's body is Alertmanager's with extras (orgId, title, state, message; per alert values and URLs), so
one model with optional extras validates both. Every string is cleaned of NUL and other control characters
(PostgreSQL refuses NUL in text and jsonb) and bounded, so hostile text is refused or cleaned here — before
anything is written — and never turns into a server error later.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

AlertSource = Literal["alertmanager", "grafana"]
AlertStatus = Literal["firing", "resolved"]

MAX_ALERTS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Alertmanager's "not set" endsAt is 0001-01-01T00:00:00Z; anything before the epoch means "no end".
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clean(value: str) -> str:
    return _CONTROL.sub("", value)


Text = Annotated[str, Field(max_length=16_384), AfterValidator(_clean)]
Name = Annotated[str, Field(max_length=1024), AfterValidator(_clean)]
Labels = Annotated[dict[Name, Text], Field(max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class WebhookAlert(_Body):
    status: AlertStatus
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    generatorURL: Text = ""
    fingerprint: Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9_:.\-]*$")] = ""


class WebhookPayload(_Body):
    """Alertmanager webhook v4 (`version: "4"`) or Grafana unified alerting (`version: "1"`)."""

    version: Literal["4", "1"]
    status: AlertStatus
    receiver: Name = ""
    groupKey: Text = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: Text = ""
    truncatedAlerts: int = Field(default=0, ge=0)
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=MAX_ALERTS)
    # Grafana only
    orgId: int | None = None
    title: Text | None = None
    message: Text | None = None


class AlertRow(BaseModel):
    """One alert as it is stored (`alerts` table): what the worker groups and classifies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: AlertSource
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: AlertStatus
    name: str
    summary: str
    labels: dict[str, str]
    annotations: dict[str, str]
    group_key: str
    generator_url: str | None


def _fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint is a hash of the label set; a sender that omits it gets ours."""
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]


def _summary(annotations: dict[str, str], common: dict[str, str]) -> str:
    for key in ("summary", "title", "description", "message"):
        if value := (annotations.get(key) or common.get(key)):
            return value[:1000]
    return ""


def to_rows(payload: WebhookPayload, source: AlertSource) -> list[AlertRow]:
    """The alerts as rows, one per (fingerprint, startsAt); a repeat inside one body: the last wins."""
    rows: dict[tuple[str, datetime], AlertRow] = {}
    for a in payload.alerts:
        labels = {**payload.commonLabels, **a.labels}
        fingerprint = a.fingerprint or _fingerprint(labels)
        starts_at = a.startsAt.astimezone(UTC)
        ends_at = a.endsAt.astimezone(UTC) if a.endsAt is not None and a.endsAt > _EPOCH else None
        group_key = payload.groupKey or json.dumps(payload.groupLabels or labels, sort_keys=True)
        rows[(fingerprint, starts_at)] = AlertRow(
            source=source,
            fingerprint=fingerprint,
            starts_at=starts_at,
            ends_at=ends_at,
            status=a.status,
            name=labels.get("alertname") or payload.title or "unnamed alert",
            summary=_summary(a.annotations, payload.commonAnnotations),
            labels=labels,
            annotations={**payload.commonAnnotations, **a.annotations},
            group_key=group_key,
            generator_url=a.generatorURL or None,
        )
    return list(rows.values())

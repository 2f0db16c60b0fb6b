"""An Alertmanager webhook body (version 4) as an incident: what fired, on which service, since when.

The first firing alert (else the first alert) is the incident: its `summary` (or `alertname`) and
`description` annotations become the symptom, a service-like label the component, `startsAt` the onset.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compass_worker.errors import ConfigError

# Labels that name the component showing the symptom, most specific first.
SERVICE_LABELS = ("service", "service_name", "app", "application", "component", "job", "container")


class _Alert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    status: str = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None


class _Webhook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    alerts: list[_Alert] = Field(min_length=1)


class AlertIncident(BaseModel):
    model_config = ConfigDict(frozen=True)
    symptom: str
    service: str | None
    since: float | None  # startsAt
    ended: float | None  # endsAt of a resolved alert
    alerts: int


def looks_like_alert(text: str) -> bool:
    return text.lstrip().startswith("{") and '"alerts"' in text


def parse_alert(text: str, source: str) -> AlertIncident:
    try:
        body = _Webhook.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise ConfigError(f"{source} is not an Alertmanager webhook body ({where}: {err['msg']})") from None
    alert = next((a for a in body.alerts if a.status == "firing"), body.alerts[0])
    labels, notes = alert.labels, alert.annotations
    title = notes.get("summary") or labels.get("alertname") or "alert"
    detail = notes.get("description") or notes.get("message")
    symptom = f"{title}: {detail}" if detail and detail not in title else title
    name = labels.get("alertname")
    if name and name not in symptom:
        symptom = f"{symptom} ({name})"
    service = next((labels[k] for k in SERVICE_LABELS if labels.get(k)), None)
    since = alert.startsAt.timestamp() if alert.startsAt and alert.startsAt.year > 1 else None
    ended = (
        alert.endsAt.timestamp()
        if alert.status == "resolved" and alert.endsAt and alert.endsAt.year > 1
        else None
    )
    return AlertIncident(symptom=symptom, service=service, since=since, ended=ended, alerts=len(body.alerts))

"""The text COMPASS posts for alert incidents (Slack mrkdwn; short, so a storm stays readable)."""

from __future__ import annotations

from collections.abc import Sequence

from compass_worker.alerts.store import AlertIncident, StoredAlert
from compass_worker.engine.alert_text import from_alertmanager
from compass_worker.errors import ConfigError

_SEVERITY_ICON = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
}
MAX_LISTED = 8


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def root_text(incident: AlertIncident, first: StoredAlert | None = None) -> str:
    icon = _SEVERITY_ICON.get(incident.severity, ":white_circle:")
    state = "resolved" if incident.status == "resolved" else "firing"
    where = f" on *{_escape(incident.component)}*" if incident.component else ""
    lines = [
        f"{icon} *{incident.severity.upper()}* · {incident.category} · {state}{where}",
        f"*{_escape(incident.title)}*",
    ]
    if first is not None and first.annotations.get("description"):
        lines.append(_escape(first.annotations["description"][:500]))
    alerts = "1 alert" if incident.alert_count == 1 else f"{incident.alert_count} alerts"
    since = int(incident.opened_at.timestamp())
    lines.append(f"{alerts} · since <!date^{since}^{{time}}|{incident.opened_at:%H:%M} UTC>")
    return "\n".join(lines)


def joined_text(alerts: Sequence[StoredAlert]) -> str:
    head = (
        ":link: 1 related alert joined" if len(alerts) == 1 else f":link: {len(alerts)} related alerts joined"
    )
    lines = [head + ":"]
    for a in alerts[:MAX_LISTED]:
        where = f" on {_escape(a.component)}" if a.component else ""
        lines.append(f"• {_escape(a.name)}{where} — {_escape(a.summary[:120])} _({a.grouped_by})_")
    if len(alerts) > MAX_LISTED:
        lines.append(f"… and {len(alerts) - MAX_LISTED} more")
    return "\n".join(lines)


def merged_text(into: AlertIncident | None) -> str:
    """An incident all of whose alerts went back to the incident a corrected cause places them in."""
    where = f" (*{_escape(into.title)}*)" if into is not None else ""
    return (
        f":leftwards_arrow_with_hook: The cause was corrected: these alerts are on its path and rejoined "
        f"the incident they had left{where}. This thread is closed."
    )


def resolved_text(incident: AlertIncident) -> str:
    at = f" at {incident.resolved_at:%H:%M} UTC" if incident.resolved_at else ""
    return f":white_check_mark: All {incident.alert_count} alert(s) of this incident resolved{at}."


def symptom_text(incident: AlertIncident, first: StoredAlert) -> str:
    """What the investigation is asked: the alert's own words, led by its component, with its labels and the
    rule's query as the engine reads an Alertmanager alert (`alert_text.from_alertmanager`): `service="…"`,
    `topic="…"` and the metric names become the investigation's alert facts."""
    as_webhook = {
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": first.labels,
                "annotations": {"summary": first.summary, **first.annotations},
                "startsAt": first.starts_at.isoformat(),
                "generatorURL": first.generator_url or "",
            }
        ],
    }
    try:
        symptoms = from_alertmanager(as_webhook)
    except ConfigError:  # cannot happen for a stored alert; its own words then suffice
        symptoms = []
    words = symptoms[0].symptom if symptoms else (first.summary or first.name)
    if first.component and first.component not in (first.summary or first.name).lower():
        words = f"{first.component} {words}"  # the engine takes the first component it reads as the symptom's
    return words

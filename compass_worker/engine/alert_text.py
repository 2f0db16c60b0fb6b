"""The alert text as evidence: what an alert or an engineer's message names, as structured facts.

"consumer group billing lag on topic invoices above 5000" names a consumer group, a topic, a signal
and a threshold; an Alertmanager webhook carries the same in labels, annotations and the rule's
expression (`generatorURL`). Nothing here decides what exists: names are candidates, checked later
against what discovery listed (a metric is queried only if the datasource has it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qs, urlparse

from pydantic import BaseModel, ConfigDict, ValidationError

from compass_worker.errors import ConfigError

Op = Literal[">", "<"]

# A metric name as PromQL writes it, with at least one separator (a lone word is not a metric name).
_METRIC = re.compile(
    r"(?<![\w:./-])([a-zA-Z_:][a-zA-Z0-9:]*_[a-zA-Z0-9_:]+|[a-z]+[A-Z][a-zA-Z0-9]+|"
    r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*){2,})(?![\w-])"
)
_KV = re.compile(r"\b([a-zA-Z_][a-zA-Z0-9_]*)\s*=~?\s*\"?([A-Za-z0-9_.:/-]+)\"?")
_TOPIC = re.compile(
    r"\btopic\s*[:=]?\s*[\"'`]?([A-Za-z0-9_.-]+)|\b(?:lag|backlog)\s+(?:on|in|of)\s+(?:topic\s+)?([A-Za-z0-9_.-]+)",
    re.I,
)
_GROUP = re.compile(
    r"\b(?:consumer[ _-]?group|consumergroup|group)\s*[:=]?\s*[\"'`]?([A-Za-z0-9_.-]+)|"
    r"\b([A-Za-z0-9_.-]+)\s+consumer(?:\s+group)?\b",
    re.I,
)
_QUEUE = re.compile(r"\bqueue\s*[:=]?\s*[\"'`]?([A-Za-z0-9_.-]+)", re.I)
_THRESHOLD = re.compile(
    r"(?P<op>>=?|<=?|\babove\b|\bover\b|\bexceed(?:s|ing)?\b|\bhigher than\b|\bgreater than\b|"
    r"\bbelow\b|\bunder\b|\blower than\b|\bless than\b)\s*"
    r"(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>%|ms|s|seconds|k|m|messages|msgs|rps|req/s)?(?![\w.])",
    re.I,
)
# A latency percentile as engineers write it: "p99", "p50 latency", "99th percentile".
_PERCENTILE = re.compile(r"\b(?:p(\d{2,3})|(\d{2,3})(?:th)?[ -]percentile)\b", re.I)
_FILLER = frozenset({"the", "a", "an", "is", "of", "on", "in", "for", "and", "high", "low", "its", "this"})
# Label keys that name the component an alert is about, in order of preference.
COMPONENT_KEYS: tuple[str, ...] = (
    "service",
    "service_name",
    "app",
    "application",
    "deployment",
    "workload",
    "job",
    "container",
    "pod",
)
_ALERT_WORDS = frozenset({"group", "consumer", "topic", "lag", "queue", "alert", "alertname", "severity"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Threshold(_Frozen):
    op: Op
    value: float  # in base units: ratios for %, seconds for ms
    text: str


class AlertFacts(_Frozen):
    """Names the alert text mentions. Every one is a candidate until telemetry confirms it."""

    metrics: tuple[str, ...] = ()
    components: tuple[str, ...] = ()  # from key=value labels (service="checkout")
    topics: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # consumer groups
    queues: tuple[str, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # every key=value seen, in order
    quantile: int | None = None  # the latency percentile the text names ("p50 latency" -> 50)

    @property
    def empty(self) -> bool:
        return not (self.metrics or self.components or self.topics or self.groups or self.queues)


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def _threshold(m: re.Match[str]) -> Threshold:
    raw = m.group("op").lower()
    op: Op = ">" if raw.startswith((">", "above", "over", "exceed", "higher", "greater")) else "<"
    value = float(m.group("value"))
    unit = (m.group("unit") or "").lower()
    if unit == "%":
        value /= 100.0
    elif unit == "ms":
        value /= 1000.0
    elif unit == "k":
        value *= 1000.0
    return Threshold(op=op, value=value, text=m.group(0).strip())


def alert_facts(text: str) -> AlertFacts:
    """Metric names, labelled components, topics, consumer groups, queues and thresholds in `text`."""
    labels = [(k, v) for k, v in _KV.findall(text)]
    label_words = {k for k, _ in labels} | {v for k, v in labels if k != "__name__"}
    metrics = [m for m in _METRIC.findall(text) if m not in label_words and not m.startswith("_")]
    by_key: dict[str, list[str]] = {}
    for k, v in labels:
        by_key.setdefault(k.lower(), []).append(v)
    topics = [*by_key.get("topic", []), *(a or b for a, b in _TOPIC.findall(text))]
    groups = [
        *by_key.get("consumergroup", []),
        *by_key.get("consumer_group", []),
        *by_key.get("group", []),
        *(a or b for a, b in _GROUP.findall(text)),
    ]
    queues = [*by_key.get("queue", []), *_QUEUE.findall(text)]
    comps = [v for key in COMPONENT_KEYS for v in by_key.get(key, [])]
    thresholds = [_threshold(m) for m in _THRESHOLD.finditer(text)]
    pct = _PERCENTILE.search(text)
    quantile = int(pct.group(1) or pct.group(2)) if pct else None
    drop = _FILLER | _ALERT_WORDS
    return AlertFacts(
        metrics=_unique([m for m in metrics if m.lower() not in drop]),
        components=_unique([c.lower() for c in comps]),
        topics=_unique([t for t in topics if t.lower() not in drop]),
        groups=_unique([g for g in groups if g.lower() not in drop]),
        queues=_unique([q for q in queues if q.lower() not in drop and q.lower() != "depth"]),
        thresholds=tuple(thresholds),
        labels=tuple(labels),
        quantile=quantile if quantile is not None and 0 < quantile < 1000 else None,
    )


# ------------------------------------------------------------------ Alertmanager webhooks


class _AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str = "firing"
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    startsAt: str = ""  # Alertmanager spells its fields in camelCase
    generatorURL: str = ""


class _AmWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str
    alerts: list[_AmAlert]
    commonLabels: dict[str, str] = {}


class AlertmanagerAlert(_Frozen):
    """One firing alert as a symptom: text to investigate, the component its labels name, when it began."""

    symptom: str
    service: str | None
    starts_at: str | None


def _expr(url: str) -> str:
    """The rule's PromQL from `generatorURL` (`/graph?g0.expr=...`), empty when absent."""
    try:
        query = parse_qs(urlparse(url).query)
    except ValueError:
        return ""
    return next(iter(query.get("g0.expr", [])), "")


def from_alertmanager(body: str | bytes | Mapping[str, object]) -> list[AlertmanagerAlert]:
    """Alertmanager 0.25 webhook (version 4) → one symptom per firing alert. ConfigError if malformed."""
    try:
        hook = (
            _AmWebhook.model_validate(body)
            if isinstance(body, Mapping)
            else _AmWebhook.model_validate_json(body)
        )
    except (ValidationError, json.JSONDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"not an Alertmanager webhook body: {first}") from None
    out: list[AlertmanagerAlert] = []
    for a in hook.alerts:
        if a.status != "firing":
            continue
        labels = {**hook.commonLabels, **a.labels}
        parts = [a.annotations.get("summary", ""), a.annotations.get("description", "")]
        skip = {"severity", "team", "prometheus", "receiver"}
        parts.append(" ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k not in skip))
        expr = _expr(a.generatorURL)
        if expr:
            parts.append(f"expr: {expr}")
        service = next((labels[k].lower() for k in COMPONENT_KEYS if labels.get(k)), None)
        symptom = ". ".join(p.strip().rstrip(".") for p in parts if p.strip())
        out.append(AlertmanagerAlert(symptom=symptom, service=service, starts_at=a.startsAt or None))
    return out

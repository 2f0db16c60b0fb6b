"""Which incident an alert belongs to. Pure decisions over candidates the store has already narrowed to
open incidents within the window; the store applies them under a lock.

In order, the first that holds wins:
1. `fingerprint` — the same alert (re-fired, or a resolve) belongs where it was;
2. `group_key`   — Alertmanager/Grafana already grouped it with an alert of that incident;
3. `component`   — it is about a component the incident's alerts are about;
4. `dependency`  — its component calls one of the incident's (transitively): a caller inherits its callee's
                   fault, so its alert is a symptom of the running incident. The other way round — a
                   component the incident's components call — joins only while the incident is young
                   (`cause_window_s` after it opened): a cause alerting just after its symptoms. Later, a
                   callee of a busy top-level service is more likely a new, unrelated fault;
5. `similar`     — its text is close to the incident's (cosine similarity of embeddings, pgvector), when
                   components cannot be compared (either side names none): the same alert rule firing on
                   two unrelated services is two incidents, however alike the texts;
otherwise a new incident. Among several candidates the most recently active one wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

GroupedBy = Literal["fingerprint", "group_key", "component", "dependency", "similar", "new"]

# Where a component's name is found in an alert's labels, most specific first (OpenTelemetry, Prometheus
# client and exporter conventions).
COMPONENT_LABELS = (
    "service",
    "service_name",
    "app",
    "app_kubernetes_io_name",
    "application",
    "component",
    "deployment",
    "container",
    "database",
    "datname",
    "queue",
    "topic",
    "job",
    "instance",
    "host",
    "node",
)
_PORT = re.compile(r":\d+$")


def component_of(labels: Mapping[str, str]) -> str | None:
    for key in COMPONENT_LABELS:
        if value := labels.get(key, "").strip():
            return _PORT.sub("", value).lower()
    return None


@dataclass(frozen=True)
class Candidate:
    id: UUID
    shares_group_key: bool  # one of its alerts has the new alert's group key
    components: tuple[str, ...]
    opened_at: datetime
    last_alert_at: datetime
    similarity: float | None  # None: no comparable embedding


class DependencyGraph:
    """Directed calls between components; `related()` is true along a path in either direction."""

    def __init__(self, calls: Mapping[str, Sequence[str]]) -> None:
        self._calls = {k.lower(): tuple(v.lower() for v in vs) for k, vs in calls.items()}

    def _reach(self, start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            for nxt in self._calls.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def calls(self, a: str, b: str) -> bool:
        """`a` depends on `b`, directly or through others."""
        return a != b and b in self._reach(a)


@dataclass(frozen=True)
class Decision:
    incident_id: UUID | None  # None: open a new incident
    grouped_by: GroupedBy


def decide(
    *,
    at: datetime,
    fingerprint_incident: UUID | None,
    component: str | None,
    candidates: Sequence[Candidate],
    graph: DependencyGraph,
    similarity: float,
    cause_window_s: float = 300.0,
) -> Decision:
    if fingerprint_incident is not None:
        return Decision(fingerprint_incident, "fingerprint")
    recent = sorted(candidates, key=lambda c: c.last_alert_at, reverse=True)
    for c in recent:
        if c.shares_group_key:
            return Decision(c.id, "group_key")
    if component is not None:
        for c in recent:
            if component in c.components:
                return Decision(c.id, "component")
        for c in recent:
            young = (at - c.opened_at).total_seconds() <= cause_window_s
            if any(
                graph.calls(component, other) or (young and graph.calls(other, component))
                for other in c.components
            ):
                return Decision(c.id, "dependency")
    best = max(
        (
            c
            for c in recent
            if c.similarity is not None
            and c.similarity >= similarity
            and (component is None or not c.components)
        ),
        key=lambda c: c.similarity or 0.0,
        default=None,
    )
    if best is not None:
        return Decision(best.id, "similar")
    return Decision(None, "new")

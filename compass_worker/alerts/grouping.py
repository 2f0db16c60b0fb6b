"""Which incident an alert belongs to. Pure decisions over candidates the store has already narrowed to
open incidents within the window; the store applies them under a lock.

1. `fingerprint` — the same alert (re-fired, or a resolve) belongs where it was, unless it is a new
                   occurrence: its previous one had ended more than `quiet_s` before it began (the store
                   applies this; an alert quiet that long and firing again is a new problem, judged afresh);
Otherwise only incidents that (a) began at most `onset_s` before the alert — the alerts of one cascade
begin within minutes of each other, so one starting later is a new problem even on the same component —
and (b) whose scope labels (cluster, namespace, environment, region, tenant) do not contradict the alert's
are considered, the one that began closest to the alert first, and the first rule that holds for it wins
(unless only rule 4 ties it and another incident may be its fault too, or only rule 3 does while an
incident on infrastructure the map cannot place is current or while the incident itself opened on such a
tie — its suspected causes call the suspected cause of an incident that began before it: it opens its
own, see `decide`):
2. `group_key`   — Alertmanager/Grafana already grouped it with an alert of that incident;
3. `component`   — it is about a component the incident's alerts are about; but once callers have alerted
                   (the incident's deepest components are then its suspected cause, whose alerts begin
                   with it), a new rule on a deepest component beginning more than `cause_window_s` after
                   the incident began is a second fault there — as once a verdict names the cause (below);
4. `dependency`  — its component calls one of the incident's *deepest* components (those that call none of
                   the incident's others, its suspected causes): a caller inherits its callee's fault. Being
                   on a busy gateway's path says nothing (the gateway calls everything); being on the path
                   of the incident's cause does. The other way round — a component the deepest ones call —
                   joins only while the incident is young (`cause_window_s`): a cause alerting late; and
                   not when the incident's deepest components call the suspected cause of an incident that
                   began before it (its alerts already have a likely cause there: the callee is a fault
                   of its own, and opens its own incident);
5. `similar`     — its text is close to the incident's (cosine similarity of embeddings, pgvector), when
                   components cannot be compared (either side names none) and no owner label (team)
                   disagrees: the same alert rule firing on two unrelated services is two incidents;
otherwise a new incident.

Once the incident's investigation has named its cause (a `root_cause` verdict, or a correction in its
thread: `cause` below), rules 3–4 ask about that component instead of guessing the cause from the
incident's alerts: the cause and its callers belong; a callee alerting now, a component an earlier alert
brought in that the dependency map places off the cause's path, or a new rule on the cause itself beginning
more than `cause_window_s` after the incident, is another problem. The alerts that had already joined off
that path (`off_path`) leave the incident when the cause is pinned and are grouped
again without it (`AlertIncidentStore.pin_cause`): a callee that joined a young incident as its possible
cause, or an unrelated alert, stops riding on another fault's verdict.

Measured on labelled lab storms (benchmarks/alerts.py): the onset bound and the deepest-component rule
cut wrong merges most, then the ambiguous-dependency rule and detaching at the pin; each split costs a
notification, never a wrong verdict. The explained-incident limit on callees (rule 4) took the 5-min
alerts-only dev cell from 38 to 33 wrong merges (noise reduction 53.9 → 53.5 %), other cells unchanged;
then the same limit on a shared component (rule 3) 33 → 29 there and 18 → 17 at 30 min (noise
reduction −0.3 and −0.1 points), every other cell unchanged; then a late new rule on the suspected cause
once callers have alerted (rule 3) 29 → 25 at 5 min and 17 → 16 at 30 min (−0.4 points at 5 min), the
cells with verdicts and at 120 min unchanged — without the callers condition it split a gateway's own
later 5xx from its bad rollout and raised the 120-min cells. Tried and dropped (dev): a tighter onset for
dependency joins than for component joins (180 s: 5-min alerts only 29 → 26 for about a point of noise
reduction in every cell; 20 → 22 with verdicts when it bounds pinned incidents too), callees
never joining (fewest wrong merges at 5 and 30 min, but the 120-min cells rise: a cause alerting a second
after its symptom opens an incident of its own), and a shared group key refused by an incident that opened
on a tie (5-min + verdicts 20 → 17, but every pod of an ambiguous symptom then opens its own incident:
−4.6 points of noise reduction at 5 min).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


# Scope labels: where an alert fires. Two alerts that disagree on one of these are about different
# deployments (another cluster, namespace, environment or region), however their components are named.
SCOPE_LABELS = (
    "cluster",
    "k8s_cluster",
    "namespace",
    "env",
    "environment",
    "region",
    "datacenter",
    "dc",
    "tenant",
)
# Owner labels: alike texts owned by different teams are different problems (a shared alert rule).
OWNER_LABELS = ("team", "owner", "squad")


def scope_of(labels: Mapping[str, str], keys: Sequence[str] = SCOPE_LABELS) -> dict[str, str]:
    return {k: v.strip().lower() for k in keys if (v := labels.get(k, "")).strip()}


def _conflict(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    return any(b.get(k, v) != v for k, v in a.items())


@dataclass(frozen=True)
class Candidate:
    id: UUID
    shares_group_key: bool  # one of its alerts has the new alert's group key
    components: tuple[str, ...]
    opened_at: datetime
    last_alert_at: datetime
    similarity: float | None  # None: no comparable embedding
    labels: Mapping[str, str] = field(default_factory=dict)  # its first alert's labels
    # The root component its investigation named (a `root_cause` verdict), once there is one.
    cause: str | None = None


class DependencyGraph:
    """Directed calls between components; `related()` is true along a path in either direction."""

    def __init__(self, calls: Mapping[str, Sequence[str]]) -> None:
        self._calls = {k.lower(): tuple(v.lower() for v in vs) for k, vs in calls.items()}
        self._nodes = set(self._calls).union(*self._calls.values())
        self._placed = {k for k, vs in self._calls.items() if vs}.union(*self._calls.values())

    def _reach(self, start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            for nxt in self._calls.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def deepest(self, components: Sequence[str]) -> list[str]:
        """The components that call none of the others (where a fault among them most likely began)."""
        return [a for a in components if not any(self.calls(a, b) for b in components)]

    def places(self, component: str) -> bool:
        """The map names a call to or from `component`. Shared infrastructure (DNS, a node) is often
        listed without any, or not at all: the map cannot say which components depend on it."""
        return component in self._placed

    def knows(self, component: str) -> bool:
        """The map says what `component` calls or what calls it."""
        return component in self._nodes

    def calls(self, a: str, b: str) -> bool:
        """`a` depends on `b`, directly or through others."""
        return a != b and b in self._reach(a)


@dataclass(frozen=True)
class GroupingPolicy:
    window_s: float  # after an incident's last alert
    similarity: float
    graph: DependencyGraph
    cause_window_s: float = 120.0
    onset_s: float = 240.0
    quiet_s: float = 600.0  # a fingerprint silent this long after it ended fires a new occurrence


def off_path(component: str | None, cause: str, graph: DependencyGraph) -> bool:
    """An alert on `component` is not about `cause`: the dependency map places it neither on the cause nor
    on a caller of it (a callee, or unrelated). Without a map to say so (or a component), it stays."""
    if component is None or component == cause or graph.calls(component, cause):
        return False
    return graph.knows(component) and graph.knows(cause)


@dataclass(frozen=True)
class Decision:
    incident_id: UUID | None  # None: open a new incident
    grouped_by: GroupedBy


def _related(
    c: Candidate, at: datetime, component: str | None, graph: DependencyGraph, cause_window_s: float
) -> GroupedBy | None:
    if c.shares_group_key:
        return "group_key"
    if component is None:
        return None
    if c.cause is not None:
        # The investigation has named the incident's cause: what it is about is now known, not guessed
        # from its alerts. The cause and its callers (which inherit its fault) belong; a callee alerting
        # now is another fault, and so is a component an earlier alert brought in that the dependency map
        # says is not on the cause's path. Without a map to say so, its components still count.
        if component == c.cause:
            # The cause's own alerts begin with the incident; a new alert on it long after (no shared group
            # key: another rule) is a second fault on the same component, as a late callee is another.
            young = (at - c.opened_at).total_seconds() <= cause_window_s
            return "component" if young else None
        if graph.calls(component, c.cause):
            return "dependency"
        return "component" if component in c.components and not off_path(component, c.cause, graph) else None
    young = (at - c.opened_at).total_seconds() <= cause_window_s
    if component in c.components:
        # Once callers have alerted, the deepest components are the cascade's suspected cause, and a
        # cause's alerts begin with its incident (before its callers'): a new rule on one of them long
        # after is a second fault there, as it is once a verdict names the cause (above). Alone, a
        # component may be a symptom whose own later rules are the same problem.
        deepest = graph.deepest(c.components)
        if not young and component in deepest and len(deepest) < len(c.components):
            return None
        return "component"
    # Only the incident's deepest components count (those none of its others call: its suspected
    # causes). A gateway calls everything, so being on its path says nothing; being on the path of the
    # incident's cause does.
    if any(
        graph.calls(component, other) or (young and graph.calls(other, component))
        for other in graph.deepest(c.components)
    ):
        return "dependency"
    return None


def _unplaced(c: Candidate, graph: DependencyGraph) -> bool:
    """The incident's cause (named, or else each of its components) is nowhere in the dependency map's
    calls: the map cannot say what depends on it."""
    causes = (c.cause,) if c.cause is not None else c.components
    return bool(causes) and not any(graph.places(x) for x in causes)


def _suspects(c: Candidate, graph: DependencyGraph) -> Sequence[str]:
    """Where the incident's fault is: its named cause, else its deepest components."""
    return (c.cause,) if c.cause is not None else graph.deepest(c.components)


def _explained(c: Candidate, current: Sequence[Candidate], graph: DependencyGraph) -> bool:
    """The incident's suspected causes call a suspected cause of an incident that began no later: its
    alerts may well be that one's symptoms (it opened on a tie), so it is not waiting for a cause of its
    own to alert."""
    return any(
        graph.calls(mine, theirs)
        for o in current
        if o is not c and o.opened_at <= c.opened_at
        for theirs in _suspects(o, graph)
        for mine in _suspects(c, graph)
    )


def decide(
    *,
    at: datetime,
    fingerprint_incident: UUID | None,
    component: str | None,
    candidates: Sequence[Candidate],
    graph: DependencyGraph,
    similarity: float,
    labels: Mapping[str, str] | None = None,
    cause_window_s: float = 120.0,
    onset_s: float = 240.0,
) -> Decision:
    if fingerprint_incident is not None:
        return Decision(fingerprint_incident, "fingerprint")
    labels = labels or {}
    scope = scope_of(labels)
    # Related alerts begin together: one that starts long after an incident's onset is a new problem,
    # even on the same component (its own re-fires are caught by the fingerprint above).
    current = [
        c
        for c in candidates
        if (at - c.opened_at).total_seconds() <= onset_s and not _conflict(scope, scope_of(c.labels))
    ]
    # The incident that began closest to this alert first: the likeliest to share its cause. Each
    # candidate is judged by every rule before a farther one is: an older incident that shares a group
    # key must not take an alert whose own incident has just opened beside it.
    recent = sorted(current, key=lambda c: abs((at - c.opened_at).total_seconds()))
    related = [(c, how) for c in recent if (how := _related(c, at, component, graph, cause_window_s))]
    if related:
        c, how = related[0]
        # Only the dependency map ties it to this incident, and another current incident may be its
        # fault as well: one that a rule also relates it to, or one whose cause is a component the map
        # cannot place (no call to or from it: DNS, a node), which anything may depend on. An incident
        # of its own (a notification more) rather than a guess that rides on another fault's
        # investigation; its later alerts join it by group key.
        if how == "dependency" and (
            len(related) > 1 or any(_unplaced(o, graph) for o in recent if o is not c)
        ):
            return Decision(None, "new")
        # A callee joins a young incident as the cause it has not yet alerted about; but when the
        # incident's suspected causes call into an incident that began before it, its alerts already have
        # a likely cause there, and a callee alerting now is more likely a fault of its own.
        if (
            how == "dependency"
            and component is not None
            and not any(graph.calls(component, x) for x in _suspects(c, graph))
            and _explained(c, recent, graph)
        ):
            return Decision(None, "new")
        # The same holds for a component the incident shares but does not name as its cause: while an
        # incident on infrastructure the map cannot place is current, the component's new rule may as
        # well be that one's; and when the incident is itself explained by an earlier one (it opened on a
        # tie: its components call that one's cause too), the component's new rule is as much a guess as
        # its first was. An incident its own rule's alerts already went to (group key) still takes it.
        if (
            how == "component"
            and c.cause != component
            and (
                any(_unplaced(o, graph) for o in recent if o is not c)
                or (c.cause is None and _explained(c, recent, graph))
            )
        ):
            keyed = next((o for o, h in related if h == "group_key"), None)
            return Decision(keyed.id, "group_key") if keyed is not None else Decision(None, "new")
        return Decision(c.id, how)
    owner = scope_of(labels, OWNER_LABELS)
    best = max(
        (
            c
            for c in recent
            if c.similarity is not None
            and c.similarity >= similarity
            and (component is None or not c.components)
            and not _conflict(owner, scope_of(c.labels, OWNER_LABELS))
        ),
        key=lambda c: c.similarity or 0.0,
        default=None,
    )
    if best is not None:
        return Decision(best.id, "similar")
    return Decision(None, "new")

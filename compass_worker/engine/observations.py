"""What the engine has seen so far: per-component signal series, log templates, trace findings.

Everything here is plain data gathered by the act phase and read by the judge. Each series keeps the
exact query that produced it and its Explore link, so that any claim built on it can cite both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from compass_worker.engine.onset import Anomaly, Direction, analyse

# Floors for the robust scale per unit, so that a flat baseline does not turn noise into "20 sigma".
_ABS_FLOOR: dict[str, float] = {
    "ratio": 0.004,
    "s": 0.004,
    "req/s": 0.05,
    "cores": 0.01,
    "bytes": 1e6,
    "count": 0.25,
    "flag": 0.1,
    "requests": 0.5,
    "per s": 0.02,
    "locks": 1.0,
    "messages": 5.0,
    "lines/min": 1.0,
    "lines/5m": 0.5,
}


@dataclass
class SignalSeries:
    component: str
    signal: str
    peer: str | None
    timestamps: tuple[float, ...]
    values: tuple[float, ...]
    query: str
    link: str | None
    family: str
    unit: str
    bad: Direction
    floor: float | None = None
    specific: bool = True  # from a component-specific convention (redis_up), not a generic one (up)
    # 1.0 for a catalog mapping; an inferred mapping (signal discovery) carries its confidence, and
    # its departures count for that fraction of their sigmas: it must move further to weigh as much.
    trust: float = 1.0
    _cache: dict[tuple[str, float | None], Anomaly | None] = field(default_factory=dict, repr=False)

    def anomaly(
        self, direction: Direction | None = None, baseline_until: float | None = None
    ) -> Anomaly | None:
        d = direction or self.bad
        key = (d, baseline_until)
        if key not in self._cache:
            a = analyse(
                self.timestamps,
                self.values,
                d,
                baseline_until=baseline_until,
                abs_floor=self.floor if self.floor is not None else _ABS_FLOOR.get(self.unit, 1e-6),
            )
            if a is not None and self.trust < 1.0:
                a = replace(a, z_peak=a.z_peak * self.trust)
            self._cache[key] = a
        return self._cache[key]


@dataclass(frozen=True)
class VersionChange:
    component: str
    old: tuple[str, ...]
    new: str
    at: float  # first time the new version was seen
    query: str
    link: str | None


@dataclass(frozen=True)
class TraceFinding:
    component: str
    kind: str  # "error_origin" | "self_time" | "edge_self_time" | "edge_passthrough"
    # error_origin: share of failing traces; edge_self_time: share of the largest extra own time on an
    # edge; self_time, edge_passthrough: ratio against the baseline
    value: float
    detail: str
    query: str
    link: str | None = None


@dataclass
class Observations:
    series: dict[tuple[str, str, str | None], SignalSeries] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # component -> kind, from its own telemetry
    peer_kinds: dict[str, str] = field(default_factory=dict)  # kind as its callers describe it
    versions: dict[str, VersionChange] = field(default_factory=dict)
    hosts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # host -> components
    log_rules_checked: set[str] = field(default_factory=set)  # log-rule signals whose query ran
    mentions: dict[str, dict[str, int]] = field(
        default_factory=dict
    )  # rule signal -> named component -> lines
    examples: dict[str, str] = field(default_factory=dict)  # rule signal -> one matching line
    log_component_label: str | None = None
    log_values: dict[str, set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )  # component -> raw values
    traces: list[TraceFinding] = field(default_factory=list)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)  # (caller, callee) -> source
    gaps: list[str] = field(default_factory=list)
    metric_names: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    inferred: list[str] = field(default_factory=list)  # signal mappings discovery inferred (and used)
    alert: list[str] = field(default_factory=list)  # what the names in the alert text showed
    templates: list[str] = field(default_factory=list)  # log templates new or grown after the onset

    def findings(self) -> tuple[str, ...]:
        """Lines for the verdict beyond anomalies: what the alert's names showed, log-template bursts."""
        return (*self.alert, *self.templates[:4])

    def add(self, s: SignalSeries) -> None:
        """Keep one series per (component, signal, peer): a component-specific convention over a generic
        one (redis_up says whether Redis answers; `up` only that its exporter does), then the longest,
        ties broken by family then query — the same telemetry always yields the same evidence."""
        key = (s.component, s.signal, s.peer)
        prev = self.series.get(key)
        rank_new = (s.specific, len(s.values), prev.family if prev else "", prev.query if prev else "")
        rank_old = (prev.specific, len(prev.values), s.family, s.query) if prev else None
        if rank_old is None or rank_new > rank_old:
            self.series[key] = s

    def get(self, component: str, signal: str) -> SignalSeries | None:
        return self.series.get((component, signal, None))

    def inbound(self, component: str, signal: str) -> list[SignalSeries]:
        return [
            s for (c, sig, p), s in self.series.items() if p == component and sig == signal and c != component
        ]

    def outbound(self, component: str, signal: str) -> list[SignalSeries]:
        return [
            s for (c, sig, p), s in self.series.items() if c == component and sig == signal and p is not None
        ]

    def components(self) -> set[str]:
        names = {c for c, _, _ in self.series} | {p for _, _, p in self.series if p}
        names |= set(self.kinds) | set(self.log_values) | {t.component for t in self.traces}
        for a, b in self.edges:
            names |= {a, b}
        return {n for n in names if n}

    def kind_of(self, component: str) -> str:
        """Own telemetry first; then what callers say (a db client's peer); else service or external.
        A store seen only through its volume's stats (its exporter missing) is what its callers call it:
        nothing calls a volume over the network."""
        if component in self.kinds:
            own = self.kinds[component]
            if own == "volume" and self.peer_kinds.get(component) in ("database", "cache", "queue"):
                return self.peer_kinds[component]
            return own
        if component in self.peer_kinds:
            return self.peer_kinds[component]
        if component in self.hosts:
            return "host"  # known only from placements (no node exporter): still a node
        return "service" if self.get(component, "requests") or component in self.log_values else "external"

    def callees(self, component: str) -> set[str]:
        return {b for (a, b) in self.edges if a == component}

    def callers(self, component: str) -> set[str]:
        return {a for (a, b) in self.edges if b == component}

    def downstream(self, component: str) -> set[str]:
        """Everything `component` depends on, transitively."""
        seen: set[str] = set()
        todo = [component]
        while todo:
            c = todo.pop()
            for d in self.callees(c):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    def graph_source(self) -> str:
        sources = sorted(set(self.edges.values()))
        return " + ".join(sources) if sources else "none"

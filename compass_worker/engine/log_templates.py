"""Log-template bursts: which kinds of log line appeared, or grew sharply, after the onset.

Error-like lines of the components in focus are sampled before and after the split (two LogQL
queries in all), masked (ids, numbers, addresses) and templated with Drain (the `drain3` library),
per component. A template is a burst when it is new after the onset, or its share of the
component's sampled lines grew sharply against the baseline — "connection refused to <*>" that
was never there, an exception that now fills the log. Chatty errors that were always there are not
news. Each burst becomes a `log_template` series (its lines per minute, from the sample) so it is
judged like any signal — onset and all — and fused with metrics and traces by the judge.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drain3.drain import Drain

from compass_worker.engine.logs import template_of
from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.engine.source import TelemetrySource
from compass_worker.signals.catalog import SignalCatalog
from compass_worker.signals.naming import normalise
from compass_worker.telemetry.grafana.results import Data

SIGNAL = "log_template"
SAMPLE = 400  # lines per window
MIN_AFTER = 3  # a burst needs at least this many lines after the onset
GROWTH = 3.0  # share after / share before for a known template to be a burst
DRAIN_SIM = 0.4
DRAIN_DEPTH = 4
_MESSAGE_KEYS = ("msg", "message", "error", "err", "exception", "event")
_ERRORISH = re.compile(
    r"(?i)exception|error|refused|timeout|timed out|unavailable|fail|fatal|panic|denied|reset|broken pipe"
)


@dataclass(frozen=True)
class TemplateBurst:
    component: str
    template: str
    before: int  # sampled lines of this template before the split
    after: int
    share_before: float
    share_after: float
    example: str
    cluster_id: int = 0

    @property
    def new(self) -> bool:
        return self.before == 0

    @property
    def errorish(self) -> bool:
        return bool(_ERRORISH.search(self.template))

    def describe(self) -> str:
        if self.new:
            return f"{self.component}: new log template after the onset ({self.after} lines): {self.template}"
        return (
            f"{self.component}: log template grew from {self.share_before:.0%} to {self.share_after:.0%} "
            f"of sampled lines: {self.template}"
        )


def message_of(line: str) -> str:
    """The human part of a line: a JSON log's message field (with its exception), else the line."""
    text = line.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return text
        if isinstance(doc, dict):
            parts = [str(doc[k]) for k in _MESSAGE_KEYS if isinstance(doc.get(k), str | int | float)]
            if parts:
                return " ".join(parts)
    # logfmt: keep msg="..." when present
    m = re.search(r'\bmsg="([^"]*)"|\bmsg=(\S+)', text)
    if m:
        return m.group(1) or m.group(2) or text
    return text


class Templater:
    """Drain over masked messages: one miner per component, so templates never mix services."""

    def __init__(self) -> None:
        self._miners: dict[str, Drain] = {}

    def add(self, component: str, line: str) -> int:
        miner = self._miners.get(component)
        if miner is None:
            miner = self._miners[component] = Drain(sim_th=DRAIN_SIM, depth=DRAIN_DEPTH, max_children=64)
        cluster, _ = miner.add_log_message(template_of(message_of(line))[:400])
        return int(cluster.cluster_id)

    def template(self, component: str, cluster_id: int) -> str:
        miner = self._miners[component]
        for c in miner.clusters:
            if c.cluster_id == cluster_id:
                return str(c.get_template())
        return ""


Line = tuple[str, str, float]  # (component, raw line, unix seconds)


def bursts(
    before: Iterable[Line], after: Iterable[Line]
) -> tuple[list[TemplateBurst], dict[tuple[str, int], list[float]]]:
    """Templates that are new or grew sharply after the split, per component, strongest first; and,
    per (component, template id), the times of its sampled lines in both windows (for its series)."""
    tpl = Templater()
    counts_b: dict[str, Counter[int]] = defaultdict(Counter)
    counts_a: dict[str, Counter[int]] = defaultdict(Counter)
    example: dict[tuple[str, int], str] = {}
    times: dict[tuple[str, int], list[float]] = defaultdict(list)
    for comp, line, t in before:
        cid = tpl.add(comp, line)
        counts_b[comp][cid] += 1
        times[(comp, cid)].append(t)
    for comp, line, t in after:
        cid = tpl.add(comp, line)
        counts_a[comp][cid] += 1
        example.setdefault((comp, cid), line)
        times[(comp, cid)].append(t)
    found: list[TemplateBurst] = []
    for comp, ca in counts_a.items():
        cb = counts_b.get(comp, Counter())
        total_a, total_b = sum(ca.values()), sum(cb.values())
        for cid, n in ca.items():
            if n < MIN_AFTER:
                continue
            share_a = n / total_a
            share_b = cb.get(cid, 0) / total_b if total_b else 0.0
            # Smoothed: a template seen once in a small baseline is not "new", nor 3x from nothing.
            grown = (share_a + 1.0 / (total_a + 1)) / (share_b + 1.0 / (total_b + 1))
            if cb.get(cid, 0) == 0 or grown >= GROWTH:
                burst = TemplateBurst(
                    comp,
                    tpl.template(comp, cid),
                    cb.get(cid, 0),
                    n,
                    share_b,
                    share_a,
                    example[(comp, cid)][:300],
                    cid,
                )
                found.append(burst)
    found.sort(key=lambda b: (not b.new, -b.after, b.component, b.template))
    return found, times


def focus(obs: Observations, symptom: str | None, path: Iterable[str], limit: int) -> list[str]:
    """Components whose log templates are worth mining: the symptom's, then those on its dependency
    path, then those whose error-line rate departed — only components that have logs."""
    ranked: list[str] = []
    if symptom:
        ranked.append(symptom)
    ranked += sorted(path)
    errs = []
    for (comp, sig, _), series in obs.series.items():
        a = series.anomaly() if sig == "log_errors" else None
        if a is not None and a.anomalous:
            errs.append((-a.strength(), comp))
    ranked += [c for _, c in sorted(errs)]
    return [c for c in dict.fromkeys(ranked) if c in obs.log_values][:limit]


async def observe_templates(
    src: TelemetrySource,
    catalog: SignalCatalog,
    obs: Observations,
    focus: list[str],
    split: float,
    max_components: int = 6,
    signatures: Sequence[re.Pattern[str]] = (),
) -> list[TemplateBurst]:
    """Sample the error-like lines of `focus` components before and after `split` and keep bursts.

    `signatures`: the specific faults' own log patterns. A burst of such lines ("consumer lag",
    "timeout acquiring connection") is already that fault's evidence (its log rule counts it); as an
    unexplained new template it would count a second time, for a code defect."""
    label = obs.log_component_label
    if not src.loki or label is None:
        return []
    raw = sorted({v for c in focus[:max_components] for v in obs.log_values.get(c, set())})
    if not raw:
        return []
    uid = src.loki[0].uid
    values = "|".join(re.escape(v) for v in raw).replace("\\", "\\\\").replace('"', '\\"')
    logql = f'{{{label}=~"{values}"}} |~ `{catalog.logs.error_filter}`'
    base_end = max(src.start + 60, split - 120)
    results = []
    # The baseline's newest lines (nearest the onset) and the first lines after the split, so that a
    # capped sample still shows when a template began.
    for start, end, direction in ((src.start, base_end, "backward"), (split, src.end, "forward")):
        res = await src.client.loki_logs(uid, logql, start, end, limit=SAMPLE, direction=direction)
        src.record(uid, "logql", logql, start, end, 0, res)
        results.append(res.value if isinstance(res, Data) else [])
    before = [
        (normalise(e.labels.get(label, ""), label=label), e.line, e.timestamp_ns / 1e9) for e in results[0]
    ]
    after = [
        (normalise(e.labels.get(label, ""), label=label), e.line, e.timestamp_ns / 1e9) for e in results[1]
    ]
    found, times = bursts(before, after)
    # A capped sample covers only part of its window: outside that part the count is unknown, not 0.
    known = (
        min(t for *_, t in before) if len(before) >= SAMPLE else src.start,
        max(t for *_, t in after) if len(after) >= SAMPLE else src.end,
    )
    link = src.explore_link(uid, logql)
    strongest: dict[str, TemplateBurst] = {}
    for b in found:
        if not any(p.search(b.example) for p in signatures):
            strongest.setdefault(b.component, b)
    for comp, b in strongest.items():
        ts, vs = _per_minute(times.get((comp, b.cluster_id), []), src.start, src.end, known)
        obs.add(SignalSeries(comp, SIGNAL, None, ts, vs, logql, link, "drain3", "lines/min", "up", floor=1.0))
        obs.examples[f"{SIGNAL}:{comp}"] = b.example
    obs.templates.extend(b.describe() for b in found[:8])
    return found


def _per_minute(
    times: list[float], start: float, end: float, known: tuple[float, float]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Lines per minute on a fixed grid over the window: zeros where none matched, NaN where the
    sample did not reach (`known` is the sampled span)."""
    n = max(1, math.ceil((end - start) / 60.0))
    counts = [0.0] * n
    for t in times:
        i = int((t - start) // 60)
        if 0 <= i < n:
            counts[i] += 1.0
    grid = tuple(start + 60.0 * i for i in range(n))
    values = tuple(
        c if known[0] - 60.0 <= t <= known[1] else math.nan for t, c in zip(grid, counts, strict=True)
    )
    return grid, values

"""Log evidence: error-line rates per component, and which log templates are new or growing.

Loki's own pattern detection is used when the server has it (`query_loki_patterns`); without it, a
sample of error lines is templated locally by masking variable tokens. A template counts as evidence
when it is clearly more frequent after the baseline than before — chatty errors that were always
there are not news.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence

from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.engine.source import TelemetrySource
from compass_worker.signals.catalog import SignalCatalog
from compass_worker.signals.discovery import label_role
from compass_worker.signals.naming import normalise
from compass_worker.telemetry.grafana.results import Data

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<_>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<_>"),
    (re.compile(r"\b[0-9a-f]{16,}\b", re.I), "<_>"),
    (re.compile(r"\b\d+(?:\.\d+)?(?:ms|s|us|µs|ns|m|h|%|b|kb|mb|gb)?\b", re.I), "<_>"),
    (
        re.compile(r'"(?:ts|time|timestamp|trace_id|span_id|request_id|user_id|order_id|id)"\s*:\s*"[^"]*"'),
        "<_>",
    ),
    (re.compile(r"\b(?:ts|time|timestamp|trace_id|span_id|request_id|user_id|order_id|id)=\S+"), "<_>"),
)


def template_of(line: str) -> str:
    t = line
    for rx, repl in _MASKS:
        t = rx.sub(repl, t)
    return re.sub(r"(?:<_>[\s,]*){2,}", "<_> ", t).strip()


def _selector(label: str, raw_values: set[str]) -> str:
    """A stream selector for a component by the raw label values its streams carry."""
    values = sorted(raw_values)
    if len(values) == 1:
        return f'{{{label}="{_esc(values[0])}"}}'
    alternation = "|".join(re.escape(v) for v in values)
    return f'{{{label}=~"{_esc(alternation)}"}}'


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"')


def log_component_label(known: Sequence[str], present: Iterable[str]) -> str | None:
    """The Loki label naming the component: a spelling the catalog lists, else a key that names a
    workload by its tokens (`app_kubernetes_io_name`, `workload_name`), as metric discovery reads them."""
    have = set(present)
    listed = next((lbl for lbl in known if lbl in have), None)
    if listed is not None:
        return listed
    return next((lbl for lbl in sorted(have) if label_role(lbl) == "identity"), None)


async def observe_logs(src: TelemetrySource, catalog: SignalCatalog, obs: Observations) -> None:
    """Find the component label of logs and fetch the error-line rate of every component (1-2 calls)."""
    if not src.loki:
        obs.gaps.append("no log datasource (Loki): log evidence unavailable")
        return
    uid = src.loki[0].uid
    res = await src.client.loki_label_names(uid, src.start, src.end)
    src.record(uid, "discovery", "list_loki_label_names", src.start, src.end, 0, res)
    if not isinstance(res, Data):
        obs.gaps.append("log labels could not be listed: log evidence unavailable")
        return
    label = log_component_label(catalog.logs.component_labels, res.value)
    if label is None:
        obs.gaps.append("logs carry no component label (service_name/app/job...): log evidence unavailable")
        return
    obs.log_component_label = label
    raw = await src.client.loki_label_values(uid, label, src.start, src.end)
    src.record(uid, "discovery", f"list_loki_label_values {label}", src.start, src.end, 0, raw)
    if isinstance(raw, Data):
        for v in raw.value:
            obs.log_values[normalise(v, label=label)].add(v)
    logql = f'sum by ({label}) (count_over_time({{{label}=~".+"}} |~ "{catalog.logs.error_filter}" [1m]))'
    await _count_series(src, obs, label, logql, "log_errors", "lines/min", None)


async def _count_series(
    src: TelemetrySource,
    obs: Observations,
    label: str,
    logql: str,
    signal: str,
    unit: str,
    floor: float | None,
) -> None:
    """Run a per-component LogQL count query and keep one densified series per component."""
    res = await src.logql_range(logql, step_s=60)
    if not isinstance(res, Data) or not src.loki:
        return
    link = src.explore_link(src.loki[0].uid, logql)
    for s in res.value.series:
        value = s.labels.get(label)
        if not value:
            continue
        comp = normalise(value, label=label)
        obs.log_values[comp].add(value)
        ts, vs = densify(s.timestamps, s.values, src.start, src.end, 60)
        obs.add(SignalSeries(comp, signal, None, ts, vs, logql, link, "loki", unit, "up", floor=floor))


def densify(
    timestamps: tuple[float, ...], values: tuple[float, ...], start: float, end: float, step_s: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Loki returns no sample where no line matched: on a count series, a missing step is a zero."""
    if not timestamps:
        return timestamps, values
    anchor = timestamps[0]
    first = anchor - step_s * int((anchor - start) // step_s)
    grid = [first + i * step_s for i in range(int((end - first) // step_s) + 1)]
    seen = {round(t, 3): v for t, v in zip(timestamps, values, strict=False)}
    return tuple(grid), tuple(seen.get(round(t, 3), 0.0) for t in grid)


def rule_signal(fault: str, index: int) -> str:
    return f"log:{fault}:{index}"


async def check_log_rules(src: TelemetrySource, obs: Observations, rules: list[tuple[str, int, str]]) -> None:
    """One LogQL metric query per catalog log rule, grouped by component: when did lines like these
    start, and where? `rules` holds (fault id, rule index, regex). Results become signals named
    `log:<fault>:<index>` so the judge weighs them like any series (onset, robust z)."""
    label = obs.log_component_label
    if not src.loki or label is None:
        return

    async def one(fault: str, index: int, regex: str) -> None:
        # A 5-minute window: rare event lines (a config reload) persist long enough to be an onset.
        logql = f'sum by ({label}) (count_over_time({{{label}=~".+"}} |~ `{regex}` [5m]))'
        await _count_series(src, obs, label, logql, rule_signal(fault, index), "lines/5m", 0.5)

    await asyncio.gather(*(one(f, i, rx) for f, i, rx in rules))


async def sample_mentions(
    src: TelemetrySource, obs: Observations, regex: str, owners: list[str], since: float, limit: int = 100
) -> list[str]:
    """Lines matching `regex` from `owners` after `since` — to see which components they name."""
    label = obs.log_component_label
    if not src.loki or label is None:
        return []
    raw = set().union(*(obs.log_values.get(c, set()) for c in owners)) if owners else set()
    if not raw:
        return []
    logql = f"{_selector(label, raw)} |~ `{regex}`"
    res = await src.client.loki_logs(src.loki[0].uid, logql, since, src.end, limit=limit)
    src.record(src.loki[0].uid, "logql", logql, since, src.end, 0, res)
    return [e.line for e in res.value] if isinstance(res, Data) else []


MENTION_EDGE_MIN = 3  # sampled lines of one component naming another before it counts as a call


def mentioned_calls(obs: Observations, owner: str, counts: dict[str, int]) -> None:
    """A component whose fault lines keep naming another ("timeout acquiring a connection to billingdb",
    "connection refused: redis-cart") talks to it, whether or not a trace or client metric shows the
    call: a database behind opaque TCP is otherwise nowhere in the graph, and its slow queries could not
    explain its callers' full pools."""
    for comp, n in counts.items():
        if n < MENTION_EDGE_MIN or obs.kind_of(comp) == "host":
            continue
        if (owner, comp) in obs.edges or (comp, owner) in obs.edges:
            continue
        obs.edges[(owner, comp)] = "logs"

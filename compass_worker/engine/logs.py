"""Log evidence: error-line rates per component, and which log templates are new or growing.

Loki's own pattern detection is used when the server has it (`query_loki_patterns`); without it, a
sample of error lines is templated locally by masking variable tokens. A template counts as evidence
when it is clearly more frequent after the baseline than before — chatty errors that were always
there are not news.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

from compass_worker.engine.observations import LogTemplate, Observations, SignalSeries
from compass_worker.engine.source import TelemetrySource
from compass_worker.signals.catalog import SignalCatalog
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


def _selector(label: str, component: str) -> str:
    return '{%s="%s"}' % (label, component.replace('"', '\\"'))


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
    label = next((lbl for lbl in catalog.logs.component_labels if lbl in res.value), None)
    if label is None:
        obs.gaps.append("logs carry no component label (service_name/app/job...): log evidence unavailable")
        return
    obs.log_component_label = label
    logql = f'sum by ({label}) (count_over_time({{{label}=~".+"}} |~ "{catalog.logs.error_filter}" [1m]))'
    series = await src.logql_range(logql, step_s=60)
    if not isinstance(series, Data):
        return
    link = src.explore_link(uid, logql)
    for s in series.value.series:
        raw = s.labels.get(label)
        if not raw:
            continue
        obs.add(
            SignalSeries(
                normalise(raw, label=label),
                "log_errors",
                None,
                s.timestamps,
                s.values,
                logql,
                link,
                "loki",
                "lines/min",
                "up",
            )
        )


async def mine_templates(
    src: TelemetrySource, catalog: SignalCatalog, obs: Observations, components: list[str], split_at: float
) -> None:
    """Templates of each component's logs, split into before/after `split_at` (concurrently)."""
    label = obs.log_component_label
    if not src.loki or label is None:
        return
    await asyncio.gather(*(_templates_for(src, catalog, obs, label, c, split_at) for c in components))


async def _templates_for(
    src: TelemetrySource, catalog: SignalCatalog, obs: Observations, label: str, comp: str, split_at: float
) -> None:
    uid = src.loki[0].uid
    selector = _selector(label, comp)
    before_s = max(60.0, split_at - src.start)
    after_s = max(60.0, src.end - split_at)
    scale = after_s / before_s
    res = await src.client.loki_patterns(uid, selector, src.start, src.end)
    src.record(uid, "logql", selector, src.start, src.end, 0, res)
    templates: list[LogTemplate] = []
    if isinstance(res, Data) and res.value:
        for p in res.value:
            if not p.samples:
                continue
            before = sum(c for t, c in p.samples if t < split_at)
            after = sum(c for t, c in p.samples if t >= split_at)
            first = min((t for t, c in p.samples if t >= split_at and c > 0), default=None)
            templates.append(
                LogTemplate(
                    comp,
                    p.pattern,
                    round(before * scale),
                    after,
                    p.pattern,
                    selector,
                    first,
                    src.explore_link(uid, selector),
                )
            )
    else:
        # No pattern support: template a sample of error lines ourselves.
        logql = f'{selector} |~ "{catalog.logs.error_filter}"'
        lines = await src.client.loki_logs(uid, logql, src.start, src.end, limit=500)
        src.record(uid, "logql", logql, src.start, src.end, 0, lines)
        if isinstance(lines, Data):
            before_c: Counter[str] = Counter()
            after_c: Counter[str] = Counter()
            example: dict[str, str] = {}
            first_seen: dict[str, float] = {}
            for e in lines.value:
                tpl = template_of(e.line)
                ts = e.timestamp_ns / 1e9
                example.setdefault(tpl, e.line)
                if ts < split_at:
                    before_c[tpl] += 1
                else:
                    after_c[tpl] += 1
                    first_seen[tpl] = min(first_seen.get(tpl, ts), ts)
            for tpl in set(before_c) | set(after_c):
                templates.append(
                    LogTemplate(
                        comp,
                        tpl,
                        round(before_c[tpl] * scale),
                        after_c[tpl],
                        example[tpl],
                        logql,
                        first_seen.get(tpl),
                        src.explore_link(uid, logql),
                    )
                )
    obs.logs[comp] = templates

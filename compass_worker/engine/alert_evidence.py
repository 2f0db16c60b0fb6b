"""What the alert names becomes observations: its metrics, topics and consumer groups are queried.

The alert text is a lead like any other: "fulfillment consumer lag on orders above 2000" says which
lag to look at. Each name is checked against what discovery listed — a metric is queried only if the
datasource has it, a topic only if a lag series carries it — so nothing is invented:

- a named metric no convention fetched yet is queried grouped by its identity labels (one call each,
  at most `MAX_METRICS`), as the canonical signal discovery infers for it, else as `alert:<metric>`
  whose bad direction is the threshold's;
- a named topic / consumer group picks its lag series among those fetched; when no fetched lag
  series names it, the lag metrics present (catalog or inferred) are queried for it.
Every finding is written down (`obs.alert`) so the verdict can say what the alert's names showed.
"""

from __future__ import annotations

import math
import re

from compass_worker.engine.alert_text import AlertFacts, alert_facts
from compass_worker.engine.metrics import Discovery, component_of
from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.engine.onset import Direction
from compass_worker.engine.source import TelemetrySource
from compass_worker.signals import discovery as sigdisc
from compass_worker.signals.catalog import SignalCatalog
from compass_worker.signals.naming import normalise
from compass_worker.telemetry.grafana.results import Data

MAX_METRICS = 3
_LABELS = (*sigdisc.QUEUE_LABELS, *sigdisc.GROUP_LABELS, *sigdisc.IDENTITY_LABELS)


def _fetched_metrics(obs: Observations) -> set[str]:
    """Metric names some already-fetched series' query uses."""
    names: set[str] = set()
    for s in obs.series.values():
        names.update(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s.query))
    return names


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"')


async def observe_alert(
    src: TelemetrySource, catalog: SignalCatalog, disc: Discovery, obs: Observations, text: str
) -> AlertFacts:
    facts = alert_facts(text)
    if facts.empty or not src.prometheus:
        return facts
    fetched = _fetched_metrics(obs)
    present = [m for m in facts.metrics if m in disc.metric_names]
    for m in facts.metrics:
        if m not in disc.metric_names and not any(n.startswith(m + "_") for n in disc.metric_names):
            obs.notes.append(f"the alert names {m}, which this datasource does not have")
    for metric in [m for m in present if m not in fetched][:MAX_METRICS]:
        await _query_named(src, catalog, disc, obs, facts, metric)
    for m in present:
        if m in fetched:
            obs.alert.append(f"the alert's metric {m} is already observed")
    await _named_lag(src, catalog, disc, obs, facts)
    return facts


def _selector(facts: AlertFacts, present: set[str]) -> str:
    """Matchers for the topic / group / labels the alert names, only on labels the metric has."""
    matchers: list[str] = []
    for key, value in facts.labels:
        if key in present and key not in ("le", "quantile") and len(matchers) < 4:
            matchers.append(f'{key}="{_esc(value)}"')
    return "{" + ", ".join(matchers) + "}" if matchers else ""


async def _query_named(
    src: TelemetrySource,
    catalog: SignalCatalog,
    disc: Discovery,
    obs: Observations,
    facts: AlertFacts,
    metric: str,
) -> None:
    mapping = sigdisc.infer(metric, siblings=disc.metric_names)
    counter = metric.endswith("_total")
    by = ", ".join(_LABELS)
    sel = _selector(facts, {k for k, _ in facts.labels})
    inner = f"rate({metric}{sel}[{src.rate_window}])" if counter else f"{metric}{sel}"
    expr = f"max by ({by}) ({inner})"
    res = await src.prom_range(expr)
    if not isinstance(res, Data) or not res.value.series:
        obs.alert.append(f"the alert's metric {metric} returned no series in the window")
        return
    signal = (
        mapping.signal if mapping is not None and mapping.form in ("gauge", "rate") else f"alert:{metric}"
    )
    op = facts.thresholds[0].op if facts.thresholds else ">"
    bad: Direction = "down" if op == "<" else "up"
    unit = catalog.signals[signal].unit if signal in catalog.signals else "value"
    trust = mapping.confidence if mapping is not None and signal == mapping.signal else 1.0
    known = disc.components | obs.components()
    seen: list[str] = []
    for s in res.value.series:
        comp = component_of(s.labels, list(_LABELS), known)
        if comp is None or not any(math.isfinite(v) for v in s.values):
            continue
        obs.add(
            SignalSeries(
                component=comp,
                signal=signal,
                peer=None,
                timestamps=s.timestamps,
                values=s.values,
                query=expr,
                link=res.value.explore_url,
                family=f"alert:{metric}",
                unit=unit,
                bad=bad,
                specific=False,
                trust=trust,
            )
        )
        seen.append(comp)
    if seen:
        obs.alert.append(
            f"the alert's metric {metric} queried as {signal} for {', '.join(sorted(set(seen)))}"
        )


async def _named_lag(
    src: TelemetrySource, catalog: SignalCatalog, disc: Discovery, obs: Observations, facts: AlertFacts
) -> None:
    names = [*facts.topics, *facts.queues, *facts.groups]
    if not names:
        return
    wanted = {normalise(n) for n in names}
    lag = {(c, p): s for (c, sig, p), s in obs.series.items() if sig == "queue_lag"}
    hits = [c for (c, _) in lag if c in wanted] + [
        c for (c, _) in lag if c not in wanted and any(caller in wanted for caller in obs.callers(c))
    ]
    if hits:
        obs.alert.append(f"the alert's lag is observed on {', '.join(sorted(set(hits)))}")
        return
    # No fetched lag series names it: query the lag metrics present for exactly that topic / group.
    lag_metrics = [e.requires[0] for e in catalog.applicable(disc.metric_names) if e.signal == "queue_lag"]
    lag_metrics += [e.requires[0] for e in disc.inferred if e.signal == "queue_lag"]
    if not lag_metrics:
        obs.alert.append(f"the alert names {', '.join(names)}, but no consumer-lag metric exists here")
        return
    values = "|".join(re.escape(n) for n in names)
    alternation = "|".join(sorted(set(lag_metrics)))
    for label in (*sigdisc.QUEUE_LABELS, *sigdisc.GROUP_LABELS):
        expr = (
            f"sum by ({', '.join((*sigdisc.QUEUE_LABELS, *sigdisc.GROUP_LABELS))}) "
            f'({{__name__=~"{alternation}", {label}=~"{_esc(values)}"}})'
        )
        if label not in {lbl for m in lag_metrics for lbl in disc.labels.get(m, set())}:
            continue
        res = await src.prom_range(expr)
        if not isinstance(res, Data) or not res.value.series:
            continue
        for s in res.value.series:
            topic = next((s.labels[q] for q in sigdisc.QUEUE_LABELS if s.labels.get(q)), None)
            if topic is None:
                continue
            comp = normalise(topic, label="topic")
            group = next((s.labels[g] for g in sigdisc.GROUP_LABELS if s.labels.get(g)), None)
            if group:
                obs.edges.setdefault((normalise(group, label="consumergroup"), comp), "metrics")
            obs.add(
                SignalSeries(
                    comp,
                    "queue_lag",
                    None,
                    s.timestamps,
                    s.values,
                    expr,
                    res.value.explore_url,
                    "alert: named lag",
                    catalog.signals["queue_lag"].unit,
                    "up",
                )
            )
            obs.kinds.setdefault(comp, "queue")
        obs.alert.append(f"the alert's lag queried for {', '.join(names)} ({label})")
        return
    obs.alert.append(f"no lag series carries {', '.join(names)}")

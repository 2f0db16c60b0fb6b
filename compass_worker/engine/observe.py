"""Observe: what telemetry exists, the golden signals of every component, and what the symptom is.

The symptom's component comes from `--service` or the engineer's words; its onset is anchored by the
engineer's "since HH:MM" when given. `judge_context` turns both into what the judge is told.
"""

from __future__ import annotations

import asyncio

from compass_worker.domain.events import Observed, PhaseStarted
from compass_worker.engine import alert_evidence as alertmod
from compass_worker.engine import logs as logmod
from compass_worker.engine import metrics as metricmod
from compass_worker.engine.alert_text import alert_facts
from compass_worker.engine.context import JudgeContext
from compass_worker.engine.fmt import hhmm
from compass_worker.engine.health import health
from compass_worker.engine.incident import candidate_tokens
from compass_worker.engine.state import Kit, Run
from compass_worker.signals.catalog import CatalogEntry

SINCE_TOLERANCE_S = 300.0  # a detected onset this close to the engineer's "since HH:MM" is the symptom
# Observed before any hypothesis: the golden signals, availability and backlog (queues are symptoms too).
RED_SIGNALS = frozenset(
    {"requests", "error_ratio", "latency", "client_latency", "client_error_ratio", "available", "queue_lag"}
)
SYMPTOM_SIGNALS: dict[str, tuple[str, ...]] = {
    "errors": ("error_ratio", "client_error_ratio", "log_errors"),
    "latency": ("latency", "client_latency"),
    "availability": ("available", "error_ratio", "requests"),
    "backlog": ("queue_lag", "latency"),
    "saturation": ("cpu_utilization", "memory_utilization", "disk_free_ratio"),
    "throughput": ("requests",),
}


async def observe(kit: Kit, run: Run) -> tuple[list[CatalogEntry], metricmod.Discovery] | None:
    """Discover and fetch the golden signals; None when no telemetry is reachable (said as a gap)."""
    src, obs = run.src, run.obs
    await run.sink.emit(
        PhaseStarted(t=run.t(), phase="observe", detail="discovering datasources and metrics")
    )
    ds = await src.discover_datasources()
    if not (src.prometheus or src.loki or src.tempo):
        reason = getattr(ds, "error", None) or getattr(ds, "reason", "no datasources")
        obs.gaps.append(f"no telemetry reachable: {reason}")
        return None
    # The latency percentile the alert names is the one read where a metric records several.
    quantile = alert_facts(run.incident.symptom).quantile
    disc = await metricmod.discover(src, kit.catalog, obs, quantile, kit.reasoner)
    entries = [e for e in kit.catalog.applicable(disc.metric_names)]
    entries += disc.inferred  # signal discovery: names the catalog does not know, mapped and fetched alike
    disc.components = metricmod.discovered_components(kit.catalog, disc)
    obs.metric_names = tuple(sorted(disc.metric_names))
    metricmod.assign_kinds(kit.catalog, disc, obs)
    red = [e for e in entries if e.signal in RED_SIGNALS]
    await asyncio.gather(
        metricmod.fetch_entries(src, kit.catalog, red, disc, obs),
        logmod.observe_logs(src, kit.catalog, obs),
    )
    # The alert text is evidence: the metrics, topics and consumer groups it names are queried.
    await alertmod.observe_alert(src, kit.catalog, disc, obs, run.incident.symptom)
    run.symptom = symptom_component(run, disc.components | obs.components())
    run.onset = symptom_onset(run, run.symptom)
    await describe_symptom(run)
    return entries, disc


def symptom_component(run: Run, known: set[str]) -> str | None:
    inc = run.incident
    if inc.service:
        if inc.service not in known:
            run.obs.gaps.append(f"no telemetry names a component {inc.service!r}")
        return inc.service
    tokens = candidate_tokens(inc.symptom)
    for tok in tokens:
        if tok in known:
            return tok
    for tok in tokens:
        parts = [c for c in known if tok in c.split("-")]
        if len(parts) == 1:
            return parts[0]
    return None


def symptom_onset(run: Run, symptom: str | None) -> float | None:
    """When the symptom began. The engineer's "since 14:02" anchors it: among the symptom's own
    departures, the one nearest that time (an earlier, unrelated blip is not the symptom); with no
    departure near it, the stated time itself. Without a stated time, the earliest departure."""
    inc, obs = run.incident, run.obs
    onsets: list[float] = []
    if symptom is not None:
        for sig in (*SYMPTOM_SIGNALS.get(inc.signal or "", ()), "error_ratio", "latency", "log_errors"):
            series = [obs.get(symptom, sig), *obs.outbound(symptom, sig)]
            if sig == "queue_lag":  # a consumer's backlog lives in the queue it consumes
                series += [obs.get(q, sig) for q in obs.callees(symptom)]
            found = [a.onset for s in series if s for a in [s.anomaly()] if a and a.anomalous and a.onset]
            if found:
                onsets = found
                break
        if not onsets:
            _, on = health(obs, symptom, None)
            onsets = [on] if on is not None else []
    since = inc.since
    if since is not None:
        near = [t for t in onsets if abs(t - since) <= SINCE_TOLERANCE_S]
        return min(near, key=lambda t: abs(t - since)) if near else since
    return min(onsets) if onsets else None


UNKNOWN_SYMPTOM = "could not tell which component the symptom is about: say it with --service"


async def resolve_symptom_late(run: Run) -> None:
    """When no metric named the symptom's component, traces and logs may: the engineer's words are
    matched again against every component seen so far."""
    if run.symptom is not None:
        return
    run.symptom = symptom_component(run, run.obs.components())
    if run.symptom is None:
        return
    run.onset = symptom_onset(run, run.symptom)
    run.obs.gaps = [g for g in run.obs.gaps if g != UNKNOWN_SYMPTOM]
    await describe_symptom(run)


async def describe_symptom(run: Run) -> None:
    if run.symptom is None:
        run.obs.gaps.append(UNKNOWN_SYMPTOM)
        text = "symptom component unknown"
    else:
        when = f", onset {hhmm(run.onset)} UTC" if run.onset else ", no clear onset"
        text = f"symptom on {run.symptom}{when}"
    await run.sink.emit(Observed(t=run.t(), text=text))


def judge_context(run: Run) -> JudgeContext:
    """The baseline ends 10 minutes before the onset; the path is the symptom and all it depends on."""
    src = run.src
    floor = src.start + 0.3 * (src.end - src.start)
    baseline_until = max(floor, run.onset - 600.0) if run.onset is not None else None
    path: frozenset[str] = frozenset()
    # A symptom component the graph does not know (an untraced UI in front of a traced gateway) has
    # no known path: nothing is "off" it.
    if run.symptom is not None and any(run.symptom in e for e in run.obs.edges):
        path = frozenset({run.symptom, *run.obs.downstream(run.symptom)})
    return JudgeContext(
        run.symptom, run.onset, baseline_until, path, dict(run.prior_bonus), run.incident.signal
    )

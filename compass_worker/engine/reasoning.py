"""Asking an optional reasoner (LLM) for more hypotheses and checks — and keeping it in its place.

Proposals are validated here: a hypothesis needs a known fault id and a component the telemetry
knows; a check must parse (PromQL through a real parser), stay inside the incident's time range and
run through the same allowlisted client as every other query. Results become *neutral* evidence:
the judge's scores and the verdict are never changed by what a model says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import promql_parser

from compass_worker.domain.models import Evidence, Hypothesis, Stance
from compass_worker.engine.faultcatalog import FaultCatalog
from compass_worker.engine.observations import Observations
from compass_worker.engine.source import TelemetrySource
from compass_worker.reasoners.protocol import (
    AnomalyView,
    HypothesisView,
    LogView,
    ProposedCheck,
    ProposedHypothesis,
    ReasoningContext,
    TraceView,
)
from compass_worker.telemetry.grafana.results import Data, Failed

MAX_CHECKS = 6
_WHO = {"llm": "AI", "team": "A team pattern"}
MAX_ANOMALIES = 30
MAX_METRICS = 150


def context_view(
    symptom: str,
    symptom_component: str | None,
    onset: float | None,
    src: TelemetrySource,
    obs: Observations,
    hypotheses: Mapping[str, Hypothesis],
    faults: FaultCatalog,
) -> ReasoningContext:
    anomalies: list[AnomalyView] = []
    for (c, sig, peer), s in obs.series.items():
        a = s.anomaly()
        if a is not None and a.anomalous and math.isfinite(a.z_peak):
            anomalies.append(
                AnomalyView(
                    component=c,
                    signal=sig,
                    peer=peer,
                    baseline=a.baseline,
                    peak=a.peak,
                    z=round(min(a.z_peak, 1e6), 1),
                    onset=a.onset,
                )
            )
    anomalies.sort(key=lambda v: -v.z)
    logs: list[LogView] = []
    for (c, sig, _), s in obs.series.items():
        if sig.startswith("log:"):
            a = s.anomaly("up", None)
            if a is not None and a.anomalous:
                example = obs.examples.get(sig, s.query)
                logs.append(
                    LogView(
                        component=c, template=example[:200], before=round(a.baseline), after=round(a.peak)
                    )
                )
    hyps = sorted(hypotheses.values(), key=lambda h: -h.score)[:20]
    return ReasoningContext(
        symptom=symptom,
        symptom_component=symptom_component,
        symptom_onset=onset,
        window_start=src.start,
        window_end=src.end,
        components={c: obs.kind_of(c) for c in sorted(obs.components())},
        edges=sorted(obs.edges),
        anomalies=anomalies[:MAX_ANOMALIES],
        logs=logs[:20],
        traces=[TraceView(component=t.component, kind=t.kind, detail=t.detail) for t in obs.traces],
        hypotheses=[
            HypothesisView(
                id=h.id, component=h.component, fault=h.fault, status=h.status.value, score=round(h.score, 2)
            )
            for h in hyps
        ],
        fault_ids=list(faults.ids),
        gaps=list(obs.gaps),
        metrics=list(obs.metric_names[:MAX_METRICS]),
    )


def accept_hypotheses(
    proposals: list[ProposedHypothesis], obs: Observations, faults: FaultCatalog
) -> tuple[list[tuple[str, str]], list[str]]:
    """(component, fault) pairs the engine will test, and notes on what it would not."""
    known = obs.components()
    accepted: list[tuple[str, str]] = []
    notes: list[str] = []
    for p in proposals[:10]:
        who = _WHO[p.proposed_by]
        if p.fault not in faults.faults:
            notes.append(
                f"{who} suggested '{p.description or p.fault}' on {p.component}: no fault id to test it"
            )
        elif p.component not in known:
            notes.append(f"{who} suggested {p.fault} on {p.component!r}, which no telemetry names")
        else:
            accepted.append((p.component, p.fault))
    return accepted, notes


def validate_check(check: ProposedCheck) -> str | None:
    """None when the check may run; else why not."""
    if check.language != "promql":
        return f"{check.language} checks are not run (only PromQL is validated today)"
    try:
        promql_parser.parse(check.query)
    except Exception as exc:  # the parser raises its own error types
        return f"PromQL does not parse: {exc}"
    return None


async def run_checks(src: TelemetrySource, checks: list[ProposedCheck]) -> dict[str, list[Evidence]]:
    out: dict[str, list[Evidence]] = {}
    for check in checks[:MAX_CHECKS]:
        label = "AI-proposed check" if check.proposed_by == "llm" else "team check"
        why = validate_check(check)
        if why is not None:
            src_note = Evidence(source="engine", query=check.query, observation=f"{label} skipped: {why}")
            out.setdefault(check.hypothesis_id, []).append(src_note)
            continue
        start = max(src.start, src.end - check.lookback_s)
        res = await src.prom_range(check.query, start=start)
        if isinstance(res, Data) and res.value.series:
            vals = [v for s in res.value.series for v in s.values if math.isfinite(v)]
            text = (
                f"{check.purpose}: {len(res.value.series)} series, max {max(vals):.4g}, min {min(vals):.4g}"
                if vals
                else f"{check.purpose}: no finite values"
            )
            link = res.value.explore_url
        elif isinstance(res, Failed):
            text, link = f"{check.purpose}: query failed: {res.error}", None
        else:
            text, link = f"{check.purpose}: no data", None
        out.setdefault(check.hypothesis_id, []).append(
            Evidence(
                source="prometheus",
                query=check.query,
                observation=f"{label} — {text}",
                link=link,
                stance=Stance.NEUTRAL,
                weight=0.0,
            )
        )
    return out

"""The investigation loop: observe → orient → decide → act → judge → (leads → judge) → verdict.

Every phase emits typed events to a sink; nothing here knows how they are shown. Budgets bound the
whole run (wall clock, tool calls); when one runs out the verdict is computed from what was gathered
and says so. Each phase lives in its own module (observe, orient, decide, act, weigh + postpass,
verdict); this one runs them in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from compass_worker.domain.events import PhaseStarted, Sink, VerdictReached
from compass_worker.domain.models import HypothesisOrigin, Incident, Verdict
from compass_worker.engine import log_templates as logtpl
from compass_worker.engine.act import check_logs, fetch_checks, follow_leads, reasoner_checks
from compass_worker.engine.decide import announce_checks, metric_checks, needed_signals, open_faults
from compass_worker.engine.faultcatalog import FaultCatalog
from compass_worker.engine.fingerprint import fingerprint
from compass_worker.engine.observe import judge_context, observe, resolve_symptom_late
from compass_worker.engine.orient import candidates, propose, reasoner_hypotheses
from compass_worker.engine.postpass import earliest_cause_first, explain_away_generic, yield_to_causes
from compass_worker.engine.recall import apply_memory
from compass_worker.engine.source import TelemetrySource
from compass_worker.engine.state import Budget, Kit, PriorAdjustment, PriorSource, Run, within_budget
from compass_worker.engine.verdict import CONFIDENT, verdict
from compass_worker.engine.weigh import judge_all, report
from compass_worker.reasoners.protocol import Reasoner
from compass_worker.signals.catalog import SignalCatalog
from compass_worker.telemetry.grafana.client import GrafanaClient

# Importers elsewhere (runner, memory, harness, tests) read these from here.
__all__ = [
    "CONFIDENT",
    "Budget",
    "Investigator",
    "PriorAdjustment",
    "PriorSource",
    "earliest_cause_first",
    "explain_away_generic",
    "fingerprint",
    "yield_to_causes",
]


class Investigator:
    def __init__(
        self,
        client: GrafanaClient,
        catalog: SignalCatalog,
        faults: FaultCatalog,
        *,
        budget: Budget | None = None,
        calls: Callable[[], int] | None = None,
        memory: PriorSource | None = None,
        reasoner: Reasoner | None = None,
    ) -> None:
        self._client = client
        self._kit = Kit(catalog, faults, budget or Budget(), calls or (lambda: 0), memory, reasoner)
        self.last_source: TelemetrySource | None = None

    async def run(self, incident: Incident, sink: Sink) -> Verdict:
        kit = self._kit
        run = Run(incident, TelemetrySource(self._client, incident), sink, time.monotonic())
        self.last_source = run.src
        calls_before = run.calls_at_start = kit.calls()
        try:
            v = await asyncio.wait_for(self._investigate(run), timeout=kit.budget.wall_clock_s)
        except TimeoutError:
            run.obs.gaps.append(
                f"wall-clock budget of {kit.budget.wall_clock_s:.0f}s reached: verdict from what was gathered"
            )
            v = await verdict(kit, run, judge_all(kit, run, judge_context(run)))
        v = v.model_copy(update={"tool_calls": kit.calls() - calls_before})
        await sink.emit(VerdictReached(t=run.t(), verdict=v))
        return v

    async def _investigate(self, run: Run) -> Verdict:
        kit, src, sink = self._kit, run.src, run.sink
        found = await observe(kit, run)
        if found is None:
            return await verdict(kit, run, [])
        entries, disc = found

        # Orient: hypotheses for every component that could be involved, with catalog priors.
        await sink.emit(PhaseStarted(t=run.t(), phase="orient", detail="proposing hypotheses"))
        ctx = judge_context(run)
        await propose(kit, run, candidates(run, ctx), HypothesisOrigin.CATALOG)
        await reasoner_hypotheses(kit, run)

        # Decide: the checks that could refute each hypothesis → the signal queries they need.
        await sink.emit(PhaseStarted(t=run.t(), phase="decide", detail="choosing disproof checks"))
        needed = needed_signals(kit, run)
        todo = metric_checks(entries, needed)
        await announce_checks(kit, run, todo)

        # Act: run the checks in parallel (plus versions, placement, traces and log templates).
        await sink.emit(
            PhaseStarted(t=run.t(), phase="act", detail=f"{len(todo)} metric checks, logs, traces")
        )
        split = ctx.baseline_until or (src.start + 0.4 * (src.end - src.start))
        await fetch_checks(kit, run, todo, disc, split)
        await resolve_symptom_late(run)  # traces may name what no metric did
        ctx = judge_context(run)  # the graph may have grown (traces)
        # Log-template bursts (Drain) of the components in focus become `log_template` series.
        focus = logtpl.focus(run.obs, run.symptom, ctx.path, kit.budget.max_templates)
        signatures = [r.regex for f in kit.faults.faults.values() if not f.generic for r in f.logs]
        await logtpl.observe_templates(src, kit.catalog, run.obs, focus, split, signatures=signatures)
        if within_budget(kit, run, "log checks"):
            await check_logs(kit, run, split, open_faults(kit, run))
        if within_budget(kit, run, "AI-proposed checks"):
            await reasoner_checks(kit, run)

        # Judge, then follow new leads (components named by logs / traces) once.
        await sink.emit(PhaseStarted(t=run.t(), phase="judge", detail="weighing evidence"))
        new = [c for c in candidates(run, ctx) if not any(h.component == c for h in run.hypotheses.values())]
        if new:
            await propose(kit, run, new, HypothesisOrigin.LEAD)
            if within_budget(kit, run, "checks for new leads"):
                await follow_leads(kit, run, entries, disc, fetched=needed)
        await apply_memory(kit, run)
        ctx = judge_context(run)  # memory's bonuses and the graph as it now stands
        scored = judge_all(kit, run, ctx)
        await report(run, scored)
        return await verdict(kit, run, scored)

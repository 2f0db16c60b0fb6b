"""Decide: the checks that could refute each hypothesis, and which log checks are still worth making."""

from __future__ import annotations

from compass_worker.domain.events import CheckStarted
from compass_worker.domain.models import HypothesisStatus
from compass_worker.engine.health import UNHEALTHY, health
from compass_worker.engine.localise import off_path
from compass_worker.engine.observe import RED_SIGNALS, judge_context
from compass_worker.engine.state import Kit, Run
from compass_worker.engine.weigh import judge_all
from compass_worker.signals.catalog import CatalogEntry


def needed_signals(kit: Kit, run: Run) -> set[str]:
    return {r.signal for h in run.hypotheses.values() for r in kit.faults.get(h.fault).evidence}


def metric_checks(entries: list[CatalogEntry], needed: set[str]) -> list[CatalogEntry]:
    """The catalog queries for the needed signals not already fetched with the golden signals."""
    return [e for e in entries if e.signal in needed and e.signal not in RED_SIGNALS]


async def announce_checks(kit: Kit, run: Run, todo: list[CatalogEntry]) -> None:
    by_signal: dict[str, CatalogEntry] = {}
    for e in todo:
        by_signal.setdefault(e.signal, e)
    for sig, e in sorted(by_signal.items()):
        users = [h.id for h in run.hypotheses.values() if sig in kit.faults.get(h.fault).signals]
        if users:
            text = kit.catalog.spec(sig).text
            await run.sink.emit(
                CheckStarted(
                    t=run.t(),
                    hypothesis_id=users[0],
                    description=f"{text} ({len(users)} hypotheses)",
                    query=e.query,
                )
            )


def open_faults(kit: Kit, run: Run) -> set[str]:
    """Faults whose log checks could still change the answer (value of information): a hypothesis
    not refuted by metrics and traces, whose score plus everything its log rules could add would
    come within a point of the current leader. With no clear leader yet, every unrefuted fault is
    open — including those whose log lines name other components (leads). A catch-all leader ("it got
    slow") sets no bar: any specific fault its log lines could support would explain it away; nor does
    a cause off the symptom's known dependency path (a concurrent anomaly elsewhere)."""
    ctx = judge_context(run)
    scored = judge_all(kit, run, ctx)
    alive = [s.hypothesis for s in scored if s.hypothesis.status != HypothesisStatus.REFUTED]
    supported = [
        h.score
        for h in alive
        if h.status == HypothesisStatus.SUPPORTED
        and not kit.faults.get(h.fault).generic
        and not off_path(h.component, h.fault, run.obs, ctx)
    ]
    bar = max(supported) - 1.0 if supported else float("-inf")
    open_ = {h.fault for h in alive if h.score + sum(r.weight for r in kit.faults.get(h.fault).logs) >= bar}
    # A fault no metric could test (an exporter missing: no pool gauges) has no score to compare: on a
    # component that went bad, its log lines are the only test there is, so they are worth one query.
    for h in alive:
        untested = h.status == HypothesisStatus.UNTESTABLE and bool(kit.faults.get(h.fault).logs)
        if untested and health(run.obs, h.component, ctx.baseline_until)[0] >= UNHEALTHY:
            open_.add(h.fault)
    return open_

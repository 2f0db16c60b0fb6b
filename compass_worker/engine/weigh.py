"""Judge phase: every hypothesis judged from evidence, then the post-passes; the findings emitted."""

from __future__ import annotations

from compass_worker.domain.events import EvidenceFound, GapFound, HypothesisRefuted, HypothesisSupported
from compass_worker.domain.models import HypothesisStatus
from compass_worker.engine.context import JudgeContext, Scored
from compass_worker.engine.judge import judge
from compass_worker.engine.postpass import (
    earliest_cause_first,
    explain_away_generic,
    outliers_yield_to_measured,
    placed_before_unplaced,
    separate_lookalikes,
    yield_to_causes,
)
from compass_worker.engine.state import Kit, Run
from compass_worker.engine.unmeasured import unmeasured_specific


def judge_all(kit: Kit, run: Run, ctx: JudgeContext) -> list[Scored]:
    units = kit.catalog.units()
    scored = [judge(h, kit.faults.get(h.fault), run.obs, ctx, units) for h in run.hypotheses.values()]
    scored = earliest_cause_first(explain_away_generic(scored, kit.faults), ctx)
    scored = placed_before_unplaced(scored, run.obs, ctx)
    scored = yield_to_causes(scored, run.obs, kit.faults, ctx.symptom_onset)
    scored = outliers_yield_to_measured(scored, run.obs, kit.faults, ctx)
    scored = separate_lookalikes(scored, run.obs, kit.faults, ctx)
    return unmeasured_specific(scored, run.obs, kit.faults, ctx)


async def report(run: Run, scored: list[Scored]) -> None:
    for s in sorted(scored, key=lambda x: -x.hypothesis.score):
        h = s.hypothesis
        run.hypotheses[h.id] = h
        if h.status == HypothesisStatus.REFUTED:
            await run.sink.emit(HypothesisRefuted(t=run.t(), hypothesis=h, reason=h.refuted_because or ""))
        elif h.status == HypothesisStatus.SUPPORTED:
            for ev in h.evidence:
                await run.sink.emit(EvidenceFound(t=run.t(), hypothesis_id=h.id, evidence=ev))
            await run.sink.emit(HypothesisSupported(t=run.t(), hypothesis=h))
    for gap in run.obs.gaps:
        await run.sink.emit(GapFound(t=run.t(), text=gap))

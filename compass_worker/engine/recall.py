"""Memory's say: past incidents and corrections adjust scores (they reorder, never decide)."""

from __future__ import annotations

from compass_worker.domain.models import Hypothesis, HypothesisOrigin
from compass_worker.engine.fingerprint import fingerprint
from compass_worker.engine.state import Kit, Run


async def apply_memory(kit: Kit, run: Run) -> None:
    if kit.memory is None:
        return
    try:
        adjustments = await kit.memory(
            run.incident, frozenset(run.obs.components()), fingerprint(run.obs, run.src.start)
        )
    except Exception as exc:  # memory is advisory: an outage of the store must not stop an investigation
        run.obs.notes.append(f"memory unavailable: {exc}")
        return
    bonus: dict[str, float] = {}
    for adj in adjustments:
        hid = Hypothesis.key(adj.component, adj.fault)
        bonus[hid] = bonus.get(hid, 0.0) + adj.weight
        if hid not in run.hypotheses and adj.weight > 0:
            spec = kit.faults.faults.get(adj.fault)
            if spec is not None:
                run.hypotheses[hid] = Hypothesis(
                    id=hid,
                    component=adj.component,
                    fault=adj.fault,
                    prior=spec.prior,
                    origin=HypothesisOrigin.MEMORY,
                    rationale=adj.citation,
                )
        run.obs.notes.append(adj.citation)
        if adj.citation and adj.citation not in run.citations:
            run.citations.append(adj.citation)
    run.prior_bonus = bonus

"""Orient: which components could be involved, and a hypothesis for every fault their kind can have."""

from __future__ import annotations

from collections.abc import Iterable

from compass_worker.domain.events import HypothesisProposed
from compass_worker.domain.models import Hypothesis, HypothesisOrigin
from compass_worker.engine.context import JudgeContext
from compass_worker.engine.health import UNHEALTHY, health
from compass_worker.engine.observations import Observations
from compass_worker.engine.reasoning import accept_hypotheses
from compass_worker.engine.state import Kit, Run

# Shared infrastructure is always worth a check: without client metrics or traces the graph may not
# show who depends on a database, a cache, a queue, a node or DNS.
SHARED_KINDS = ("dns", "host", "volume", "database", "cache", "queue")


def candidates(run: Run, ctx: JudgeContext) -> list[str]:
    obs = run.obs
    comps = obs.components()
    relevant = set(ctx.path)
    if ctx.symptom_component:
        relevant.add(ctx.symptom_component)
    for c in comps:
        hs, _ = health(obs, c, ctx.baseline_until)
        if hs >= UNHEALTHY or obs.kinds.get(c) in SHARED_KINDS:
            relevant.add(c)
    for t in obs.traces:
        relevant.add(t.component)
    relevant |= mentioned(obs, comps)
    # A node known only from placements (no node exporter) is still shared infrastructure: worth a
    # check when several of what runs on it are involved (its residents' logs may say what it has).
    for host, residents in obs.hosts.items():
        if host not in comps and len(residents & relevant) >= 2:
            relevant.add(host)
    if not relevant:
        relevant = comps
    return sorted(relevant)


def mentioned(obs: Observations, comps: set[str]) -> set[str]:
    """Components named in the new log lines of other components (leads)."""
    return {c for counts in obs.mentions.values() for c, n in counts.items() if n >= 3 and c in comps}


async def propose(kit: Kit, run: Run, comps: Iterable[str], origin: HypothesisOrigin) -> None:
    for comp in comps:
        kind = run.obs.kind_of(comp)
        for spec in kit.faults.for_kind(kind):
            hid = Hypothesis.key(comp, spec.id)
            if hid in run.hypotheses:
                continue
            h = Hypothesis(
                id=hid,
                component=comp,
                fault=spec.id,
                prior=spec.prior,
                origin=origin,
                rationale=f"{spec.id.replace('_', ' ')} on {comp} ({kind})",
            )
            run.hypotheses[hid] = h
            if run.first_hypothesis_s is None:
                run.first_hypothesis_s = run.t()
            await run.sink.emit(HypothesisProposed(t=run.t(), hypothesis=h))


async def reasoner_hypotheses(kit: Kit, run: Run) -> None:
    """The optional reasoner's proposals, validated against the observations and the catalog."""
    if kit.reasoner is None:
        return
    try:
        proposals = await kit.reasoner.propose_hypotheses(run.view(kit.faults))
    except Exception as exc:  # a reasoner failing must never stop the investigation
        run.notices.append(f"AI unavailable — presenting the gathered data ({type(exc).__name__})")
        return
    accepted, notes = accept_hypotheses(proposals, run.obs, kit.faults)
    run.obs.notes.extend(notes)
    for comp, fault in accepted:
        hid = Hypothesis.key(comp, fault)
        if hid not in run.hypotheses:
            h = Hypothesis(
                id=hid,
                component=comp,
                fault=fault,
                prior=kit.faults.get(fault).prior,
                origin=HypothesisOrigin.LLM,
                rationale="proposed by the AI reasoner",
            )
            run.hypotheses[hid] = h
            await run.sink.emit(HypothesisProposed(t=run.t(), hypothesis=h))

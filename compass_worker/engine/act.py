"""Act: run the chosen checks in parallel — metric queries, versions, placement, traces, log rules,
the reasoner's proposed checks — and one more round for the leads they turned up."""

from __future__ import annotations

import asyncio
import re

from compass_worker.domain.events import CheckStarted, PhaseStarted
from compass_worker.domain.models import HypothesisOrigin
from compass_worker.engine import logs as logmod
from compass_worker.engine import metrics as metricmod
from compass_worker.engine import traces as tracemod
from compass_worker.engine.decide import announce_checks, metric_checks, needed_signals, open_faults
from compass_worker.engine.reasoning import run_checks
from compass_worker.engine.state import Kit, Run
from compass_worker.signals.catalog import CatalogEntry

TRACE_EXTRA_CALLS = 20  # what the trace step may take beyond its own searches and fetches, at most
LEAD_SAMPLES = 5  # log rules whose lines are sampled for the components they name


async def fetch_checks(
    kit: Kit, run: Run, todo: list[CatalogEntry], disc: metricmod.Discovery, split: float
) -> None:
    src, obs = run.src, run.obs
    # The extra baseline traces (the tail, callees never seen before) only while the budget allows.
    spare = kit.calls() - run.calls_at_start + len(todo) + TRACE_EXTRA_CALLS < kit.budget.tool_calls
    await asyncio.gather(
        metricmod.fetch_entries(src, kit.catalog, todo, disc, obs),
        metricmod.fetch_versions(src, kit.catalog, disc, obs),
        metricmod.fetch_placement(src, kit.catalog, disc, obs),
        tracemod.observe_traces(src, kit.catalog, obs, split, onset=run.onset, extras=spare),
    )


async def check_logs(kit: Kit, run: Run, split: float, faults: set[str]) -> None:
    """Decide + act for log evidence: each open fault's log rules become one query each;
    where lines that name other components appeared, a sample tells which (new leads)."""
    obs = run.obs
    rules = [(f, i, r.pattern) for f in sorted(faults) for i, r in enumerate(kit.faults.get(f).logs)]
    await logmod.check_log_rules(run.src, obs, rules)
    obs.log_rules_checked.update(logmod.rule_signal(f, i) for f, i, _ in rules)
    hot: list[tuple[float, str, str, list[str]]] = []
    for f, i, pattern in rules:
        sig = logmod.rule_signal(f, i)
        owners = []
        best = 0.0
        for (c, sg, _), series in obs.series.items():
            a = series.anomaly("up", None) if sg == sig else None
            if a is not None and a.anomalous:
                owners.append(c)
                best = max(best, a.strength())
        if owners:
            hot.append((best, sig, pattern, owners))
    hot.sort(reverse=True)
    samples = await asyncio.gather(
        *(
            logmod.sample_mentions(run.src, obs, pattern, owners, split)
            for _, _, pattern, owners in hot[:LEAD_SAMPLES]
        )
    )
    known = {c for c in obs.components() if len(c) > 3}
    for (_, sig, _, owners), lines in zip(hot[:LEAD_SAMPLES], samples, strict=True):
        if lines:
            obs.examples[sig] = lines[0]
        counts: dict[str, int] = {}
        for line in lines:
            low = line.lower()
            for c in known:
                if c not in owners and re.search(rf"(?<![\w.-]){re.escape(c)}(?![\w-])", low):
                    counts[c] = counts.get(c, 0) + 1
        obs.mentions[sig] = counts
        if len(owners) == 1:
            logmod.mentioned_calls(obs, owners[0], counts)


async def follow_leads(
    kit: Kit, run: Run, entries: list[CatalogEntry], disc: metricmod.Discovery, *, fetched: set[str]
) -> None:
    """One more decide + act round for hypotheses that leads added: only the checks not run yet."""
    needed = needed_signals(kit, run)
    todo = metric_checks(entries, needed - fetched)
    # Log checks only for what the leads added and could still change the answer.
    lead_faults = {h.fault for h in run.hypotheses.values() if h.origin == HypothesisOrigin.LEAD}
    faults = lead_faults & open_faults(kit, run)
    rules = [
        (f, i, r.pattern)
        for f in sorted(faults)
        for i, r in enumerate(kit.faults.get(f).logs)
        if logmod.rule_signal(f, i) not in run.obs.log_rules_checked
    ]
    if not todo and not rules:
        return
    await run.sink.emit(PhaseStarted(t=run.t(), phase="act", detail=f"{len(todo)} checks for new leads"))
    await announce_checks(kit, run, todo)
    await asyncio.gather(
        metricmod.fetch_entries(run.src, kit.catalog, todo, disc, run.obs),
        logmod.check_log_rules(run.src, run.obs, rules),
    )
    run.obs.log_rules_checked.update(logmod.rule_signal(f, i) for f, i, _ in rules)
    fetched |= needed


async def reasoner_checks(kit: Kit, run: Run) -> None:
    """The reasoner's proposed queries, validated and run; their results are neutral evidence."""
    if kit.reasoner is None:
        return
    try:
        checks = await kit.reasoner.propose_checks(run.view(kit.faults))
    except Exception as exc:  # a reasoner failing must never stop the investigation
        run.notices.append(f"AI unavailable — presenting the gathered data ({type(exc).__name__})")
        return
    checks = [c for c in checks if c.hypothesis_id in run.hypotheses]
    for c in checks:
        await run.sink.emit(
            CheckStarted(
                t=run.t(),
                hypothesis_id=c.hypothesis_id,
                description=f"AI-proposed: {c.purpose}",
                query=c.query,
            )
        )
    for hid, evs in (await run_checks(run.src, checks)).items():
        run.extra_evidence.setdefault(hid, []).extend(evs)

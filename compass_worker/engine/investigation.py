"""The investigation loop: observe → orient → decide → act → judge → (leads → judge) → verdict.

Every phase emits typed events to a sink; nothing here knows how they are shown. Budgets bound the
whole run (wall clock, tool calls); when one runs out the verdict is computed from what was gathered
and says so.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from compass_worker.domain.events import (
    CheckStarted,
    EvidenceFound,
    GapFound,
    HypothesisProposed,
    HypothesisRefuted,
    HypothesisSupported,
    Observed,
    PhaseStarted,
    Sink,
    VerdictReached,
)
from compass_worker.domain.models import (
    AnomalyStep,
    Cost,
    Eliminated,
    Evidence,
    Hypothesis,
    HypothesisOrigin,
    HypothesisStatus,
    Incident,
    RootCause,
    Stance,
    Timings,
    Verdict,
)
from compass_worker.engine import alert_evidence as alertmod
from compass_worker.engine import log_templates as logtpl
from compass_worker.engine import logs as logmod
from compass_worker.engine import metrics as metricmod
from compass_worker.engine import traces as tracemod
from compass_worker.engine.faultcatalog import FaultCatalog
from compass_worker.engine.incident import candidate_tokens
from compass_worker.engine.judge import JudgeContext, Scored, confidences, health, hhmm, judge
from compass_worker.engine.observations import Observations
from compass_worker.engine.reasoning import accept_hypotheses, context_view, run_checks
from compass_worker.engine.source import TelemetrySource
from compass_worker.reasoners.protocol import Reasoner, ReasoningContext
from compass_worker.signals.catalog import CatalogEntry, SignalCatalog
from compass_worker.telemetry.grafana.client import GrafanaClient

CONFIDENT = 0.5  # top confidence needed to call a root cause
GENERIC_PENALTY = 4.0
LATER_GRACE_S = 60.0  # onsets this close are simultaneous at a 30 s step
LATER_PENALTY_PER_MIN = 0.75
LATER_PENALTY_MAX = 3.0
YIELD_MARGIN = 2.0
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


@dataclass(frozen=True)
class Budget:
    wall_clock_s: float = 60.0
    tool_calls: int = 200
    max_templates: int = 6  # components whose log templates are mined


@dataclass(frozen=True)
class PriorAdjustment:
    """Memory's say on a cause: a weight added to its score, and the citation shown with it."""

    component: str
    fault: str
    weight: float
    citation: str


# Memory is asked with the incident, the components its telemetry names, and its anomaly fingerprint.
PriorSource = Callable[[Incident, frozenset[str], tuple[AnomalyStep, ...]], Awaitable[list[PriorAdjustment]]]


@dataclass
class _Run:
    incident: Incident
    src: TelemetrySource
    sink: Sink
    started: float
    obs: Observations = field(default_factory=Observations)
    first_hypothesis_s: float | None = None
    hypotheses: dict[str, Hypothesis] = field(default_factory=dict)
    symptom: str | None = None
    onset: float | None = None
    prior_bonus: dict[str, float] = field(default_factory=dict)
    extra_evidence: dict[str, list[Evidence]] = field(default_factory=dict)  # from reasoner-proposed checks
    notices: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)  # what memory said, shown with the verdict
    calls_at_start: int = 0

    def t(self) -> float:
        return time.monotonic() - self.started


def explain_away_generic(scored: list[Scored], faults: FaultCatalog) -> list[Scored]:
    """A catch-all ("it got slow") yields to a specific supported fault on the same component."""
    best_specific: dict[str, float] = {}
    for s in scored:
        h = s.hypothesis
        if h.status == HypothesisStatus.SUPPORTED and not faults.get(h.fault).generic:
            best_specific[h.component] = max(best_specific.get(h.component, 0.0), s.key_support)
    out = []
    for s in scored:
        h = s.hypothesis
        support = best_specific.get(h.component, 0.0)
        if faults.get(h.fault).generic and support > 0:
            penalty = GENERIC_PENALTY * support
            h = h.model_copy(update={"score": h.score - penalty})
            s = Scored(h, s.key_onset, s.tested, s.key_support)
        out.append(s)
    return out


FINGERPRINT_STEPS = 12


def fingerprint(obs: Observations, start: float) -> tuple[AnomalyStep, ...]:
    """Which signals moved where, in what order: the clearest departures, by onset."""
    steps: list[tuple[float, AnomalyStep]] = []
    for (comp, sig, peer), s in obs.series.items():
        if peer is not None or sig.startswith("log:") or sig == "version_change":
            continue
        a = s.anomaly()
        if a is None or not a.anomalous or a.onset is None or a.strength() < 0.3:
            continue
        direction: Literal["up", "down"] = "down" if s.bad == "down" else "up"
        steps.append(
            (
                a.strength(),
                AnomalyStep(
                    component=comp, signal=sig, direction=direction, onset_s=round(a.onset - start, 1)
                ),
            )
        )
    strongest = sorted(steps, key=lambda x: (-x[0], x[1].component, x[1].signal))[:FINGERPRINT_STEPS]
    return tuple(sorted((s for _, s in strongest), key=lambda s: (s.onset_s or 0.0, s.component, s.signal)))


def _rank_below(s: Scored, cause: Scored, why: str) -> Scored:
    h = s.hypothesis
    if h.score < cause.hypothesis.score:
        return s
    ev = Evidence(
        source="engine", query="dependency graph / placement", stance=Stance.REFUTES, observation=why
    )
    h = h.model_copy(update={"score": cause.hypothesis.score - YIELD_MARGIN, "evidence": (*h.evidence, ev)})
    return Scored(h, s.key_onset, s.tested, s.key_support)


def _load_rose(obs: Observations, components: set[str]) -> bool:
    for c in components:
        s = obs.get(c, "requests")
        a = s.anomaly("up") if s else None
        if a is not None and a.anomalous and a.ratio >= 1.3:
            return True
    return False


def yield_to_causes(scored: list[Scored], obs: Observations, faults: FaultCatalog) -> list[Scored]:
    """Effects rank just below their cause when the cause is supported next to them:
    - anything on a component yields to a lower-layer fault of its host (lost packets, a full disk;
      host CPU only when strictly earlier, since residents' load raises it);
    - catalog `yields_to` rules (a slow database to a failed sibling cache, a backlog to its consumer).
    """
    supported = [
        s
        for s in scored
        if s.hypothesis.status == HypothesisStatus.SUPPORTED
        and s.key_support >= 0.5
        and s.key_onset is not None
    ]
    out: list[Scored] = []
    for s in scored:
        h = s.hypothesis
        onset = s.key_onset
        if h.status == HypothesisStatus.REFUTED or onset is None:
            out.append(s)
            continue
        for cause in supported:
            c = cause.hypothesis
            if c.id == h.id or cause.key_onset is None:
                continue
            residents = obs.hosts.get(c.component, set()) if obs.kind_of(c.component) == "host" else set()
            # Lost packets on a host hurt what runs there and whoever talks to it.
            touched = h.component in residents or bool(obs.callees(h.component) & residents)
            if touched and obs.kind_of(h.component) != "host":
                lower = c.fault in ("network_packet_loss", "disk_full") and cause.key_onset <= onset + 30.0
                # Host CPU is a lower layer only when its residents' load did not rise (a noisy
                # neighbour); otherwise it is only first when strictly earlier.
                cpu = c.fault == "cpu_saturation" and (
                    cause.key_onset < onset - 15.0
                    or (cause.key_onset <= onset + 30.0 and not _load_rose(obs, residents))
                )
                if lower or cpu:
                    s = _rank_below(
                        s, cause, f"{h.component} runs on {c.component}, where {c.fault} began first"
                    )
                    continue
            for rule in faults.get(h.fault).yields_to:
                generic_cause = rule.fault == "*" and faults.get(c.fault).generic and not rule.include_generic
                if rule.fault not in ("*", c.fault) or generic_cause:
                    continue
                if rule.kinds and obs.kind_of(c.component) not in rule.kinds:
                    continue
                if rule.relation == "caller":
                    related = c.component in obs.callers(h.component)
                elif rule.relation == "callee":
                    related = c.component in obs.callees(h.component)
                elif rule.relation == "caller_downstream":
                    related = any(
                        c.component in obs.downstream(x) and x not in obs.downstream(h.component)
                        for x in obs.callers(h.component)
                    )
                else:
                    related = any(h.component in obs.callees(x) for x in obs.callers(c.component))
                if related and c.component != h.component and cause.key_onset <= onset + 60.0:
                    s = _rank_below(s, cause, f"{c.component}'s {c.fault} explains it ({rule.relation})")
        out.append(s)
    return out


def earliest_cause_first(scored: list[Scored], ctx: JudgeContext) -> list[Scored]:
    """Causes precede their effects: among supported causes on the symptom's path, one that began
    well after another is more likely a consequence of it (a DB slowed by a failed cache)."""
    supported = [
        s
        for s in scored
        if s.hypothesis.status == HypothesisStatus.SUPPORTED
        and s.key_onset is not None
        and (not ctx.path or s.hypothesis.component in ctx.path)
    ]
    if len(supported) < 2:
        return scored
    first = min(s.key_onset for s in supported if s.key_onset is not None)
    out = []
    for s in scored:
        h = s.hypothesis
        if s in supported and s.key_onset is not None and s.key_onset > first + LATER_GRACE_S:
            minutes = (s.key_onset - first) / 60.0
            penalty = min(LATER_PENALTY_MAX, LATER_PENALTY_PER_MIN * minutes)
            h = h.model_copy(update={"score": h.score - penalty})
            s = Scored(h, s.key_onset, s.tested, s.key_support)
        out.append(s)
    return out


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
        self._catalog = catalog
        self._faults = faults
        self._budget = budget or Budget()
        self._calls = calls or (lambda: 0)
        self._memory = memory
        self._reasoner = reasoner
        self.last_source: TelemetrySource | None = None

    async def run(self, incident: Incident, sink: Sink) -> Verdict:
        run = _Run(incident, TelemetrySource(self._client, incident), sink, time.monotonic())
        self.last_source = run.src
        calls_before = run.calls_at_start = self._calls()
        try:
            verdict = await asyncio.wait_for(self._investigate(run), timeout=self._budget.wall_clock_s)
        except TimeoutError:
            run.obs.gaps.append(
                f"wall-clock budget of {self._budget.wall_clock_s:.0f}s reached: "
                "verdict from what was gathered"
            )
            verdict = await self._verdict(run, self._judge_all(run, self._context(run)))
        verdict = verdict.model_copy(update={"tool_calls": self._calls() - calls_before})
        await sink.emit(VerdictReached(t=run.t(), verdict=verdict))
        return verdict

    # ------------------------------------------------------------------ phases

    async def _investigate(self, run: _Run) -> Verdict:
        src, obs, sink = run.src, run.obs, run.sink
        await sink.emit(
            PhaseStarted(t=run.t(), phase="observe", detail="discovering datasources and metrics")
        )
        ds = await src.discover_datasources()
        if not (src.prometheus or src.loki or src.tempo):
            reason = getattr(ds, "error", None) or getattr(ds, "reason", "no datasources")
            obs.gaps.append(f"no telemetry reachable: {reason}")
            return await self._verdict(run, [])
        disc = await metricmod.discover(src, self._catalog, obs)
        entries = [e for e in self._catalog.applicable(disc.metric_names)]
        # [discovery] signal discovery: inferred entries are fetched like catalog ones
        entries += disc.inferred
        disc.components = metricmod.discovered_components(self._catalog, disc)
        obs.metric_names = tuple(sorted(disc.metric_names))
        metricmod.assign_kinds(self._catalog, disc, obs)
        red = [e for e in entries if e.signal in RED_SIGNALS]
        await asyncio.gather(
            metricmod.fetch_entries(src, self._catalog, red, disc, obs),
            logmod.observe_logs(src, self._catalog, obs),
        )
        # [discovery] the alert text as evidence: the metrics, topics and groups it names are queried
        await alertmod.observe_alert(src, self._catalog, disc, obs, run.incident.symptom)
        run.symptom = self._symptom_component(run, disc.components | obs.components())
        run.onset = self._symptom_onset(run, run.symptom)
        await self._describe_symptom(run)

        # Orient: hypotheses for every component that could be involved, with catalog priors.
        await sink.emit(PhaseStarted(t=run.t(), phase="orient", detail="proposing hypotheses"))
        ctx = self._context(run)
        await self._propose(run, ctx, self._candidates(run, ctx), HypothesisOrigin.CATALOG)
        await self._reasoner_hypotheses(run)

        # Decide: the checks that could refute each hypothesis → the signal queries they need.
        await sink.emit(PhaseStarted(t=run.t(), phase="decide", detail="choosing disproof checks"))
        needed = {r.signal for h in run.hypotheses.values() for r in self._faults.get(h.fault).evidence}
        todo = [e for e in entries if e.signal in needed and e.signal not in RED_SIGNALS]
        await self._announce_checks(run, todo)

        # Act: run the checks in parallel (plus versions, placement, traces and log templates).
        await sink.emit(
            PhaseStarted(t=run.t(), phase="act", detail=f"{len(todo)} metric checks, logs, traces")
        )
        split = ctx.baseline_until or (src.start + 0.4 * (src.end - src.start))
        await asyncio.gather(
            metricmod.fetch_entries(src, self._catalog, todo, disc, obs),
            metricmod.fetch_versions(src, self._catalog, disc, obs),
            metricmod.fetch_placement(src, self._catalog, disc, obs),
            tracemod.observe_traces(src, self._catalog, obs, split),
        )
        ctx = self._context(run)  # the graph may have grown (traces)
        # [discovery] log-template bursts (Drain) of the components in focus become `log_template` series
        focus = logtpl.focus(obs, run.symptom, ctx.path, self._budget.max_templates)
        await logtpl.observe_templates(src, self._catalog, obs, focus, split)
        if self._within_budget(run, "log checks"):
            await self._check_logs(run, split, self._open_faults(run))
        if self._within_budget(run, "AI-proposed checks"):
            await self._reasoner_checks(run)

        # Judge, then follow new leads (components named by logs / traces) once.
        await sink.emit(PhaseStarted(t=run.t(), phase="judge", detail="weighing evidence"))
        new = [
            c
            for c in self._candidates(run, ctx)
            if not any(h.component == c for h in run.hypotheses.values())
        ]
        if new:
            await self._propose(run, ctx, new, HypothesisOrigin.LEAD)
            if self._within_budget(run, "checks for new leads"):
                await self._follow_leads(run, entries, disc, fetched=needed)
        await self._apply_memory(run)
        ctx = self._context(run)  # memory's bonuses and the graph as it now stands
        scored = self._judge_all(run, ctx)
        await self._report(run, scored)
        return await self._verdict(run, scored)

    # ------------------------------------------------------------------ helpers

    async def _follow_leads(
        self, run: _Run, entries: list[CatalogEntry], disc: metricmod.Discovery, *, fetched: set[str]
    ) -> None:
        """One more decide + act round for hypotheses that leads added: only the checks not run yet."""
        needed = {r.signal for h in run.hypotheses.values() for r in self._faults.get(h.fault).evidence}
        todo = [e for e in entries if e.signal in needed - fetched and e.signal not in RED_SIGNALS]
        # Log checks only for what the leads added and could still change the answer.
        lead_faults = {h.fault for h in run.hypotheses.values() if h.origin == HypothesisOrigin.LEAD}
        faults = lead_faults & self._open_faults(run)
        rules = [
            (f, i, r.pattern)
            for f in sorted(faults)
            for i, r in enumerate(self._faults.get(f).logs)
            if logmod.rule_signal(f, i) not in run.obs.log_rules_checked
        ]
        if not todo and not rules:
            return
        await run.sink.emit(PhaseStarted(t=run.t(), phase="act", detail=f"{len(todo)} checks for new leads"))
        await self._announce_checks(run, todo)
        await asyncio.gather(
            metricmod.fetch_entries(run.src, self._catalog, todo, disc, run.obs),
            logmod.check_log_rules(run.src, run.obs, rules),
        )
        run.obs.log_rules_checked.update(logmod.rule_signal(f, i) for f, i, _ in rules)
        fetched |= needed

    def _symptom_component(self, run: _Run, known: set[str]) -> str | None:
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

    def _symptom_onset(self, run: _Run, symptom: str | None) -> float | None:
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

    def _context(self, run: _Run) -> JudgeContext:
        src = run.src
        floor = src.start + 0.3 * (src.end - src.start)
        baseline_until = max(floor, run.onset - 600.0) if run.onset is not None else None
        path: frozenset[str] = frozenset()
        if run.symptom is not None and run.obs.edges:
            path = frozenset({run.symptom, *run.obs.downstream(run.symptom)})
        return JudgeContext(run.symptom, run.onset, baseline_until, path, dict(run.prior_bonus))

    def _candidates(self, run: _Run, ctx: JudgeContext) -> list[str]:
        obs = run.obs
        comps = obs.components()
        relevant = set(ctx.path)
        if ctx.symptom_component:
            relevant.add(ctx.symptom_component)
        for c in comps:
            hs, _ = health(obs, c, ctx.baseline_until)
            # Shared infrastructure is always worth a check: without client metrics or traces the graph
            # may not show who depends on a database, a cache, a queue, a node or DNS.
            if hs >= 0.2 or obs.kinds.get(c) in ("dns", "host", "volume", "database", "cache", "queue"):
                relevant.add(c)
        for t in obs.traces:
            relevant.add(t.component)
        relevant |= self._mentioned(obs, comps)
        if not relevant:
            relevant = comps
        return sorted(relevant)

    @staticmethod
    def _mentioned(obs: Observations, comps: set[str]) -> set[str]:
        """Components named in the new log lines of other components (leads)."""
        return {c for counts in obs.mentions.values() for c, n in counts.items() if n >= 3 and c in comps}

    async def _propose(
        self, run: _Run, ctx: JudgeContext, comps: Iterable[str], origin: HypothesisOrigin
    ) -> None:
        for comp in comps:
            kind = run.obs.kind_of(comp)
            for spec in self._faults.for_kind(kind):
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

    async def _announce_checks(self, run: _Run, todo: list[CatalogEntry]) -> None:
        by_signal: dict[str, CatalogEntry] = {}
        for e in todo:
            by_signal.setdefault(e.signal, e)
        for sig, e in sorted(by_signal.items()):
            users = [h.id for h in run.hypotheses.values() if sig in self._faults.get(h.fault).signals]
            if users:
                text = self._catalog.spec(sig).text
                await run.sink.emit(
                    CheckStarted(
                        t=run.t(),
                        hypothesis_id=users[0],
                        description=f"{text} ({len(users)} hypotheses)",
                        query=e.query,
                    )
                )

    def _within_budget(self, run: _Run, what: str) -> bool:
        """The tool-call budget bounds every investigation; past it, later checks are skipped and said so."""
        used = self._calls() - run.calls_at_start
        if used < self._budget.tool_calls:
            return True
        run.obs.gaps.append(f"tool-call budget of {self._budget.tool_calls} reached: {what} skipped")
        return False

    def _open_faults(self, run: _Run) -> set[str]:
        """Faults whose log checks could still change the answer (value of information): a hypothesis
        not refuted by metrics and traces, whose score plus everything its log rules could add would
        come within a point of the current leader. With no clear leader yet, every unrefuted fault is
        open — including those whose log lines name other components (leads)."""
        scored = self._judge_all(run, self._context(run))
        alive = [s.hypothesis for s in scored if s.hypothesis.status != HypothesisStatus.REFUTED]
        supported = [h.score for h in alive if h.status == HypothesisStatus.SUPPORTED]
        bar = max(supported) - 1.0 if supported else float("-inf")
        return {
            h.fault for h in alive if h.score + sum(r.weight for r in self._faults.get(h.fault).logs) >= bar
        }

    async def _check_logs(self, run: _Run, split: float, faults: set[str]) -> None:
        """Decide + act for log evidence: each open fault's log rules become one query each;
        where lines that name other components appeared, a sample tells which (new leads)."""
        obs = run.obs
        rules = [(f, i, r.pattern) for f in sorted(faults) for i, r in enumerate(self._faults.get(f).logs)]
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
                for _, _, pattern, owners in hot[:5]
            )
        )
        known = {c for c in obs.components() if len(c) > 3}
        for (_, sig, _, owners), lines in zip(hot[:5], samples, strict=True):
            if lines:
                obs.examples[sig] = lines[0]
            counts: dict[str, int] = {}
            for line in lines:
                low = line.lower()
                for c in known:
                    if c not in owners and re.search(rf"(?<![\w.-]){re.escape(c)}(?![\w-])", low):
                        counts[c] = counts.get(c, 0) + 1
            obs.mentions[sig] = counts

    def _view(self, run: _Run) -> ReasoningContext:
        return context_view(
            run.incident.symptom, run.symptom, run.onset, run.src, run.obs, run.hypotheses, self._faults
        )

    async def _reasoner_hypotheses(self, run: _Run) -> None:
        if self._reasoner is None:
            return
        try:
            proposals = await self._reasoner.propose_hypotheses(self._view(run))
        except Exception as exc:  # a reasoner failing must never stop the investigation
            run.notices.append(f"AI unavailable — presenting the gathered data ({type(exc).__name__})")
            return
        accepted, notes = accept_hypotheses(proposals, run.obs, self._faults)
        run.obs.notes.extend(notes)
        for comp, fault in accepted:
            hid = Hypothesis.key(comp, fault)
            if hid not in run.hypotheses:
                h = Hypothesis(
                    id=hid,
                    component=comp,
                    fault=fault,
                    prior=self._faults.get(fault).prior,
                    origin=HypothesisOrigin.LLM,
                    rationale="proposed by the AI reasoner",
                )
                run.hypotheses[hid] = h
                await run.sink.emit(HypothesisProposed(t=run.t(), hypothesis=h))

    async def _reasoner_checks(self, run: _Run) -> None:
        if self._reasoner is None:
            return
        try:
            checks = await self._reasoner.propose_checks(self._view(run))
        except Exception as exc:  # see above
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

    async def _apply_memory(self, run: _Run) -> None:
        if self._memory is None:
            return
        try:
            adjustments = await self._memory(
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
                spec = self._faults.faults.get(adj.fault)
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

    def _judge_all(self, run: _Run, ctx: JudgeContext) -> list[Scored]:
        units = {name: spec.unit for name, spec in self._catalog.signals.items()}
        scored = [judge(h, self._faults.get(h.fault), run.obs, ctx, units) for h in run.hypotheses.values()]
        scored = earliest_cause_first(explain_away_generic(scored, self._faults), ctx)
        return yield_to_causes(scored, run.obs, self._faults)

    async def _report(self, run: _Run, scored: list[Scored]) -> None:
        for s in sorted(scored, key=lambda x: -x.hypothesis.score):
            h = s.hypothesis
            run.hypotheses[h.id] = h
            if h.status == HypothesisStatus.REFUTED:
                await run.sink.emit(
                    HypothesisRefuted(t=run.t(), hypothesis=h, reason=h.refuted_because or "")
                )
            elif h.status == HypothesisStatus.SUPPORTED:
                for ev in h.evidence:
                    await run.sink.emit(EvidenceFound(t=run.t(), hypothesis_id=h.id, evidence=ev))
                await run.sink.emit(HypothesisSupported(t=run.t(), hypothesis=h))
        for gap in run.obs.gaps:
            await run.sink.emit(GapFound(t=run.t(), text=gap))

    async def _describe_symptom(self, run: _Run) -> None:
        if run.symptom is None:
            run.obs.gaps.append("could not tell which component the symptom is about: say it with --service")
            text = "symptom component unknown"
        else:
            when = f", onset {hhmm(run.onset)} UTC" if run.onset else ", no clear onset"
            text = f"symptom on {run.symptom}{when}"
        await run.sink.emit(Observed(t=run.t(), text=text))

    async def _verdict(self, run: _Run, scored: list[Scored]) -> Verdict:
        live = [
            s
            for s in scored
            if s.tested
            and s.hypothesis.status != HypothesisStatus.REFUTED
            and s.hypothesis.status != HypothesisStatus.UNTESTABLE
            and s.hypothesis.score > 0
        ]
        # Hypotheses with their key evidence present rank first and share the confidence (with the
        # "none of these" alternative); the rest follow with their share of the whole field.
        live.sort(key=lambda s: (s.hypothesis.status != HypothesisStatus.SUPPORTED, -s.hypothesis.score))
        # Memory may reorder the candidates, but confidence — and so whether this is a root cause at
        # all — is computed from the evidence alone: memory never overrides evidence.
        evidence = [s.hypothesis.score - run.prior_bonus.get(s.hypothesis.id, 0.0) for s in live]
        n_supported = sum(1 for s in live if s.hypothesis.status == HypothesisStatus.SUPPORTED)
        whole = confidences(evidence)
        confs = confidences(evidence[:n_supported]) + whole[n_supported:]
        root_causes = tuple(
            RootCause(
                component=s.hypothesis.component,
                fault=s.hypothesis.fault,
                confidence=round(c, 3),
                summary=s.hypothesis.rationale,
                evidence=(
                    *[e for e in s.hypothesis.evidence if e.stance.value == "supports"][:6],
                    *run.extra_evidence.get(s.hypothesis.id, [])[:3],
                ),
            )
            for s, c in list(zip(live, confs, strict=True))[:5]
        )
        # The eliminations worth reading first are those that looked most like the answer.
        refuted = sorted(
            (s.hypothesis for s in scored if s.hypothesis.status == HypothesisStatus.REFUTED),
            key=lambda h: (-h.score, h.id),
        )
        eliminated = tuple(
            Eliminated(component=h.component, fault=h.fault, reason=h.refuted_because or "")
            for h in refuted[:12]
        )
        # Missing telemetry matters where the answer is likely: the symptom and the leading candidates.
        gaps = list(dict.fromkeys(run.obs.gaps))
        focus = {run.symptom, *(rc.component for rc in root_causes[:3] if rc.confidence >= 0.2)}
        for s in scored:
            h = s.hypothesis
            untestable_here = h.status == HypothesisStatus.UNTESTABLE and h.component in focus
            if untestable_here and h.rationale not in gaps and len(gaps) < 10:
                gaps.append(h.rationale)
        confident = bool(root_causes) and root_causes[0].confidence >= CONFIDENT
        verdict = Verdict(
            verdict="root_cause" if confident else "inconclusive",
            incident=run.incident,
            root_causes=root_causes,
            eliminated=eliminated,
            gaps=tuple(gaps),
            observations=(*self._observations(run), *run.obs.findings()),  # [discovery] alert, log templates
            timings=Timings(first_hypothesis_s=run.first_hypothesis_s, verdict_s=round(run.t(), 3)),
            tool_calls=self._calls(),
            cost=Cost(),
            notices=tuple(run.notices),
            memory=tuple(run.citations),
            anomalies=fingerprint(run.obs, run.src.start),
            # [discovery] which signal mappings were inferred
            inferred_signals=tuple(dict.fromkeys(run.obs.inferred)),
        )
        return await self._summarize(run, verdict)

    async def _summarize(self, run: _Run, verdict: Verdict) -> Verdict:
        if self._reasoner is None:
            return verdict
        narrative = None
        try:
            narrative = await self._reasoner.summarize(self._view(run), verdict)
        except Exception as exc:  # see above
            run.notices.append(f"AI unavailable — presenting the gathered data ({type(exc).__name__})")
        report = self._reasoner.report()
        notices = tuple(dict.fromkeys([*run.notices, *report.notices]))
        return verdict.model_copy(update={"narrative": narrative, "cost": report.cost, "notices": notices})

    @staticmethod
    def _observations(run: _Run) -> list[str]:
        rows = []
        for (c, sig, peer), s in run.obs.series.items():
            a = s.anomaly()
            if a and a.anomalous:
                rows.append(
                    (a.strength(), f"{c}{'→' + peer if peer else ''} {sig}: {a.baseline:.3g} → {a.peak:.3g}")
                )
        rows.sort(key=lambda r: -r[0])
        graph = run.obs.graph_source()
        where = "none found: no traces and no client/peer labels" if graph == "none" else f"from {graph}"
        return [f"dependency graph {where} ({len(run.obs.edges)} edges)", *(r[1] for r in rows[:8])]

"""Localisation: causes sit on the symptom's dependency path and precede it; victims yield.

A hypothesis gains for being on the symptom's path, loses for being off it (more for a caller of the
symptom, whose anomalies are effects), for starting late, and for a callee or host that went bad first.
"""

from __future__ import annotations

from compass_worker.domain.models import Evidence, Hypothesis, Stance
from compass_worker.engine.context import JudgeContext
from compass_worker.engine.faultcatalog import FaultSpec
from compass_worker.engine.fmt import fmt_value, hhmm
from compass_worker.engine.health import LOWER_LAYER, edge_health, edge_measured, fleet_wide_cpu, health
from compass_worker.engine.observations import Observations
from compass_worker.engine.rules import LATE_S, Tally

PATH_BONUS = 0.75
OFF_PATH_PENALTY = 1.5
UPSTREAM_PENALTY = 3.0  # a caller of the symptom's component: its anomalies are effects, not causes
LATE_PENALTY = 2.0
VICTIM_PENALTY = 3.0
CLEAR_VICTIM = 0.8  # a callee this clearly bad, strictly first, explains the component away
CLEAR_VICTIM_WITHIN_S = 300.0  # ...when it broke at most this long before the component


_ATTACHED = frozenset({"volume", "host"})


def unplaced(comp: str, obs: Observations) -> bool:
    """The graph has no edge to or from `comp` (and it hosts nothing): where it sits is unknown, not off
    the path. Calls the telemetry does not show (a database behind opaque TCP, no client metrics, no
    traces) leave stores and services out of the graph while the rest of it is known. Such a cause
    is neither scored down nor ranked as off the path; but nothing confirms it is on the path either,
    so it does not lead confidently (`verdict.rank`'s `unplaced`)."""
    if obs.kind_of(comp) in _ATTACHED or obs.hosts.get(comp):
        return False  # volumes and hosts are placed by what they serve, never by calls
    return not any(comp in e for e in obs.edges)


def off_path(comp: str, fault: str, obs: Observations, ctx: JudgeContext) -> bool:
    """The dependency graph is known and `comp` is not on the symptom's path, nor hosts any of it (the
    same test `on_path` scores): a cause there cannot explain the symptom. DNS serves everyone."""
    if not ctx.path or fault == "dns_failure" or unplaced(comp, obs):
        return False
    on = comp in ctx.path or comp == ctx.symptom_component or bool(obs.hosts.get(comp, set()) & ctx.path)
    return not on


def on_path(t: Tally, h: Hypothesis, obs: Observations, ctx: JudgeContext) -> None:
    if ctx.path:
        comp = t.component
        hosted = obs.hosts.get(comp, set())
        on = comp in ctx.path or comp == ctx.symptom_component or bool(hosted & ctx.path)
        # DNS serves everyone: it is never "off" a dependency path.
        if on:
            t.score += PATH_BONUS
        elif h.fault != "dns_failure" and not unplaced(comp, obs):
            upstream = ctx.symptom_component is not None and ctx.symptom_component in obs.downstream(comp)
            t.score -= UPSTREAM_PENALTY if upstream else OFF_PATH_PENALTY
    if ctx.symptom_onset is not None and t.key_onset is not None and t.key_onset > ctx.symptom_onset + LATE_S:
        t.score -= LATE_PENALTY


_TRACE_TROUBLE = ("self_time", "edge_self_time", "error_origin")
TRACE_LEAD = 0.8  # an edge_self_time finding this close to the largest extra own time: where time went


def _time_is_its_own(obs: Observations, comp: str, callee: str) -> bool:
    """Traces put the slow requests' extra time on `comp`'s own spans, none on the callee's, and no
    failing trace ends in the callee: whatever the callee's metrics show (a rollout, a slower tail of
    its own) did not reach the requests `comp` served."""
    own = any(
        f.component == comp and f.kind == "edge_self_time" and f.value >= TRACE_LEAD for f in obs.traces
    )
    return own and not any(
        f.component == callee and f.kind in ("self_time", "edge_self_time", "error_origin")
        for f in obs.traces
    )


def victim_of_callee(t: Tally, spec: FaultSpec, obs: Observations, ctx: JudgeContext) -> None:
    if not spec.explained_by_callees or t.key_onset is None:
        return
    comp = t.component
    # Compare when the trouble showed (the component's own health), not when the cause began:
    # a surge starts with requests, but who broke first is what tells the victim. A logged config
    # reload is when the change happened, not when the component broke: it does not count here.
    own_onset = health(obs, comp, ctx.baseline_until, trouble_only=True)[1] or t.key_onset
    for callee in obs.callees(comp):
        hs, hon = health(obs, callee, ctx.baseline_until)
        # An untraced callee (a third-party API) has no signals of its own: the caller's calls to it
        # going bad first say the same thing.
        es, eon = edge_health(obs, comp, callee, ctx.baseline_until)
        if _time_is_its_own(obs, comp, callee):
            continue
        if es < 0.3 and edge_measured(obs, comp, callee):
            # Its calls to the callee are measured and stayed normal: whatever the callee went through
            # (a rollout, a slower tail of its own) did not reach this component.
            continue
        if es > hs and eon is not None:
            hs, hon = es, eon
        if hs >= 0.3 and hon is not None and hon <= own_onset + 30.0:
            t.score -= VICTIM_PENALTY * hs
            if hs >= CLEAR_VICTIM and own_onset - CLEAR_VICTIM_WITHIN_S <= hon < own_onset - 30.0:
                # The callee clearly broke a scrape or more (and at most a few minutes) before this
                # component did: whatever changed here, the trouble came from below. Its key evidence
                # (a reload logged, a rollout) no longer makes it a supported cause that outranks the
                # callee's. A callee blip long before (a CPU spike that passed) says nothing of the kind.
                t.key_support = 0.0
            t.evidence.append(
                Evidence(
                    source="engine",
                    query="dependency graph",
                    stance=Stance.REFUTES,
                    observation=f"{callee}, which {comp} calls, went bad first "
                    f"({hhmm(hon)}): {comp} looks like a victim",
                    weight=-VICTIM_PENALTY * hs,
                )
            )
            return


HOST_BUSY = 0.8  # host CPU below this is its residents' load moving it, not a host in trouble


def _host_trouble(obs: Observations, host: str, baseline_until: float | None) -> frozenset[str] | None:
    """The host signals that can say a host went bad. Its CPU follows its residents' load: a rise from
    32 % to 36 % is many of a quiet baseline's sigmas and no trouble, so it counts only when busy."""
    cpu = obs.get(host, "host_cpu")
    a = cpu.anomaly(None, baseline_until) if cpu else None
    if fleet_wide_cpu(obs, baseline_until):
        return _besides_cpu(obs, host)  # every node heated at once: no node's own trouble
    if a is None or a.peak >= HOST_BUSY:
        return None
    return _besides_cpu(obs, host)


def _besides_cpu(obs: Observations, host: str) -> frozenset[str]:
    return frozenset(sig for (c, sig, _) in obs.series if c == host and sig != "host_cpu")


BUSY_AT_WITHIN_S = 120.0  # the host's CPU sample nearest a moment, at most this far before it


def _busy_at(obs: Observations, host: str, when: float) -> bool:
    """The host's CPU was at or above HOST_BUSY around `when` (the last samples up to it)."""
    cpu = obs.get(host, "host_cpu")
    if cpu is None:
        return False
    near = [
        v
        for ts, v in zip(cpu.timestamps, cpu.values, strict=True)
        if when - BUSY_AT_WITHIN_S <= ts <= when + 30.0
    ]
    return any(v == v and v >= HOST_BUSY for v in near)


def victim_of_host(t: Tally, obs: Observations, ctx: JudgeContext) -> None:
    comp = t.component
    if t.key_onset is None or obs.kind_of(comp) == "host":
        return
    for host, residents in obs.hosts.items():
        if comp not in residents or host == comp:
            continue
        trouble = _host_trouble(obs, host, ctx.baseline_until)
        if trouble is None and not _busy_at(obs, host, t.key_onset):
            # A busy CPU would say the host was in trouble, but it had calmed down by the time the
            # component broke: a spike that passed minutes before is not why it broke.
            trouble = _besides_cpu(obs, host)
        hs, hon = health(obs, host, ctx.baseline_until, trouble)
        if not (hs >= 0.5 and hon is not None and hon < t.key_onset - 15.0):
            # Retransmits or a full disk are a lower layer: even at the same scrape as the
            # component's trouble they are the cause. Host CPU is not: residents' load raises it.
            hs, hon = health(obs, host, ctx.baseline_until, LOWER_LAYER)
            if hon is not None and hon > t.key_onset + 30.0:
                hon = None
        if hs >= 0.5 and hon is not None:
            t.score -= VICTIM_PENALTY * hs
            t.evidence.append(
                Evidence(
                    source="engine",
                    query="placement (kube_pod_info)",
                    stance=Stance.REFUTES,
                    observation=f"{comp} runs on {host}, which went bad first ({hhmm(hon)})",
                    weight=-VICTIM_PENALTY * hs,
                )
            )
            return


SLOW_SIGNALS = frozenset({"latency", "client_latency"})
# Evidence that something got slower, and nothing else: latency series, time in slow traces.
SLOWNESS_EVIDENCE = SLOW_SIGNALS | {"trace_self_time", "trace_edge_self_time"}
MISMATCH_PENALTY = 3.0  # as a victim's: the cause does not produce what the engineer saw


def _slows_only(t: Tally, spec: FaultSpec) -> bool:
    """The fault only slows things (`slows_only`), or slowness is all that supports it."""
    return spec.slows_only or (bool(t.supported_by) and t.supported_by <= SLOWNESS_EVIDENCE)


def explains_the_symptom(t: Tally, spec: FaultSpec, obs: Observations, ctx: JudgeContext) -> None:
    """A cause that only slows things (`slows_only`), or one whose only support is slowness, and an
    error symptom whose own latency did not move: failing requests at normal speed are not slowness
    passed on, so the slowness is not this symptom's cause (it may be the usual slow tail of a few
    traces, or a concurrent slowdown). It loses its key support and scores as a victim would."""
    comp = ctx.symptom_component
    if not _slows_only(t, spec) or ctx.symptom_signal != "errors" or comp is None:
        return
    # The symptom's own component too: its slow traces (retries, back-off inside it) do not make
    # failing requests at their usual speed a slowdown of its own.
    slow, _ = health(obs, comp, ctx.baseline_until, SLOW_SIGNALS)
    if slow >= 0.3 or not any(obs.get(comp, sig) for sig in SLOW_SIGNALS):
        return  # the symptom slowed too (timeouts), or there is no latency to tell by
    t.refute(
        "symptom",
        f"{comp} fails requests without slowing down: slowness on {t.component} "
        "does not explain failing requests",
        MISMATCH_PENALTY,
        drop_key=True,
    )


MAGNITUDE_SHARE = 0.02  # a callee adding less than this share of the symptom's added latency is not why


def _added_latency(obs: Observations, comp: str, baseline_until: float | None) -> tuple[float, str] | None:
    s = obs.get(comp, "latency")
    a = s.anomaly("up", baseline_until) if s is not None else None
    if s is None or a is None or not a.anomalous:
        return None
    return a.peak - a.baseline, s.unit


def accounts_for_the_slowdown(t: Tally, spec: FaultSpec, obs: Observations, ctx: JudgeContext) -> None:
    """A cause that only slows things (or whose only support is slowness) elsewhere than on the symptom's
    component must add a noticeable share of the latency the symptom gained: its callers wait for it, so
    what it adds, they add (fan-out multiplies it, but not by fifty). A callee 66 ms slower does not make
    its caller 27 s slower; that slowdown has another cause, and the callee's blip is concurrent noise."""
    comp = ctx.symptom_component
    if not _slows_only(t, spec) or comp is None or t.component == comp:
        return
    mine, theirs = (
        _added_latency(obs, t.component, ctx.baseline_until),
        _added_latency(obs, comp, ctx.baseline_until),
    )
    if mine is None or theirs is None or mine[1] != theirs[1] or theirs[0] <= 0:
        return
    if mine[0] >= MAGNITUDE_SHARE * theirs[0]:
        return
    unit = mine[1]
    t.refute(
        "symptom",
        f"{t.component} added {fmt_value(mine[0], unit)} of latency while {comp} added "
        f"{fmt_value(theirs[0], unit)}: too little to explain the slowdown",
        MISMATCH_PENALTY,
        drop_key=True,
    )


def time_went_elsewhere(t: Tally, obs: Observations, ctx: JudgeContext) -> None:
    """The slow requests' traces put their extra time on the own spans of a component that calls this
    one (directly or through others), none on this one's, and no failing trace ends here: whatever this
    component's metrics show (a rollout, a slower tail of its own) did not reach those requests. A
    concurrent change below the slow component is not why it is slow."""
    comp = t.component
    if t.key_onset is None or comp == ctx.symptom_component:
        return
    lead = next(
        (
            f.component
            for f in obs.traces
            if f.kind == "edge_self_time" and f.value >= TRACE_LEAD and f.component != comp
        ),
        None,
    )
    if lead is None or comp not in obs.downstream(lead):
        return
    if any(f.component == comp and f.kind in _TRACE_TROUBLE for f in obs.traces):
        return
    t.refute(
        "traces",
        f"the slow traces spend their extra time in {lead}'s own spans, none in {comp}'s: "
        f"{comp} did not slow them",
        VICTIM_PENALTY,
    )


def fleet_wide(t: Tally, h: Hypothesis, obs: Observations, ctx: JudgeContext) -> None:
    """A node's CPU saturation is its own trouble only when the fleet did not heat with it: most nodes'
    CPUs rising together is load moving or a fleet-wide change, and no one node is the cause."""
    if h.fault != "cpu_saturation" or obs.kind_of(t.component) != "host":
        return
    if not fleet_wide_cpu(obs, ctx.baseline_until):
        return
    t.refute(
        "host_cpu of every node",
        f"most nodes' CPU rose with {t.component}'s: a fleet-wide change, not this node's",
        VICTIM_PENALTY,
        drop_key=True,
    )

"""One scenario per labelled fault of each day, plus controls from fault-free stretches.

A fault scenario asks at inject time + 3 min about the entry service, as the on-call engineer would;
its truth is the injected pod's deployment and the FAULTS.md id of the inject type (the raw inject type
is kept in `variant`). A control asks about the largest p99 blips of the entry service long after the
last fault, when nothing was injected: the right answer is "inconclusive".
"""

from __future__ import annotations

import bisect
import time

import numpy as np

from compass_lab.model import Component, Scenario, ScenarioKind, Split
from compass_lab.nezha.convert import DayMetrics, Manifest
from compass_lab.nezha.errors import NezhaDataError
from compass_lab.nezha.layout import DAYS, Day, truth_fault
from compass_lab.nezha.naming import deployment_of
from compass_lab.nezha.store import NezhaStore
from compass_lab.nezha.symptom import BASELINE_S, EntrySignals, describe

ASK_AFTER_S = 180.0  # the engineer asks 3 minutes after the injection
WINDOW_S = 1800  # and looks back half an hour
SERVE_BEFORE_S = WINDOW_S + 600.0  # served telemetry starts a little before the window (rate lookbacks)
SERVE_AFTER_S = 60.0
N_CONTROLS = 3
CONTROL_GAP_S = 3600.0
QUIET_AFTER_FAULTS_S = 2700.0  # controls start this long after the day's last injection


def served_range(s: Scenario) -> tuple[float, float]:
    return s.at - SERVE_BEFORE_S, s.at + SERVE_AFTER_S


def entry_signals(metrics: DayMetrics) -> EntrySignals:
    """The entry service's front_service.csv series, on the p99 latency's time axis."""
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, lbl in enumerate(metrics.labels):
        if "ServiceName" in lbl:
            a, b = int(metrics.offsets[i]), int(metrics.offsets[i + 1])
            found[lbl["__name__"]] = (metrics.ts[a:b], metrics.values[a:b])
    if "LatencyP99_s" not in found:
        raise NezhaDataError("the recording has no entry-service latency (front_service.csv)")
    ts = found["LatencyP99_s"][0]

    def aligned(name: str) -> np.ndarray:
        t, v = found[name]
        idx = {x: k for k, x in enumerate(t.tolist())}
        return np.array([v[idx[x]] if x in idx else np.nan for x in ts.tolist()], dtype=np.float64)

    latency = {f"p{q}": aligned(f"LatencyP{q}_s") for q in (50, 90, 95, 99) if f"LatencyP{q}_s" in found}
    success = aligned("SuccessRate_percent") if "SuccessRate_percent" in found else None
    return EntrySignals(ts, latency, success)


def _components(metrics: DayMetrics, manifest: Manifest) -> tuple[Component, ...]:
    names = {deployment_of(lbl["pod"]) for lbl in metrics.labels if "pod" in lbl}
    deps: dict[str, set[str]] = {n: set() for n in names}
    for caller, callee in manifest.edges:
        deps.setdefault(caller, set()).add(callee)
        deps.setdefault(callee, set())
    return tuple(Component(name=n, kind="service", depends_on=tuple(sorted(deps[n]))) for n in sorted(deps))


def _any_in(minutes: tuple[float, ...], start: float, end: float) -> bool:
    """Whether a per-minute file covering [m, m+60) overlaps [start, end]."""
    i = bisect.bisect_left(minutes, start - 60.0)
    return i < len(minutes) and minutes[i] <= end


def _clock(ts: float) -> str:
    return time.strftime("%H%M", time.gmtime(ts))


def _scenario(
    day: Day,
    manifest: Manifest,
    components: tuple[Component, ...],
    sig: EntrySignals,
    onset: float,
    fault: dict[str, str] | None,
) -> Scenario:
    at = onset + ASK_AFTER_S
    symptom = describe(day.entry, sig, onset, at)
    start, end = at - SERVE_BEFORE_S, at + SERVE_AFTER_S
    prefix = f"nezha-{day.short}-{day.date}-{_clock(onset)}"
    if fault is None:
        sid, title, component, fid, variant = (
            f"{prefix}-control",
            f"control (no fault injected): {symptom.text}",
            None,
            None,
            "",
        )
    else:
        variant = fault["inject_type"]
        component = deployment_of(fault["inject_pod"])
        fid = truth_fault(variant)
        sid = f"{prefix}-{variant}-{component}"
        title = f"{variant} on {fault['inject_pod']} ({fid}), seen as: {symptom.text}"
    return Scenario(
        id=sid,
        split=Split.DEV,
        system=day.system,
        seed=int(onset),
        kind=ScenarioKind.CONTROL if fault is None else ScenarioKind.FAULT,
        title=title,
        symptom=symptom.text,
        symptom_component=day.entry,
        at=at,
        window_s=WINDOW_S,
        onset=None if fault is None else onset,
        truth_component=component,
        truth_fault=fid,
        components=components,
        conventions="nezha",
        has_logs=_any_in(manifest.log_minutes, start, end),
        has_traces=_any_in(manifest.trace_minutes, start, end),
        variant=variant,
    )


def _control_onsets(sig: EntrySignals, manifest: Manifest) -> list[float]:
    """The entry's largest p99 blips (against the half hour before) in the fault-free tail of the day."""
    if not manifest.faults:
        return []
    first = max(int(f["inject_timestamp"]) for f in manifest.faults) + QUIET_AFTER_FAULTS_S + BASELINE_S
    last = manifest.end - ASK_AFTER_S - SERVE_AFTER_S
    scored: list[tuple[float, float]] = []
    for k, t in enumerate(sig.ts.tolist()):
        p99 = sig.latency["p99"]
        if not first <= t <= last or not np.isfinite(p99[k]):
            continue
        base = p99[(sig.ts >= t - BASELINE_S) & (sig.ts < t)]
        base = base[np.isfinite(base)]
        if base.size >= 10 and float(np.median(base)) > 0:
            scored.append((float(p99[k]) / float(np.median(base)), t))
    picked: list[float] = []
    for _, t in sorted(scored, key=lambda st: (-st[0], st[1])):
        if all(abs(t - p) >= CONTROL_GAP_S for p in picked):
            picked.append(t)
        if len(picked) == N_CONTROLS:
            break
    return sorted(picked)


def day_scenarios(store: NezhaStore, day: Day) -> list[Scenario]:
    manifest = store.manifest(day)
    metrics = store.metrics(day)
    sig = entry_signals(metrics)
    components = _components(metrics, manifest)
    out = [
        _scenario(day, manifest, components, sig, float(f["inject_timestamp"]), f) for f in manifest.faults
    ]
    # a control's "onset" sits just before the blip's sample, so that the symptom reads it as the change
    out += [_scenario(day, manifest, components, sig, t - 30.0, None) for t in _control_onsets(sig, manifest)]
    return out


def all_scenarios(store: NezhaStore) -> list[Scenario]:
    return [s for day in DAYS for s in day_scenarios(store, day)]

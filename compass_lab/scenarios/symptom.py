"""The on-call engineer's symptom: alert-like text about a component, consistent with the data.

Thresholds and the "since HH:MM" time are read off the simulated signals of the symptom
component, so the text says what a dashboard would show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from compass_lab.model import FloatArray
from compass_lab.scenarios.blueprint import STEP_S, Blueprint
from compass_lab.scenarios.render_app import served_rate
from compass_lab.scenarios.simulate import Sim
from compass_lab.scenarios.state import zeros

_ERR_THRESHOLDS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0)
_LAT_THRESHOLDS = (0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0)
_LAG_THRESHOLDS = (200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0, 50000.0)


@dataclass(frozen=True)
class Symptom:
    component: str
    signal: str  # "errors" | "latency" | "lag"
    text: str
    idx: int  # sample where the symptom first crossed its threshold
    salience: float


def hhmm(ts: float) -> str:
    return time.strftime("%H:%M", time.gmtime(ts))


def _smooth(x: FloatArray) -> FloatArray:
    out: FloatArray = np.convolve(x, np.ones(4) / 4.0, mode="same")
    return out


def error_ratio(sim: Sim, name: str) -> FloatArray:
    comp = sim.comps[name]
    ratio = sum((r for c, r in comp.err.items() if c[0] == "5"), zeros(sim.n))
    rate = served_rate(comp)
    out: FloatArray = np.where(rate > 1e-6, ratio, 0.0)
    return out


def p99(sim: Sim, name: str) -> FloatArray:
    comp = sim.comps[name]
    out: FloatArray = comp.mean * np.exp(-(comp.sigma**2) / 2.0 + 2.326 * comp.sigma)
    return out


def _pick(
    values: FloatArray,
    thresholds: tuple[float, ...],
    base: float,
    start: int,
    end: int,
) -> tuple[float, int, float] | None:
    """(threshold, first crossing index, salience) or None when nothing stands out."""
    window = values[start : end + 1]
    if len(window) == 0:
        return None
    peak = float(np.max(window))
    floor = max(base, 1e-9)
    if peak < floor * 1.5:
        return None
    good = [t for t in thresholds if floor * 1.2 <= t <= peak * 0.85]
    if not good:
        return None
    thr = good[-1] if len(good) < 3 else good[-2]
    above = window >= thr
    for i in range(len(above) - 1):
        if above[i] and above[i + 1]:
            return thr, start + i, peak / floor
    return None


def evaluate(sim: Sim, bp: Blueprint, name: str, rng: np.random.Generator) -> Symptom | None:
    start = bp.onset_idx
    end = bp.at_idx - 4  # the engineer noticed at least a minute before asking
    base_end = max(start - 20, 20)
    node = sim.comps[name].node
    options: list[Symptom] = []
    if node.tech == "worker":
        queue = next(e.callee for e in sim.system.calls_of(name) if e.protocol == "consume")
        lag = sim.comps[queue].sig.get("lag", zeros(sim.n))
        got = _pick(_smooth(lag), _LAG_THRESHOLDS, float(np.percentile(lag[:base_end], 99)), start, end)
        if got:
            thr, idx, sal = got
            topic = node.topic
            texts: tuple[str, ...] = (
                f"{name} falling behind since {{t}}",
                f"{name} consumer lag on {topic} above {thr:.0f} since {{t}}",
                f"{topic} backlog growing since {{t}}, {name} not keeping up",
            )
            options.append(Symptom(name, "lag", texts[int(rng.integers(0, 3))], idx, sal))
    err = _smooth(error_ratio(sim, name)) * 100.0
    got = _pick(err, _ERR_THRESHOLDS, float(np.percentile(err[:base_end], 99.5)), start, end)
    if got:
        thr, idx, sal = got
        pct = f"{thr:g}%"
        what = "5xx" if node.tech != "worker" else "processing errors"
        texts = (
            f"{name} {what} above {pct} since {{t}}",
            f"high error rate on {name} since {{t}} ({pct}+ {what})",
            f"{name} error rate spiking since {{t}}",
            f"{name} {what} above {pct} since {{t}}",
        )
        options.append(Symptom(name, "errors", texts[int(rng.integers(0, 4))], idx, sal))
    if node.is_service:
        lat = _smooth(p99(sim, name))
        got = _pick(lat, _LAT_THRESHOLDS, float(np.percentile(lat[:base_end], 99.5)), start, end)
        if got:
            thr, idx, sal = got
            t = f"{thr:g}s" if thr >= 1 else f"{thr * 1000:.0f}ms"
            texts = (
                f"{name} p99 latency above {t} since {{t}}",
                f"{name} is slow since {{t}}, p99 over {t}",
                f"{name} p99 latency above {t} since {{t}}",
            )
            if node.tech == "worker":
                texts = (
                    f"{name} p99 processing time above {t} since {{t}}",
                    f"{name} is slow since {{t}}",
                    f"{name} message processing slow since {{t}}, p99 over {t}",
                )
            options.append(Symptom(name, "latency", texts[int(rng.integers(0, 3))], idx, sal))
    if not options:
        return None
    best = max(
        options, key=lambda s: s.salience * (1.5 if s.signal == "lag" else 1.0) * rng.uniform(0.7, 1.3)
    )
    when = hhmm(bp.start + best.idx * STEP_S)
    return Symptom(best.component, best.signal, best.text.replace("{t}", when), best.idx, best.salience)


def choose(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> Symptom:
    """First candidate (in preference order) whose symptom is visible before `at`; else the loudest."""
    found: list[Symptom] = []
    for name in bp.symptom_candidates:
        s = evaluate(sim, bp, name, rng)
        if s is not None:
            if s.salience >= 3.0:
                return s
            found.append(s)
    if found:
        return max(found, key=lambda s: s.salience)
    for comp in sim.comps.values():
        if comp.node.is_service:
            s = evaluate(sim, bp, comp.node.name, rng)
            if s is not None:
                found.append(s)
    if found:
        return max(found, key=lambda s: s.salience)
    name = bp.symptom_candidates[0] if bp.symptom_candidates else sim.system.entry
    return Symptom(
        name, "errors", f"{name} looks unhealthy since {hhmm(bp.onset or bp.at)}", bp.onset_idx, 1.0
    )

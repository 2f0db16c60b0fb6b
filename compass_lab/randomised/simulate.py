"""Simulating and rendering one generated scenario with the library's machinery.

The same steps as `compass_lab.scenarios.pipeline`, plus the randomised lab's extras: a gradual onset
(drivers blended in after injection), a fault on some pods only (their siblings' series come from the
fault-free twin of the scenario), then the family's convention and the telemetry's degradations.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from compass_lab.model import Series, TelemetrySet
from compass_lab.randomised import degrade
from compass_lab.randomised.conventions import CONVENTIONS, apply, relabel_logs
from compass_lab.randomised.onset import snapshot, soften
from compass_lab.scenarios import distractors
from compass_lab.scenarios.blueprint import STEP_S, Blueprint
from compass_lab.scenarios.faults import inject
from compass_lab.scenarios.render_app import render_app
from compass_lab.scenarios.render_infra import InfraRenderer
from compass_lab.scenarios.render_logs import render_logs
from compass_lab.scenarios.render_traces import render_traces
from compass_lab.scenarios.series_out import SeriesOut
from compass_lab.scenarios.simulate import Sim

if TYPE_CHECKING:
    from compass_lab.randomised.plan import Anomaly, Recipe


def _simulate(bp: Blueprint, gradual: int, second: Anomaly | None) -> Sim:
    sim = Sim(bp)
    rng = np.random.default_rng([bp.seed, 5])
    for d in bp.distractors:
        distractors.apply(sim, d, rng)
    before = snapshot(sim) if gradual and bp.fault else None
    inject(sim, bp)
    if before is not None:
        soften(sim, before, bp.onset_idx, gradual)
    if second is not None:  # the library's injector, pointed at another component and time
        onset = bp.start + second.onset_idx * STEP_S
        other = replace(bp, fault=second.fault, component=second.component, variant=second.variant)
        inject(sim, replace(other, magnitude=second.magnitude, onset=onset, lookalike_group=None))
    sim.run()
    return sim


def simulate(recipe: Recipe) -> Sim:
    return _simulate(recipe.blueprint, recipe.gradual, recipe.second)


def _series(sim: Sim, bp: Blueprint) -> tuple[Series, ...]:
    out = SeriesOut(sim.ts)
    render_app(sim, bp, out)
    InfraRenderer(sim, bp, out).render()
    return tuple(out.series)


def render(recipe: Recipe) -> TelemetrySet:
    bp = recipe.blueprint
    sim = simulate(recipe)
    series = _series(sim, bp)
    if recipe.affected_pods and bp.component is not None:
        pods = sim.comps[bp.component].pods
        spared = [p.name for p in pods[recipe.affected_pods :] if p.start == 0]
        clean = _series(_simulate(replace(bp, fault=None), 0, recipe.second), bp)
        series = degrade.only_pods(series, clean, spared)
    family = CONVENTIONS[recipe.family.convention]
    series = apply(family, series, sim.ts)
    series = degrade.drop_job(series, recipe.missing_exporter)
    series = degrade.scrape_gaps(series, recipe.gaps)
    series = degrade.drift(series, recipe.drift_kind, recipe.drift_idx, recipe.drift_key)
    logs = relabel_logs(family, render_logs(sim, bp)) if bp.has_logs else ()
    spans = render_traces(sim, bp) if bp.has_traces else ()
    return TelemetrySet(series=series, log_streams=logs, spans=spans, start=bp.start, end=bp.end)

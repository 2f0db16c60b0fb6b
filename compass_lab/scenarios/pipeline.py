"""From a blueprint to telemetry: simulate (distractors, fault, propagation), then render."""

from __future__ import annotations

import numpy as np

from compass_lab.model import TelemetrySet
from compass_lab.scenarios import distractors
from compass_lab.scenarios.blueprint import Blueprint
from compass_lab.scenarios.faults import inject
from compass_lab.scenarios.render_app import render_app
from compass_lab.scenarios.render_infra import InfraRenderer
from compass_lab.scenarios.render_logs import render_logs
from compass_lab.scenarios.render_traces import render_traces
from compass_lab.scenarios.series_out import SeriesOut
from compass_lab.scenarios.simulate import Sim


def simulate(bp: Blueprint) -> Sim:
    sim = Sim(bp)
    rng = np.random.default_rng([bp.seed, 5])
    for d in bp.distractors:
        distractors.apply(sim, d, rng)
    inject(sim, bp)
    sim.run()
    return sim


def render(bp: Blueprint) -> TelemetrySet:
    sim = simulate(bp)
    out = SeriesOut(sim.ts)
    render_app(sim, bp, out)
    InfraRenderer(sim, bp, out).render()
    logs = render_logs(sim, bp) if bp.has_logs else ()
    spans = render_traces(sim, bp) if bp.has_traces else ()
    return TelemetrySet(series=tuple(out.series), log_streams=logs, spans=spans, start=bp.start, end=bp.end)

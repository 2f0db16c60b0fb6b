"""A scenario's hidden recipe: everything the generator needs beyond the public `Scenario`.

The blueprint is derived deterministically by the catalog; `build_telemetry` looks it up by id.
Indices are sample indices on the scenario's 15 s grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from compass_lab.model import FloatArray, Split
from compass_lab.scenarios.topology import System

STEP_S = 15.0
BEFORE_S = 4 * 3600.0
AFTER_S = 120.0

Convention = Literal["otel", "prom-client", "micrometer"]
DistractorKind = Literal["cpu_blip", "deploy", "chatty_errors", "restart", "config_reload", "traffic_bump"]


@dataclass(frozen=True)
class Distractor:
    kind: DistractorKind
    component: str
    idx: int  # sample index where it happens
    length: int  # samples
    magnitude: float
    description: str


@dataclass(frozen=True)
class Blueprint:
    scenario_id: str
    split: Split
    system: System
    seed: int
    fault: str | None
    component: str | None  # ground-truth component
    variant: str  # fault-specific variant ("" for controls)
    magnitude: float  # 0.3 (subtle) .. 1.0 (loud)
    convention: Convention
    has_logs: bool
    has_traces: bool
    at: float
    onset: float | None
    control_kind: str  # for controls: what benign event the symptom is about
    control_idx: int  # sample index of that event (controls only)
    distractors: tuple[Distractor, ...]
    lookalike_group: str | None
    symptom_candidates: tuple[str, ...]  # preferred symptom components, in order

    @property
    def start(self) -> float:
        return self.at - BEFORE_S

    @property
    def end(self) -> float:
        return self.at + AFTER_S

    @property
    def n(self) -> int:
        return round((BEFORE_S + AFTER_S) / STEP_S) + 1

    def ts(self) -> FloatArray:
        out: FloatArray = self.start + STEP_S * np.arange(self.n, dtype=np.float64)
        return out

    def index_of(self, t: float) -> int:
        return round((t - self.start) / STEP_S)

    @property
    def onset_idx(self) -> int:
        return self.index_of(self.onset) if self.onset is not None else self.control_idx

    @property
    def at_idx(self) -> int:
        return self.index_of(self.at)

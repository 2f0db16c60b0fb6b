"""Datasets the lab can serve and benchmark: each is a list of `Scenario`s and a builder of their telemetry.

`lab` is the built-in scenario library. Other datasets (real fault-injection recordings replayed, generated
topologies) register here under their own name, so that `compass lab list|serve|bench --dataset NAME` treat
them all alike and the engine always sees them through the same Grafana-compatible API and `mcp-grafana`.
Loading is lazy: a dataset's modules are imported only when it is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from compass_lab.model import Scenario, TelemetrySet

TelemetryBuilder = Callable[[Scenario], TelemetrySet]


class UnknownDatasetError(LookupError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown dataset {name!r} (known: {', '.join(sorted(DATASETS))})")


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives: `module` exposes `scenarios() -> list[Scenario]` and
    `build_telemetry(Scenario) -> TelemetrySet` (deterministic for a given scenario)."""

    name: str
    description: str
    module: str


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    scenarios: Callable[[], list[Scenario]]
    build_telemetry: TelemetryBuilder


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "lab", "the built-in scenario library (dev and held-out splits)", "compass_lab.scenarios"
        ),
        DatasetSpec(
            "nezha-dev",
            "Nezha (FSE'23) recordings replayed: OnlineBoutique 2022-08-22, TrainTicket 2023-01-30",
            "compass_lab.nezha",
        ),
        DatasetSpec(
            "random",
            "generated topologies in ten convention families; dev and held-out generator families",
            "compass_lab.randomised",
        ),
    )
}

DEFAULT_DATASET = "lab"


def load_dataset(name: str) -> Dataset:
    spec = DATASETS.get(name)
    if spec is None:
        raise UnknownDatasetError(name)
    module = importlib.import_module(spec.module)
    return Dataset(spec.name, spec.description, module.scenarios, module.build_telemetry)

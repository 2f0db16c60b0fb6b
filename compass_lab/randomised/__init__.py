"""The randomised lab: generated topologies, ten naming-convention families, dev and held-out families.

Public API (the dataset protocol of `compass_lab.datasets`):
- `scenarios()` — every scenario of both splits, stable order;
- `build_telemetry(scenario)` — its metrics, logs and traces; deterministic from the scenario's seed.
"""

from __future__ import annotations

import functools

from compass_lab.model import Scenario, Split, TelemetrySet
from compass_lab.randomised.plan import Recipe, plan
from compass_lab.randomised.simulate import render

__all__ = ["UnknownRandomScenario", "build_telemetry", "scenarios"]


class UnknownRandomScenario(KeyError):
    def __init__(self, scenario_id: str) -> None:
        self.reason = (
            f"unknown scenario id {scenario_id!r}; `compass lab list --dataset random` shows the valid ids"
        )
        super().__init__(self.reason)

    def __str__(self) -> str:
        return self.reason


@functools.cache
def _index() -> dict[str, tuple[Scenario, Recipe]]:
    return {sc.id: (sc, r) for split in (Split.DEV, Split.HELDOUT) for sc, r in plan(split)}


def scenarios() -> list[Scenario]:
    return [sc for sc, _ in _index().values()]


def build_telemetry(scenario: Scenario) -> TelemetrySet:
    entry = _index().get(scenario.id)
    if entry is None or entry[0].seed != scenario.seed:
        raise UnknownRandomScenario(scenario.id)
    return _build(scenario.id)


@functools.lru_cache(maxsize=4)
def _build(scenario_id: str) -> TelemetrySet:
    return render(_index()[scenario_id][1])

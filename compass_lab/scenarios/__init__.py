"""The lab's scenario library: incidents (and controls) with deterministic, realistic telemetry.

Public API:
- `all_scenarios(split=None)` — every scenario of a split (both splits when None), stable order.
- `get_scenario(id)` — one scenario; unknown ids raise `UnknownScenario` (a KeyError).
- `build_telemetry(scenario)` — its metrics, logs and traces; deterministic from the scenario's seed.
- `DEFAULT_SCENARIO_ID` — the scenario `compass demo` shows.
"""

from __future__ import annotations

import functools

from compass_lab.model import Scenario, Split, TelemetrySet
from compass_lab.scenarios.blueprint import Blueprint
from compass_lab.scenarios.catalog import catalog
from compass_lab.scenarios.pipeline import render

__all__ = [
    "DEFAULT_SCENARIO_ID",
    "UnknownScenario",
    "all_scenarios",
    "build_telemetry",
    "get_scenario",
    "scenarios",
]


class UnknownScenario(KeyError):
    """The scenario id is not in the library (or the scenario does not match the library's)."""

    def __init__(self, scenario_id: str, reason: str = "") -> None:
        self.scenario_id = scenario_id
        self.reason = reason or f"unknown scenario id {scenario_id!r}; `compass lab list` shows the valid ids"
        super().__init__(self.reason)

    def __str__(self) -> str:
        return self.reason


def _entries(split: Split | None) -> list[tuple[Scenario, Blueprint]]:
    splits = [split] if split is not None else [Split.DEV, Split.HELDOUT]
    return [e for s in splits for e in catalog(s)]


@functools.cache
def _index() -> dict[str, tuple[Scenario, Blueprint]]:
    return {sc.id: (sc, bp) for sc, bp in _entries(None)}


def all_scenarios(split: Split | None = None) -> list[Scenario]:
    return [sc for sc, _ in _entries(split)]


def scenarios() -> list[Scenario]:
    """Every library scenario, both splits (the dataset protocol of `compass_lab.datasets`)."""
    return all_scenarios()


def get_scenario(scenario_id: str) -> Scenario:
    try:
        return _index()[scenario_id][0]
    except KeyError:
        raise UnknownScenario(scenario_id) from None


def build_telemetry(scenario: Scenario) -> TelemetrySet:
    """All telemetry of `scenario`; identical for identical scenarios (cached for the last few)."""
    entry = _index().get(scenario.id)
    if entry is None:
        raise UnknownScenario(scenario.id)
    if entry[0].seed != scenario.seed:
        raise UnknownScenario(
            scenario.id,
            f"scenario {scenario.id!r} has seed {scenario.seed}, the library's "
            f"has {entry[0].seed}; telemetry exists only for library scenarios",
        )
    return _build(scenario.id)


@functools.lru_cache(maxsize=4)
def _build(scenario_id: str) -> TelemetrySet:
    return render(_index()[scenario_id][1])


# payments-db lock contention seen as "checkout is slow" (catalog.DEMO); the tests pin its shape.
DEFAULT_SCENARIO_ID = "shop-dev-032-db_slow_queries"

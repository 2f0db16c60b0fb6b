"""Nezha (FSE'23) fault-injection recordings replayed through the lab: the `nezha-dev` dataset.

Public API (the dataset protocol of `compass_lab.datasets`):
- `scenarios()` — one scenario per labelled fault of the two recorded days, plus controls.
- `build_telemetry(scenario)` — its recorded metrics, spans and log lines.
- `NezhaDataset(settings)` — the same for explicit settings (archive path, cache directory).

The archive is unpacked and converted into a cache on first use; see README.md.
"""

from __future__ import annotations

import functools

from compass_lab.model import Scenario, TelemetrySet
from compass_lab.nezha.errors import NezhaDataError
from compass_lab.nezha.layout import DAYS, Day
from compass_lab.nezha.scenarios import all_scenarios, served_range
from compass_lab.nezha.settings import NezhaSettings, settings
from compass_lab.nezha.store import NezhaStore
from compass_lab.nezha.telemetry import telemetry_for

__all__ = ["NezhaDataError", "NezhaDataset", "NezhaSettings", "build_telemetry", "scenarios"]


class NezhaDataset:
    def __init__(self, config: NezhaSettings) -> None:
        self.settings = config
        self.store = NezhaStore(config)

    @functools.cached_property
    def _scenarios(self) -> dict[str, Scenario]:
        return {s.id: s for s in all_scenarios(self.store)}

    def scenarios(self) -> list[Scenario]:
        return list(self._scenarios.values())

    def _day(self, scenario: Scenario) -> Day:
        known = self._scenarios.get(scenario.id)
        if known != scenario:
            raise NezhaDataError(f"scenario {scenario.id!r} is not one of the recording's")
        return next(d for d in DAYS if d.system == scenario.system)

    def build_telemetry(self, scenario: Scenario) -> TelemetrySet:
        day = self._day(scenario)
        return telemetry_for(
            scenario,
            day.namespace,
            self.store.metrics(day),
            self.store.spans(day),
            self.store.logs(day),
            served_range(scenario),
            self.settings.trace_sample,
            day.entry,
        )


@functools.cache
def _default() -> NezhaDataset:
    return NezhaDataset(settings())


def scenarios() -> list[Scenario]:
    return _default().scenarios()


def build_telemetry(scenario: Scenario) -> TelemetrySet:
    return _default().build_telemetry(scenario)

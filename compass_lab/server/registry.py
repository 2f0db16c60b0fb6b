"""Scenarios the lab serves, with their telemetry and query indexes built lazily and cached.

Building a scenario's telemetry can take a while, so it happens on first use (one build per scenario even
under concurrent requests) and is kept for the life of the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from compass_lab.logql import LogIndex
from compass_lab.model import Scenario, TelemetrySet
from compass_lab.promql import SeriesStore
from compass_lab.traceql import TraceIndex


class UnknownScenarioError(LookupError):
    def __init__(self, scenario_id: str) -> None:
        self.scenario_id = scenario_id
        super().__init__(f"unknown scenario {scenario_id!r}")


@dataclass(frozen=True)
class LabData:
    """Everything the HTTP API needs to answer for one scenario."""

    scenario: Scenario
    telemetry: TelemetrySet
    series: SeriesStore
    logs: LogIndex
    traces: TraceIndex


TelemetryBuilder = Callable[[Scenario], TelemetrySet]


class LabRegistry:
    def __init__(
        self, scenarios: Iterable[Scenario], build_telemetry: TelemetryBuilder, default_id: str | None = None
    ) -> None:
        self._scenarios: dict[str, Scenario] = {}
        for s in scenarios:
            if s.id in self._scenarios:
                raise ValueError(f"duplicate scenario id {s.id!r}")
            self._scenarios[s.id] = s
        if not self._scenarios:
            raise ValueError("a lab registry needs at least one scenario")
        if default_id is None:
            default_id = next(iter(self._scenarios))
        if default_id not in self._scenarios:
            raise UnknownScenarioError(default_id)
        self.default_id = default_id
        self._build = build_telemetry
        self._data: dict[str, LabData] = {}
        self._locks: dict[str, threading.Lock] = {sid: threading.Lock() for sid in self._scenarios}

    @property
    def scenario_ids(self) -> list[str]:
        return list(self._scenarios)

    def scenario(self, scenario_id: str | None = None) -> Scenario:
        sid = scenario_id or self.default_id
        try:
            return self._scenarios[sid]
        except KeyError:
            raise UnknownScenarioError(sid) from None

    def data(self, scenario_id: str | None = None) -> LabData:
        scenario = self.scenario(scenario_id)
        cached = self._data.get(scenario.id)
        if cached is not None:
            return cached
        with self._locks[scenario.id]:
            cached = self._data.get(scenario.id)
            if cached is None:
                telemetry = self._build(scenario)
                cached = LabData(
                    scenario,
                    telemetry,
                    SeriesStore(telemetry.series),
                    LogIndex(telemetry.log_streams),
                    TraceIndex(telemetry.spans),
                )
                self._data[scenario.id] = cached
            return cached

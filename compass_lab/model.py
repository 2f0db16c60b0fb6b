"""The lab's data contract: what a scenario is and the telemetry it produces.

Everything in the lab speaks these types: the scenario generator produces them, the PromQL / LogQL /
TraceQL evaluators read them, and the Grafana-compatible HTTP API serves them. Nothing here knows
about COMPASS' engine — the engine only ever sees the lab through `mcp-grafana`.

Series are numpy arrays (not pydantic) because evaluators scan hundreds of thousands of samples per
query; scenario metadata is a frozen pydantic model because it is small, serialised to JSON by
`compass lab list --json` and compared in benchmarks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Series:
    """One Prometheus time series. `labels` includes `__name__`.

    `timestamps` are unix seconds (float64, strictly ascending, usually one scrape interval apart);
    `values` are float64 of the same length. A NaN value means "no sample at this timestamp"
    (the series is absent there, e.g. a pod that did not exist yet) — evaluators skip it.
    """

    labels: Mapping[str, str]
    timestamps: FloatArray
    values: FloatArray


@dataclass(frozen=True)
class LogLine:
    ts_ns: int  # unix nanoseconds
    line: str  # the raw line, JSON or logfmt


@dataclass(frozen=True)
class LogStream:
    """One Loki stream: a label set and its lines in ascending time order."""

    labels: Mapping[str, str]
    lines: tuple[LogLine, ...]


SpanKind = Literal["server", "client", "internal", "producer", "consumer"]
SpanStatus = Literal["unset", "ok", "error"]


@dataclass(frozen=True)
class Span:
    """One OpenTelemetry span as Tempo stores it."""

    trace_id: str  # 32 lowercase hex chars
    span_id: str  # 16 lowercase hex chars
    parent_span_id: str | None
    service: str  # resource attribute service.name
    name: str
    kind: SpanKind
    start_ns: int
    duration_ns: int
    status: SpanStatus = "unset"
    status_message: str = ""
    attributes: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    resource_attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TelemetrySet:
    """All telemetry of one scenario. `start`/`end` bound every timestamp (unix seconds)."""

    series: tuple[Series, ...]
    log_streams: tuple[LogStream, ...]
    spans: tuple[Span, ...]
    start: float
    end: float
    scrape_interval_s: float = 15.0


class Split(StrEnum):
    DEV = "dev"
    HELDOUT = "heldout"


class ScenarioKind(StrEnum):
    FAULT = "fault"
    CONTROL = "control"  # no fault: the right answer is "inconclusive"


class Component(BaseModel):
    """A component as the telemetry names it (service_name label, DB name, cache instance...)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["service", "database", "cache", "queue", "host", "dns", "external"]
    depends_on: tuple[str, ...] = ()


class Scenario(BaseModel):
    """One incident (or control) with its ground truth. Telemetry is derived from it deterministically."""

    model_config = ConfigDict(frozen=True)

    id: str  # stable, e.g. "shop-dev-007-db_slow_queries"
    split: Split
    system: str  # topology name, e.g. "shop", "ridehail"
    seed: int
    kind: ScenarioKind
    title: str  # one line for `compass lab list`
    symptom: str  # what the on-call engineer sees / types, e.g. "checkout 5xx above 5% since 14:02"
    symptom_component: str
    at: float  # unix seconds: when the engineer asks (the investigation's --at)
    window_s: int  # how far back the investigation should look by default
    onset: float | None  # unix seconds of the injected fault's start (None for controls)
    truth_component: str | None  # None for controls
    truth_fault: str | None  # a FAULTS.md id; None for controls
    components: tuple[Component, ...]
    conventions: str  # naming convention family used, e.g. "otel", "prom-client"
    has_logs: bool
    has_traces: bool
    red_herrings: tuple[str, ...] = ()  # human-readable description of each distractor
    lookalike_group: str | None = None  # scenarios that telemetry barely tells apart share a group
    # the dataset's own, finer name for the fault (e.g. Nezha's inject_type), so benchmarks can break
    # results down by it; "" when the dataset has none
    variant: str = ""

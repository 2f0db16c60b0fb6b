"""One investigation's state and what every phase is handed.

`Kit` is what the engine was built with (catalogs, budget, memory, reasoner); `Run` is what one
investigation has gathered so far. Phases are functions of both, so each phase module stays small.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from compass_worker.domain.events import Sink
from compass_worker.domain.models import AnomalyStep, Evidence, Hypothesis, Incident
from compass_worker.engine.faultcatalog import FaultCatalog
from compass_worker.engine.observations import Observations
from compass_worker.engine.reasoning import context_view
from compass_worker.engine.source import TelemetrySource
from compass_worker.reasoners.protocol import Reasoner, ReasoningContext
from compass_worker.signals.catalog import SignalCatalog


@dataclass(frozen=True)
class Budget:
    wall_clock_s: float = 60.0
    tool_calls: int = 200
    max_templates: int = 6  # components whose log templates are mined


@dataclass(frozen=True)
class PriorAdjustment:
    """Memory's say on a cause: a weight added to its score, and the citation shown with it."""

    component: str
    fault: str
    weight: float
    citation: str


# Memory is asked with the incident, the components its telemetry names, and its anomaly fingerprint.
PriorSource = Callable[[Incident, frozenset[str], tuple[AnomalyStep, ...]], Awaitable[list[PriorAdjustment]]]


@dataclass(frozen=True)
class Kit:
    """What the engine was built with; shared by every phase of every run."""

    catalog: SignalCatalog
    faults: FaultCatalog
    budget: Budget
    calls: Callable[[], int]
    memory: PriorSource | None = None
    reasoner: Reasoner | None = None


@dataclass
class Run:
    incident: Incident
    src: TelemetrySource
    sink: Sink
    started: float
    obs: Observations = field(default_factory=Observations)
    first_hypothesis_s: float | None = None
    hypotheses: dict[str, Hypothesis] = field(default_factory=dict)
    symptom: str | None = None
    onset: float | None = None
    prior_bonus: dict[str, float] = field(default_factory=dict)
    extra_evidence: dict[str, list[Evidence]] = field(default_factory=dict)  # from reasoner-proposed checks
    notices: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)  # what memory said, shown with the verdict
    calls_at_start: int = 0

    def t(self) -> float:
        return time.monotonic() - self.started

    def view(self, faults: FaultCatalog) -> ReasoningContext:
        """What a reasoner is shown of this run."""
        return context_view(
            self.incident.symptom, self.symptom, self.onset, self.src, self.obs, self.hypotheses, faults
        )


def within_budget(kit: Kit, run: Run, what: str) -> bool:
    """The tool-call budget bounds every investigation; past it, later checks are skipped and said so."""
    used = kit.calls() - run.calls_at_start
    if used < kit.budget.tool_calls:
        return True
    run.obs.gaps.append(f"tool-call budget of {kit.budget.tool_calls} reached: {what} skipped")
    return False

"""What the judge is told about the incident (`JudgeContext`) and what it hands back (`Scored`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from compass_worker.domain.models import Hypothesis


@dataclass(frozen=True)
class JudgeContext:
    symptom_component: str | None
    symptom_onset: float | None
    baseline_until: float | None
    path: frozenset[str]  # symptom component + everything it depends on (empty: graph unknown)
    prior_bonus: dict[str, float] = field(default_factory=dict)  # hypothesis id -> memory adjustment
    symptom_signal: str | None = None  # what the engineer saw: "errors", "latency", … (incident text)


@dataclass
class Scored:
    hypothesis: Hypothesis
    key_onset: float | None
    tested: bool
    key_support: float = 0.0
    # A look-alike this could not be told from (the separating observation does not exist): it can
    # lead the ranking, but not confidently.
    undecided_with: str | None = None

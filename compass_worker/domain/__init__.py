"""Domain models and events shared by the engine, sinks, the store and the CLI."""

from compass_worker.domain.events import Event, ListSink, NullSink, Sink
from compass_worker.domain.models import (
    Check,
    Cost,
    Eliminated,
    Evidence,
    Hypothesis,
    HypothesisOrigin,
    HypothesisStatus,
    Incident,
    RootCause,
    Stance,
    Timings,
    Verdict,
)

__all__ = [
    "Check",
    "Cost",
    "Eliminated",
    "Event",
    "Evidence",
    "Hypothesis",
    "HypothesisOrigin",
    "HypothesisStatus",
    "Incident",
    "ListSink",
    "NullSink",
    "RootCause",
    "Sink",
    "Stance",
    "Timings",
    "Verdict",
]

"""An incident signature: what was reported, where, and how the anomalies unfolded.

Two views of the same signature are stored: a text for the embedding (semantic: "checkout p99 latency
is spiking" ≈ "checkout slow") and structured feature tokens (exact: which components, which signals
moved, which component moved first). Retrieval ranks by a blend of both (see memory.py).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from compass_worker.domain import Incident
from compass_worker.domain.models import AnomalyStep


class IncidentSignature(BaseModel):
    model_config = ConfigDict(frozen=True)
    symptom: str = Field(min_length=1)
    components: tuple[str, ...] = ()
    fingerprint: tuple[AnomalyStep, ...] = ()

    @classmethod
    def from_incident(
        cls, incident: Incident, components: tuple[str, ...] = (), fingerprint: tuple[AnomalyStep, ...] = ()
    ) -> IncidentSignature:
        named = (incident.service,) if incident.service else ()
        return cls(symptom=incident.symptom, components=_unique(named + components), fingerprint=fingerprint)

    def ordered_steps(self) -> tuple[AnomalyStep, ...]:
        """Steps by onset; steps without an onset keep their given order, after the timed ones."""
        timed = sorted((s for s in self.fingerprint if s.onset_s is not None), key=lambda s: s.onset_s or 0.0)
        return (*timed, *(s for s in self.fingerprint if s.onset_s is None))

    def text(self) -> str:
        """The text that is embedded."""
        parts = [self.symptom.strip()]
        if self.components:
            parts.append("components: " + ", ".join(self.components))
        steps = self.ordered_steps()
        if steps:
            parts.append(
                "anomalies: " + ", then ".join(f"{s.component} {s.signal} {s.direction}" for s in steps)
            )
        return " | ".join(parts)

    def features(self) -> tuple[str, ...]:
        """Structured tokens compared exactly (Jaccard): components, moved signals, the first mover."""
        tokens = [f"component:{c}" for c in self.components]
        steps = self.ordered_steps()
        tokens += [f"moved:{s.component}:{s.signal}:{s.direction}" for s in steps]
        if steps:
            tokens.append(f"first:{steps[0].component}")
        return _unique(tuple(tokens))


def jaccard(a: tuple[str, ...] | list[str], b: tuple[str, ...] | list[str]) -> float:
    left, right = set(a), set(b)
    if not left and not right:
        return 0.0
    return len(left & right) / len(left | right)


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))

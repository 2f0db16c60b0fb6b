"""The knowledge store's priors, in the engine's terms (the thin adapter between the two).

The store's weight multiplies a cause's prior; the engine adds weights to a log-odds-like score.
Multiplying odds by w is adding ln(w), so the engine gets ln(weight): > 0 for causes confirmed before
(the engine may then add them as hypotheses), < 0 for causes confirmed wrong. A remembered cause on a
component this incident's telemetry does not name (another system with a similar symptom) is dropped:
it could not be tested, and citing it would only confuse.
"""

from __future__ import annotations

import math
from uuid import UUID

from compass_worker.domain.models import AnomalyStep, Incident
from compass_worker.engine.investigation import PriorAdjustment, PriorSource
from compass_worker.knowledge.scope import Viewer
from compass_worker.knowledge.signature import IncidentSignature
from compass_worker.knowledge.store import KnowledgeStore


def memory_priors(store: KnowledgeStore, viewer: Viewer, *, exclude: UUID | None = None) -> PriorSource:
    async def priors(
        incident: Incident, components: frozenset[str], fingerprint: tuple[AnomalyStep, ...] = ()
    ) -> list[PriorAdjustment]:
        signature = IncidentSignature.from_incident(incident, tuple(sorted(components)), fingerprint)
        advice = await store.memory.cause_priors(signature, viewer, exclude=exclude)
        return [
            PriorAdjustment(
                component=a.cause.component,
                fault=a.cause.fault,
                weight=math.log(a.weight),
                citation=a.citation,
            )
            for a in advice
            if not components or a.cause.component in components
        ]

    return priors

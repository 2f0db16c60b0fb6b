"""StoreSink: persists the engine's events as they happen, so that a retried job can resume.

Plug it into the engine's FanoutSink beside the terminal or Slack sink. Following the Sink contract it
never raises: a failed write is logged and the investigation goes on (memory is an aid, not a dependency).
"""

from __future__ import annotations

import logging
from uuid import UUID

import asyncpg

from compass_worker.domain.events import (
    CheckStarted,
    Event,
    EvidenceFound,
    HypothesisProposed,
    HypothesisRefuted,
    HypothesisSupported,
    VerdictReached,
)
from compass_worker.domain.models import Check
from compass_worker.errors import CompassError
from compass_worker.knowledge.investigations import InvestigationLog

log = logging.getLogger(__name__)


class StoreSink:
    def __init__(self, investigations: InvestigationLog, investigation_id: UUID) -> None:
        self._log = investigations
        self._id = investigation_id

    async def emit(self, event: Event) -> None:
        try:
            await self._persist(event)
        except (CompassError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            log.warning("could not persist %s event of investigation %s: %s", event.type, self._id, exc)

    async def _persist(self, event: Event) -> None:
        if isinstance(event, HypothesisProposed | HypothesisRefuted | HypothesisSupported):
            await self._log.save_hypothesis(self._id, event.hypothesis)
        elif isinstance(event, CheckStarted):
            # The domain Check's source is not on the event; "engine" marks it as recorded from an event.
            check = Check(
                hypothesis_id=event.hypothesis_id,
                description=event.description,
                source="engine",
                query=event.query,
            )
            await self._log.add_check(self._id, check)
        elif isinstance(event, EvidenceFound):
            await self._log.add_evidence(self._id, event.evidence, event.hypothesis_id or None)
        elif isinstance(event, VerdictReached):
            await self._log.record_verdict(self._id, event.verdict)

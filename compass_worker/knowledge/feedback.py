"""Feedback from every channel (Slack reply or button, CLI, API) ends here.

A confirmation or correction is recorded in `corrections` (who, when, what) and copied onto the
investigation's signature as its outcome, which is what memory learns from. An investigation the
engine never gave a signature gets one from its incident (symptom and service) so that no feedback is
lost. The latest feedback wins: a later correction replaces an earlier confirmation.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from compass_worker.domain import Verdict
from compass_worker.knowledge.database import Pool
from compass_worker.knowledge.errors import InvalidInput, NotFound
from compass_worker.knowledge.investigations import InvestigationLog
from compass_worker.knowledge.memory import Memory
from compass_worker.knowledge.records import (
    Cause,
    CorrectionKind,
    CorrectionRecord,
    FeedbackChannel,
    ResolutionRecord,
)
from compass_worker.knowledge.signature import IncidentSignature


def _correction(row: asyncpg.Record) -> CorrectionRecord:
    wrong = Cause(component=row["wrong_component"], fault=row["wrong_fault"]) if row["wrong_fault"] else None
    return CorrectionRecord(
        id=row["id"],
        investigation_id=row["investigation_id"],
        kind=CorrectionKind(row["kind"]),
        actual=Cause(component=row["component"], fault=row["fault"]),
        wrong=wrong,
        author=row["author"],
        channel=FeedbackChannel(row["channel"]),
        note=row["note"],
        created_at=row["created_at"],
    )


def _resolution(row: asyncpg.Record) -> ResolutionRecord:
    return ResolutionRecord(
        id=row["id"],
        investigation_id=row["investigation_id"],
        text=row["text"],
        author=row["author"],
        created_at=row["created_at"],
    )


class FeedbackLog:
    def __init__(self, pool: Pool, investigations: InvestigationLog, memory: Memory) -> None:
        self._pool = pool
        self._investigations = investigations
        self._memory = memory

    async def confirm(
        self, investigation_id: UUID, *, author: str, channel: FeedbackChannel, note: str | None = None
    ) -> CorrectionRecord:
        """The verdict's top root cause was right."""
        said = await self._verdict_cause(investigation_id)
        if said is None:
            raise InvalidInput(
                f"investigation {investigation_id} has no root-cause verdict to confirm; "
                "give the actual cause"
            )
        return await self._record(
            investigation_id, CorrectionKind.CONFIRMED, said, None, author, channel, note
        )

    async def correct(
        self,
        investigation_id: UUID,
        actual: Cause,
        *,
        author: str,
        channel: FeedbackChannel,
        note: str | None = None,
    ) -> CorrectionRecord:
        """The actual cause was `actual`. Equal to the verdict's cause, it is recorded as a confirmation.

        The cause recorded as wrong is the verdict's leading candidate even when the verdict was
        inconclusive: COMPASS still ranked it first, and memory should lower it for similar incidents.
        """
        said = await self._leading_cause(investigation_id)
        if said == actual:
            return await self._record(
                investigation_id, CorrectionKind.CONFIRMED, actual, None, author, channel, note
            )
        return await self._record(
            investigation_id, CorrectionKind.CORRECTED, actual, said, author, channel, note
        )

    async def resolve(self, investigation_id: UUID, text: str, *, author: str) -> ResolutionRecord:
        """What fixed it ("failed over payments-db to the replica")."""
        if not text.strip():
            raise InvalidInput("the resolution text is empty")
        await self._signature_for(investigation_id)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO resolutions (investigation_id, text, author) VALUES ($1, $2, $3) RETURNING *",
                investigation_id,
                text.strip(),
                author,
            )
            await conn.execute(
                "UPDATE incident_signatures SET resolution = $2 WHERE investigation_id = $1",
                investigation_id,
                text.strip(),
            )
        assert row is not None  # INSERT … RETURNING always returns the row
        return _resolution(row)

    async def corrections(self, investigation_id: UUID) -> list[CorrectionRecord]:
        rows = await self._pool.fetch(
            "SELECT * FROM corrections WHERE investigation_id = $1 ORDER BY created_at, id", investigation_id
        )
        return [_correction(row) for row in rows]

    async def resolutions(self, investigation_id: UUID) -> list[ResolutionRecord]:
        rows = await self._pool.fetch(
            "SELECT * FROM resolutions WHERE investigation_id = $1 ORDER BY created_at, id", investigation_id
        )
        return [_resolution(row) for row in rows]

    async def _verdict_cause(self, investigation_id: UUID) -> Cause | None:
        await self._investigations.get(investigation_id)  # NotFound for an unknown id
        row = await self._pool.fetchrow(
            "SELECT component, fault FROM verdicts WHERE investigation_id = $1 AND verdict = 'root_cause'",
            investigation_id,
        )
        if row is None or row["fault"] is None:
            return None
        return Cause(component=row["component"], fault=row["fault"])

    async def _leading_cause(self, investigation_id: UUID) -> Cause | None:
        """The verdict's first-ranked cause, whether or not the verdict was confident."""
        said = await self._verdict_cause(investigation_id)
        if said is not None:
            return said
        raw = await self._pool.fetchval(
            "SELECT verdict_json FROM verdicts WHERE investigation_id = $1", investigation_id
        )
        if raw is None:
            return None
        causes = Verdict.model_validate_json(raw).root_causes
        return Cause(component=causes[0].component, fault=causes[0].fault) if causes else None

    async def _signature_for(self, investigation_id: UUID) -> None:
        exists = await self._pool.fetchval(
            "SELECT 1 FROM incident_signatures WHERE investigation_id = $1", investigation_id
        )
        if exists is None:
            record = await self._investigations.get(investigation_id)
            await self._memory.record_signature(
                investigation_id, IncidentSignature.from_incident(record.incident)
            )

    async def _record(
        self,
        investigation_id: UUID,
        kind: CorrectionKind,
        actual: Cause,
        wrong: Cause | None,
        author: str,
        channel: FeedbackChannel,
        note: str | None,
    ) -> CorrectionRecord:
        if not author.strip():
            raise InvalidInput("feedback needs an author")
        await self._signature_for(investigation_id)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO corrections (investigation_id, kind, component, fault, wrong_component,"
                " wrong_fault, author, channel, note)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
                investigation_id,
                kind.value,
                actual.component,
                actual.fault,
                wrong.component if wrong else None,
                wrong.fault if wrong else None,
                author,
                channel.value,
                note,
            )
            if row is None:
                raise NotFound(f"no investigation {investigation_id}")
            await conn.execute(
                "UPDATE incident_signatures SET confirmed_component = $2, confirmed_fault = $3,"
                " wrong_component = $4, wrong_fault = $5, confirmed_by = $6, confirmed_at = $7"
                " WHERE investigation_id = $1",
                investigation_id,
                actual.component,
                actual.fault,
                wrong.component if wrong else None,
                wrong.fault if wrong else None,
                author,
                row["created_at"],
            )
        return _correction(row)

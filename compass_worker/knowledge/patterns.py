"""Promoting a learned pattern to a wider scope: explicit, one step wider at least, and redacted first.

The source signature (with its confirmed cause) stays where it was; the promoted copy is a new signature
in the target scope whose text, components, fingerprint, resolution and author were passed through the
Redactor, and whose embedding is computed from the redacted text — nothing unredacted crosses scopes.
"""

from __future__ import annotations

import json

import asyncpg

from compass_worker.domain.models import AnomalyStep
from compass_worker.knowledge.database import Pool
from compass_worker.knowledge.embedders.protocol import Embedder
from compass_worker.knowledge.errors import InvalidInput, NotFound
from compass_worker.knowledge.investigations import ensure_team
from compass_worker.knowledge.records import Cause, PatternRecord
from compass_worker.knowledge.redact import Redactor
from compass_worker.knowledge.scope import Ownership, Scope, Viewer
from compass_worker.knowledge.signature import IncidentSignature


def _pattern(row: asyncpg.Record) -> PatternRecord:
    return PatternRecord(
        id=row["id"],
        signature_id=row["signature_id"],
        promoted_from=row["promoted_from"],
        ownership=Ownership(scope=Scope(row["scope"]), owner=row["owner"], team_id=row["team_id"]),
        cause=Cause(component=row["component"], fault=row["fault"]),
        summary=row["summary"],
        promoted_by=row["promoted_by"],
        created_at=row["created_at"],
    )


class PatternBook:
    def __init__(self, pool: Pool, embedder: Embedder, redactor: Redactor) -> None:
        self._pool = pool
        self._embedder = embedder
        self._redactor = redactor

    async def promote(self, signature_id: int, to: Ownership, *, by: str, viewer: Viewer) -> PatternRecord:
        """Copy a confirmed signature, redacted, into the wider scope `to`."""
        where, params = viewer.sql("s", 2)
        row = await self._pool.fetchrow(
            f"SELECT * FROM incident_signatures s WHERE s.id = $1 AND {where}", signature_id, *params
        )
        if row is None:
            raise NotFound(f"no signature {signature_id} visible to you")
        if row["confirmed_fault"] is None:
            raise InvalidInput(f"signature {signature_id} has no confirmed cause to share")
        source = Scope(row["scope"])
        if to.scope.width <= source.width:
            raise InvalidInput(f"promotion must widen the scope: {source.value} → {to.scope.value} does not")
        r = self._redactor.redact_text
        steps = tuple(
            AnomalyStep.model_validate({**step, "component": r(step["component"])})
            for step in json.loads(row["fingerprint"])
        )
        signature = IncidentSignature(
            symptom=r(row["symptom"]), components=tuple(r(c) for c in row["components"]), fingerprint=steps
        )
        cause = Cause(component=r(row["confirmed_component"]), fault=row["confirmed_fault"])
        wrong_component = r(row["wrong_component"]) if row["wrong_component"] else None
        vector = (await self._embedder.embed([signature.text()]))[0]
        summary = f"{signature.symptom} → {cause}"
        async with self._pool.acquire() as conn, conn.transaction():
            await ensure_team(conn, to)
            new_id = await conn.fetchval(
                """
                INSERT INTO incident_signatures (scope, owner, team_id, symptom, components, fingerprint,
                    features, embedding, embedding_model, confirmed_component, confirmed_fault,
                    wrong_component, wrong_fault, confirmed_by, confirmed_at, resolution)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                RETURNING id
                """,
                to.scope.value,
                to.owner,
                to.team_id,
                signature.symptom,
                list(signature.components),
                json.dumps([s.model_dump() for s in steps]),
                list(signature.features()),
                vector,
                self._embedder.model_id,
                cause.component,
                cause.fault,
                wrong_component,
                row["wrong_fault"],
                r(row["confirmed_by"]),
                row["confirmed_at"],
                r(row["resolution"]) if row["resolution"] else None,
            )
            pattern = await conn.fetchrow(
                "INSERT INTO learned_patterns (signature_id, promoted_from, scope, owner, team_id, component,"
                " fault, summary, promoted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
                new_id,
                signature_id,
                to.scope.value,
                to.owner,
                to.team_id,
                cause.component,
                cause.fault,
                summary,
                by,
            )
        assert pattern is not None  # INSERT … RETURNING always returns the row
        return _pattern(pattern)

    async def list(self, viewer: Viewer) -> list[PatternRecord]:
        where, params = viewer.sql("p", 1)
        rows = await self._pool.fetch(
            f"SELECT * FROM learned_patterns p WHERE {where} ORDER BY p.created_at DESC", *params
        )
        return [_pattern(row) for row in rows]

    async def retire(self, pattern_id: int) -> PatternRecord:
        """Withdraw a promoted pattern: its redacted copy leaves the wider scope (the source signature, in
        its own scope, is untouched). NotFound when there is no such pattern."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow("SELECT * FROM learned_patterns WHERE id = $1 FOR UPDATE", pattern_id)
            if row is None:
                raise NotFound(f"no learned pattern {pattern_id}")
            # The pattern row goes with its signature (ON DELETE CASCADE).
            await conn.execute("DELETE FROM incident_signatures WHERE id = $1", row["signature_id"])
        return _pattern(row)

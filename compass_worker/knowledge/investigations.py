"""The investigation log: an investigation persisted step by step, so a retried job resumes.

`start()` is idempotent on the job's key: the first call creates the incident and the investigation,
a retry gets the same record back with `resumed=True` and can read `snapshot()` to continue from the
hypotheses, checks and evidence already stored. Hypotheses are upserted (latest state wins); checks
are unique per (hypothesis, query); evidence is append-only.
"""

from __future__ import annotations

import re
import uuid
from uuid import UUID

import asyncpg

from compass_worker.domain import Check, Evidence, Hypothesis, Incident, Verdict
from compass_worker.knowledge.database import AnyConnection, Pool
from compass_worker.knowledge.errors import InvalidInput, NotFound
from compass_worker.knowledge.records import (
    Cause,
    HistoryEntry,
    InvestigationRecord,
    InvestigationSnapshot,
    InvestigationStatus,
    StartedInvestigation,
    Trigger,
)
from compass_worker.knowledge.scope import Ownership, Scope, Viewer

_ID_PREFIX = re.compile(r"[0-9a-f-]{4,36}")  # at least 4 characters, as `git` asks of abbreviated ids

_SELECT = """
SELECT v.id, v.incident_id, v.idempotency_key, v.trigger, v.trigger_ref, v.requested_by, v.incident_json,
       v.status, v.attempts, v.started_at, v.finished_at, i.scope, i.owner, i.team_id
FROM investigations v JOIN incidents i ON i.id = v.incident_id
"""


def _record(row: asyncpg.Record) -> InvestigationRecord:
    return InvestigationRecord(
        id=row["id"],
        incident_id=row["incident_id"],
        idempotency_key=row["idempotency_key"],
        trigger=Trigger(row["trigger"]),
        trigger_ref=row["trigger_ref"],
        requested_by=row["requested_by"],
        incident=Incident.model_validate_json(row["incident_json"]),
        ownership=Ownership(scope=Scope(row["scope"]), owner=row["owner"], team_id=row["team_id"]),
        status=InvestigationStatus(row["status"]),
        attempts=row["attempts"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


async def ensure_team(conn: AnyConnection, ownership: Ownership) -> None:
    """A team is created on first use (its display name can be set later through the Slack map)."""
    if ownership.team_id is not None:
        await conn.execute(
            "INSERT INTO teams (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING", ownership.team_id
        )


class InvestigationLog:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def start(
        self,
        *,
        idempotency_key: str,
        incident: Incident,
        trigger: Trigger,
        ownership: Ownership,
        requested_by: str | None = None,
        trigger_ref: str | None = None,
    ) -> StartedInvestigation:
        """Create the investigation, or resume the one this key already started (attempts += 1)."""
        async with self._pool.acquire() as conn:
            for _ in range(2):  # a concurrent first start loses the unique race once, then resumes
                try:
                    async with conn.transaction():
                        row = await conn.fetchrow(
                            _SELECT + " WHERE v.idempotency_key = $1 FOR UPDATE OF v", idempotency_key
                        )
                        if row is not None:
                            await conn.execute(
                                "UPDATE investigations SET attempts = attempts + 1,"
                                " status = CASE WHEN status = 'failed' THEN 'running' ELSE status END,"
                                " finished_at = CASE WHEN status = 'failed' THEN NULL ELSE finished_at END"
                                " WHERE id = $1",
                                row["id"],
                            )
                            return StartedInvestigation(record=await self._get(conn, row["id"]), resumed=True)
                        await ensure_team(conn, ownership)
                        incident_id, investigation_id = uuid.uuid4(), uuid.uuid4()
                        await conn.execute(
                            "INSERT INTO incidents (id, title, service, signal, scope, owner, team_id)"
                            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            incident_id,
                            incident.symptom,
                            incident.service,
                            incident.signal,
                            ownership.scope.value,
                            ownership.owner,
                            ownership.team_id,
                        )
                        await conn.execute(
                            "INSERT INTO investigations (id, incident_id, idempotency_key, trigger,"
                            " trigger_ref, requested_by, incident_json) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            investigation_id,
                            incident_id,
                            idempotency_key,
                            trigger.value,
                            trigger_ref,
                            requested_by,
                            incident.model_dump_json(),
                        )
                        return StartedInvestigation(
                            record=await self._get(conn, investigation_id), resumed=False
                        )
                except asyncpg.UniqueViolationError:
                    continue
        raise NotFound(f"investigation with key {idempotency_key!r} could not be created or found")

    async def get(self, investigation_id: UUID) -> InvestigationRecord:
        async with self._pool.acquire() as conn:
            return await self._get(conn, investigation_id)

    async def resolve(self, text: str, viewer: Viewer) -> UUID:
        """An investigation id from its full form or a unique prefix (as git takes commit ids), among those
        the viewer may see. InvalidInput when ambiguous, NotFound when nothing matches."""
        prefix = text.strip().lower()
        if not _ID_PREFIX.fullmatch(prefix):
            raise InvalidInput(f"not an investigation id: {text!r} (see `compass history`)")
        where, params = viewer.sql("i", 2)
        rows = await self._pool.fetch(
            f"SELECT v.id FROM investigations v JOIN incidents i ON i.id = v.incident_id "
            f"WHERE v.id::text LIKE $1 AND {where} ORDER BY v.started_at DESC LIMIT 6",
            prefix + "%",
            *params,
        )
        if not rows:
            raise NotFound(f"no investigation {text!r} (see `compass history`)")
        if len(rows) > 1:
            shown = ", ".join(str(r["id"])[:12] for r in rows[:5])
            raise InvalidInput(f"investigation id {text!r} is ambiguous ({shown}…): give more characters")
        found: UUID = rows[0]["id"]
        return found

    async def _get(self, conn: AnyConnection, investigation_id: UUID) -> InvestigationRecord:
        row = await conn.fetchrow(_SELECT + " WHERE v.id = $1", investigation_id)
        if row is None:
            raise NotFound(f"no investigation {investigation_id}")
        return _record(row)

    async def save_hypothesis(self, investigation_id: UUID, hypothesis: Hypothesis) -> None:
        """Insert or update a hypothesis' state (its evidence is stored with add_evidence)."""
        await self._pool.execute(
            """
            INSERT INTO hypotheses (investigation_id, key, seq, component, fault, prior, origin, status,
                                    confidence, score, rationale, refuted_because)
            VALUES ($1, $2, (SELECT count(*) + 1 FROM hypotheses WHERE investigation_id = $1),
                    $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (investigation_id, key) DO UPDATE SET
                prior = EXCLUDED.prior, origin = EXCLUDED.origin, status = EXCLUDED.status,
                confidence = EXCLUDED.confidence, score = EXCLUDED.score, rationale = EXCLUDED.rationale,
                refuted_because = EXCLUDED.refuted_because, updated_at = now()
            """,
            investigation_id,
            hypothesis.id,
            hypothesis.component,
            hypothesis.fault,
            hypothesis.prior,
            hypothesis.origin.value,
            hypothesis.status.value,
            hypothesis.confidence,
            hypothesis.score,
            hypothesis.rationale,
            hypothesis.refuted_because,
        )

    async def add_check(self, investigation_id: UUID, check: Check) -> None:
        await self._pool.execute(
            "INSERT INTO checks (investigation_id, hypothesis_key, description, source, query)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            investigation_id,
            check.hypothesis_id,
            check.description,
            check.source,
            check.query,
        )

    async def add_evidence(
        self, investigation_id: UUID, evidence: Evidence, hypothesis_id: str | None
    ) -> None:
        await self._pool.execute(
            "INSERT INTO evidence (investigation_id, hypothesis_key, source, query, observation, link, value,"
            " stance, weight) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            investigation_id,
            hypothesis_id,
            evidence.source,
            evidence.query,
            evidence.observation,
            evidence.link,
            evidence.value,
            evidence.stance.value,
            evidence.weight,
        )

    async def record_verdict(self, investigation_id: UUID, verdict: Verdict) -> None:
        """Store the verdict (replacing an earlier one) and mark the investigation completed."""
        top = verdict.root_causes[0] if verdict.verdict == "root_cause" and verdict.root_causes else None
        async with self._pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE investigations SET status = 'completed', finished_at = now() WHERE id = $1",
                investigation_id,
            )
            if status.endswith(" 0"):
                raise NotFound(f"no investigation {investigation_id}")
            await conn.execute(
                """
                INSERT INTO verdicts (investigation_id, verdict, component, fault, confidence, verdict_json)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (investigation_id) DO UPDATE SET verdict = EXCLUDED.verdict,
                    component = EXCLUDED.component, fault = EXCLUDED.fault, confidence = EXCLUDED.confidence,
                    verdict_json = EXCLUDED.verdict_json, created_at = now()
                """,
                investigation_id,
                verdict.verdict,
                top.component if top else None,
                top.fault if top else None,
                top.confidence if top else None,
                verdict.model_dump_json(),
            )

    async def finish(self, investigation_id: UUID, status: InvestigationStatus) -> None:
        """End without a verdict (failed / cancelled), or re-mark completed."""
        result = await self._pool.execute(
            "UPDATE investigations SET status = $2, finished_at = now() WHERE id = $1",
            investigation_id,
            status.value,
        )
        if result.endswith(" 0"):
            raise NotFound(f"no investigation {investigation_id}")

    async def verdict(self, investigation_id: UUID) -> Verdict | None:
        raw = await self._pool.fetchval(
            "SELECT verdict_json FROM verdicts WHERE investigation_id = $1", investigation_id
        )
        return None if raw is None else Verdict.model_validate_json(raw)

    async def snapshot(self, investigation_id: UUID) -> InvestigationSnapshot:
        async with self._pool.acquire() as conn:
            record = await self._get(conn, investigation_id)
            hyp_rows = await conn.fetch(
                "SELECT * FROM hypotheses WHERE investigation_id = $1 ORDER BY seq, key", investigation_id
            )
            check_rows = await conn.fetch(
                "SELECT * FROM checks WHERE investigation_id = $1 ORDER BY id", investigation_id
            )
            ev_rows = await conn.fetch(
                "SELECT * FROM evidence WHERE investigation_id = $1 ORDER BY id", investigation_id
            )
            raw_verdict = await conn.fetchval(
                "SELECT verdict_json FROM verdicts WHERE investigation_id = $1", investigation_id
            )
        evidence: dict[str | None, list[Evidence]] = {}
        for row in ev_rows:
            evidence.setdefault(row["hypothesis_key"], []).append(
                Evidence(
                    source=row["source"],
                    query=row["query"],
                    observation=row["observation"],
                    link=row["link"],
                    value=row["value"],
                    stance=row["stance"],
                    weight=row["weight"],
                )
            )
        hypotheses = tuple(
            Hypothesis(
                id=row["key"],
                component=row["component"],
                fault=row["fault"],
                prior=row["prior"],
                origin=row["origin"],
                status=row["status"],
                confidence=row["confidence"],
                score=row["score"],
                rationale=row["rationale"],
                refuted_because=row["refuted_because"],
                evidence=tuple(evidence.get(row["key"], ())),
            )
            for row in hyp_rows
        )
        checks = tuple(
            Check(
                hypothesis_id=r["hypothesis_key"],
                description=r["description"],
                source=r["source"],
                query=r["query"],
            )
            for r in check_rows
        )
        return InvestigationSnapshot(
            record=record,
            hypotheses=hypotheses,
            checks=checks,
            observations=tuple(evidence.get(None, ())),
            verdict=None if raw_verdict is None else Verdict.model_validate_json(raw_verdict),
        )

    async def history(self, viewer: Viewer, *, limit: int = 20) -> list[HistoryEntry]:
        """Recent investigations the viewer may see, newest first."""
        where, params = viewer.sql("i", 2)
        rows = await self._pool.fetch(
            f"""
            SELECT v.id, v.started_at, i.title, v.status, v.trigger, d.component AS v_component,
                   d.fault AS v_fault, s.confirmed_component, s.confirmed_fault
            FROM investigations v
            JOIN incidents i ON i.id = v.incident_id
            LEFT JOIN verdicts d ON d.investigation_id = v.id
            LEFT JOIN incident_signatures s ON s.investigation_id = v.id
            WHERE {where}
            ORDER BY v.started_at DESC
            LIMIT $1
            """,
            limit,
            *params,
        )
        return [history_entry(row, None) for row in rows]


def history_entry(row: asyncpg.Record, similarity: float | None) -> HistoryEntry:
    verdict = Cause(component=row["v_component"], fault=row["v_fault"]) if row["v_fault"] else None
    confirmed = (
        Cause(component=row["confirmed_component"], fault=row["confirmed_fault"])
        if row["confirmed_fault"]
        else None
    )
    return HistoryEntry(
        investigation_id=row["id"],
        started_at=row["started_at"],
        symptom=row["title"],
        status=InvestigationStatus(row["status"]),
        trigger=Trigger(row["trigger"]),
        verdict=verdict,
        confirmed=confirmed,
        similarity=similarity,
    )

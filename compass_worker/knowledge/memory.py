"""Memory: incident signatures, similar past incidents, and the priors they suggest.

Retrieval is one HNSW scan over `incident_signatures` filtered by scope and embedding model, then a
re-rank in Python that blends cosine similarity (semantic) with the overlap of structured features
(same components, same signals moved, same first mover). pgvector's iterative index scan keeps the
filtered scan from returning too few rows.
"""

from __future__ import annotations

import json
from uuid import UUID

import asyncpg

from compass_worker.knowledge.database import Pool
from compass_worker.knowledge.embedders.protocol import Embedder, Vector
from compass_worker.knowledge.errors import InvalidInput, NotFound
from compass_worker.knowledge.investigations import history_entry
from compass_worker.knowledge.priors import PriorPolicy, compute_priors
from compass_worker.knowledge.records import Cause, HistoryEntry, PriorAdjustment, SimilarIncident
from compass_worker.knowledge.scope import Ownership, Scope, Viewer
from compass_worker.knowledge.signature import IncidentSignature, jaccard

# Share of the structured-feature overlap in the blended similarity (the rest is cosine).
FEATURE_SHARE = 0.2
_CANDIDATES_PER_RESULT = 4


def blended(cosine: float, query_features: tuple[str, ...], features: list[str]) -> float:
    if not query_features:
        return max(0.0, cosine)
    return max(0.0, (1 - FEATURE_SHARE) * cosine + FEATURE_SHARE * jaccard(query_features, features))


class Memory:
    def __init__(self, pool: Pool, embedder: Embedder, policy: PriorPolicy | None = None) -> None:
        self._pool = pool
        self._embedder = embedder
        self.policy = policy or PriorPolicy()

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    async def embed(self, signature: IncidentSignature) -> Vector:
        return (await self._embedder.embed([signature.text()]))[0]

    async def record_signature(self, investigation_id: UUID, signature: IncidentSignature) -> int:
        """Store (or replace) an investigation's signature, in the investigation's scope."""
        vector = await self.embed(signature)
        row_id = await self._pool.fetchval(
            """
            INSERT INTO incident_signatures (investigation_id, scope, owner, team_id, symptom, components,
                                             fingerprint, features, embedding, embedding_model)
            SELECT v.id, i.scope, i.owner, i.team_id, $2, $3, $4, $5, $6, $7
            FROM investigations v JOIN incidents i ON i.id = v.incident_id WHERE v.id = $1
            ON CONFLICT (investigation_id) DO UPDATE SET symptom = EXCLUDED.symptom,
                components = EXCLUDED.components, fingerprint = EXCLUDED.fingerprint,
                features = EXCLUDED.features, embedding = EXCLUDED.embedding,
                embedding_model = EXCLUDED.embedding_model
            RETURNING id
            """,
            investigation_id,
            signature.symptom,
            list(signature.components),
            json.dumps([s.model_dump() for s in signature.fingerprint]),
            list(signature.features()),
            vector,
            self._embedder.model_id,
        )
        if row_id is None:
            raise NotFound(f"no investigation {investigation_id}")
        return int(row_id)

    async def similar_incidents(
        self, signature: IncidentSignature, viewer: Viewer, k: int = 5, *, exclude: UUID | None = None
    ) -> list[SimilarIncident]:
        """Up to k past incidents with a confirmed cause, visible to `viewer`, most similar first.

        Only incidents at least `policy.min_similarity` similar are returned.
        """
        if k < 1:
            raise InvalidInput("k must be at least 1")
        vector = await self.embed(signature)
        rows = await self._nearest(vector, viewer, k * _CANDIDATES_PER_RESULT, exclude, confirmed_only=True)
        features = signature.features()
        scored = [(blended(1.0 - row["distance"], features, row["features"]), row) for row in rows]
        scored = [(s, r) for s, r in scored if s >= self.policy.min_similarity]
        scored.sort(key=lambda pair: -pair[0])
        return [_similar(row, score) for score, row in scored[:k]]

    async def cause_priors(
        self, signature: IncidentSignature, viewer: Viewer, *, exclude: UUID | None = None
    ) -> list[PriorAdjustment]:
        """How memory would move each cause's prior for this signature (see priors.py and PriorAdjustment)."""
        similar = await self.similar_incidents(signature, viewer, self.policy.neighbours, exclude=exclude)
        return compute_priors(similar, self.policy)

    async def search(self, text: str, viewer: Viewer, k: int = 10) -> list[HistoryEntry]:
        """Past investigations (confirmed or not) whose signature is closest to a free-text description."""
        if not text.strip():
            raise InvalidInput("the text to compare with is empty")
        vector = (await self._embedder.embed([text]))[0]
        rows = await self._nearest(vector, viewer, k, None, confirmed_only=False)
        ids = [row["investigation_id"] for row in rows if row["investigation_id"] is not None]
        similarity = {row["investigation_id"]: max(0.0, 1.0 - row["distance"]) for row in rows}
        details = await self._pool.fetch(
            """
            SELECT v.id, v.started_at, i.title, v.status, v.trigger, d.component AS v_component,
                   d.fault AS v_fault, s.confirmed_component, s.confirmed_fault
            FROM investigations v JOIN incidents i ON i.id = v.incident_id
            LEFT JOIN verdicts d ON d.investigation_id = v.id
            LEFT JOIN incident_signatures s ON s.investigation_id = v.id
            WHERE v.id = ANY($1::uuid[])
            """,
            ids,
        )
        entries = [history_entry(row, similarity[row["id"]]) for row in details]
        return sorted(entries, key=lambda e: -(e.similarity or 0.0))

    async def _nearest(
        self, vector: Vector, viewer: Viewer, limit: int, exclude: UUID | None, *, confirmed_only: bool
    ) -> list[asyncpg.Record]:
        where, params = viewer.sql("s", 4)
        outcome = (
            "AND s.confirmed_fault IS NOT NULL" if confirmed_only else "AND s.investigation_id IS NOT NULL"
        )
        async with self._pool.acquire() as conn, conn.transaction():
            # Filtered HNSW scans stop early without this (pgvector ≥ 0.8); order is re-ranked below anyway.
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            return await conn.fetch(
                f"""
                SELECT s.id, s.investigation_id, s.symptom, s.components, s.features, s.scope, s.owner,
                       s.team_id, s.confirmed_component, s.confirmed_fault, s.wrong_component, s.wrong_fault,
                       s.confirmed_by, s.confirmed_at, s.resolution, s.embedding <=> $1 AS distance
                FROM incident_signatures s
                WHERE s.embedding_model = $2 AND {where} {outcome}
                  AND ($3::uuid IS NULL OR s.investigation_id IS DISTINCT FROM $3::uuid)
                ORDER BY s.embedding <=> $1
                LIMIT {int(limit)}
                """,
                vector,
                self._embedder.model_id,
                exclude,
                *params,
            )


def _similar(row: asyncpg.Record, similarity: float) -> SimilarIncident:
    wrong = Cause(component=row["wrong_component"], fault=row["wrong_fault"]) if row["wrong_fault"] else None
    return SimilarIncident(
        signature_id=row["id"],
        investigation_id=row["investigation_id"],
        symptom=row["symptom"],
        components=tuple(row["components"]),
        ownership=Ownership(scope=Scope(row["scope"]), owner=row["owner"], team_id=row["team_id"]),
        similarity=round(min(1.0, similarity), 4),
        confirmed=Cause(component=row["confirmed_component"], fault=row["confirmed_fault"]),
        wrong=wrong,
        confirmed_by=row["confirmed_by"],
        confirmed_at=row["confirmed_at"],
        resolution=row["resolution"],
    )

"""Benchmark: top-5 similar-incident retrieval among 100,000 stored signatures (goal: p95 ≤ 20 ms).

Not a test: it prints figures. Loads N synthetic signatures with COPY (clustered 384-d unit vectors, mixed
scopes, all with confirmed causes), builds the migration's HNSW index, then times `Memory.similar_incidents`
— the store's real query, scope filter and re-rank — for fresh query vectors; recall@5 against an exact
scan is printed beside it. Query embedding time with the local MiniLM model is measured separately.

    .venv/bin/python benchmarks/knowledge_retrieval.py [--n 100000] [--queries 300]

Uses DATABASE_URL if set (a scratch database is created and dropped), else a temporary embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compass_worker.knowledge import (
    EMBEDDING_DIMENSIONS,
    IncidentSignature,
    MiniLMEmbedder,
    Viewer,
    migrate,
)
from compass_worker.knowledge.database import create_pool
from compass_worker.knowledge.embedded import EmbeddedPostgres
from compass_worker.knowledge.embedders.protocol import Vector
from compass_worker.knowledge.memory import Memory
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

# Per-dimension noise around 2,000 cluster centres: members sit at cosine ≈ 0.8 from each other, like
# re-occurrences of one kind of incident; different clusters are unrelated (cosine ≈ 0).
NOISE = 0.5 / np.sqrt(EMBEDDING_DIMENSIONS)
FAULTS = [
    "db_slow_queries",
    "db_connection_pool_exhaustion",
    "bad_deploy",
    "cpu_saturation",
    "memory_leak",
    "dependency_latency",
    "cache_failure",
    "queue_backlog",
    "disk_full",
    "config_change",
]


class LookupEmbedder:
    """Returns pre-computed vectors for the benchmark's query texts (retrieval is timed, not a model)."""

    model_id = "bench-synthetic"

    def __init__(self) -> None:
        self.vectors: dict[str, Vector] = {}

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        return [self.vectors[t] for t in texts]


def unit(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def run(url: str, n: int, queries: int) -> None:
    rng = np.random.default_rng(7)
    centers = unit(rng.normal(size=(2000, EMBEDDING_DIMENSIONS)))
    conn = await asyncpg.connect(url)
    await migrate(conn, DEFAULT_MIGRATIONS_DIR)
    await conn.execute(
        "INSERT INTO teams (id, name) SELECT 'team-' || g, 'team ' || g FROM generate_series(0, 9) g"
    )
    index_def = await conn.fetchval(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'incident_signatures_embedding_idx'"
    )
    await conn.execute("DROP INDEX incident_signatures_embedding_idx")  # bulk build after COPY is faster
    await conn.close()

    pool = await create_pool(url, max_size=4)
    labels = rng.integers(0, len(centers), size=n)
    vectors = unit(centers[labels] + rng.normal(scale=NOISE, size=(n, EMBEDDING_DIMENSIONS)))
    scopes = rng.choice(["org", "team", "personal"], size=n, p=[0.7, 0.2, 0.1])
    now = time.time()
    records = []
    for i in range(n):
        scope = str(scopes[i])
        records.append(
            (
                scope,
                f"user-{i % 50}" if scope == "personal" else None,
                f"team-{i % 10}" if scope == "team" else None,
                f"synthetic incident {i} in cluster {labels[i]}",
                [f"svc-{labels[i] % 300}"],
                [f"component:svc-{labels[i] % 300}"],
                vectors[i],
                LookupEmbedder.model_id,
                f"svc-{labels[i] % 300}",
                FAULTS[labels[i] % len(FAULTS)],
                "bench",
            )
        )
    started = time.perf_counter()
    async with pool.acquire() as c:
        await c.copy_records_to_table(
            "incident_signatures",
            records=records,
            columns=[
                "scope",
                "owner",
                "team_id",
                "symptom",
                "components",
                "features",
                "embedding",
                "embedding_model",
                "confirmed_component",
                "confirmed_fault",
                "confirmed_by",
            ],
        )
        await c.execute("UPDATE incident_signatures SET confirmed_at = to_timestamp($1)", now)
        copy_s = time.perf_counter() - started
        started = time.perf_counter()
        await c.execute("SET maintenance_work_mem = '1GB'")
        await c.execute(index_def)
        await c.execute("ANALYZE incident_signatures")
        index_s = time.perf_counter() - started

    embedder = LookupEmbedder()
    memory = Memory(pool, embedder)
    viewer = Viewer(user="user-3", teams=("team-3",))
    query_vectors = unit(
        centers[rng.integers(0, len(centers), size=queries)]
        + rng.normal(scale=NOISE, size=(queries, EMBEDDING_DIMENSIONS))
    )
    signatures = []
    for i, v in enumerate(query_vectors):
        sig = IncidentSignature(symptom=f"query {i}")
        embedder.vectors[sig.text()] = v
        signatures.append(sig)
    for sig in signatures[:20]:  # warm caches
        await memory.similar_incidents(sig, viewer, 5)
    latencies: list[float] = []
    found_ids: list[list[int]] = []
    for sig in signatures:
        t = time.perf_counter()
        found = await memory.similar_incidents(sig, viewer, 5)
        latencies.append((time.perf_counter() - t) * 1000)
        found_ids.append([f.signature_id for f in found])

    # Recall@5 against an exact (sequential) scan with the same filter, on a sample of queries.
    where, params = viewer.sql("s", 2)
    hits = total = 0
    async with pool.acquire() as c, c.transaction():
        await c.execute("SET LOCAL enable_indexscan = off")
        for i in range(0, queries, max(1, queries // 50)):
            rows = await c.fetch(
                f"SELECT s.id, s.embedding <=> $1 AS d FROM incident_signatures s WHERE {where}"
                " ORDER BY s.embedding <=> $1 LIMIT 5",
                query_vectors[i],
                *params,
            )
            # Only neighbours similar enough to be returned at all count.
            exact = {r["id"] for r in rows if 1 - r["d"] >= memory.policy.min_similarity}
            hits += len(exact & set(found_ids[i]))
            total += len(exact)
    await pool.close()

    minilm = MiniLMEmbedder()
    t = time.perf_counter()
    minilm.load()
    load_s = time.perf_counter() - t
    embed_ms: list[float] = []
    for i in range(50):
        t = time.perf_counter()
        await minilm.embed(
            [f"checkout p99 latency is spiking on payments path {i} | components: checkout, payments-db"]
        )
        embed_ms.append((time.perf_counter() - t) * 1000)

    print(f"signatures stored:          {n:,}  (COPY {copy_s:.1f} s, HNSW build {index_s:.1f} s)")
    print(
        f"top-5 retrieval, {queries} queries: p50 {pct(latencies, 50):.2f} ms  "
        f"p95 {pct(latencies, 95):.2f} ms  "
        f"max {max(latencies):.2f} ms   (goal p95 ≤ 20 ms)"
    )
    print(f"recall@5 vs exact scan:     {hits / max(total, 1):.3f}  ({total} neighbours checked)")
    print(
        f"MiniLM query embedding:     load {load_s * 1000:.0f} ms; "
        f"per query p50 {statistics.median(embed_ms):.1f} ms  "
        f"p95 {pct(embed_ms, 95):.1f} ms"
    )


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def main_async(args: argparse.Namespace, server_url: str) -> None:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    try:
        await run(with_database(server_url, name), args.n, args.queries)
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL"):
        asyncio.run(main_async(args, os.environ["DATABASE_URL"]))
        return
    root = Path(tempfile.mkdtemp(prefix="compass-bench-"))
    server = EmbeddedPostgres(root / "data", cleanup="delete")
    try:
        url = server.start()
        print(f"embedded PostgreSQL started in {root}")
        asyncio.run(main_async(args, url))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

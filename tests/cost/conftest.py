"""One embedded PostgreSQL + pgvector for the cost tests, a fresh migrated database per test."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from compass_worker.knowledge import migrate
from compass_worker.knowledge.embedded import EmbeddedPostgres
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR


@pytest.fixture(scope="session")
def cost_pg_uri() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="compass-cost-pg-"))
    server = EmbeddedPostgres(root / "data", cleanup="delete")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def cost_db_url(cost_pg_uri: str) -> AsyncIterator[str]:
    name = f"c_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(cost_pg_uri)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(cost_pg_uri)._replace(path=f"/{name}"))
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, DEFAULT_MIGRATIONS_DIR)
    finally:
        await conn.close()
    yield url
    admin = await asyncpg.connect(cost_pg_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()

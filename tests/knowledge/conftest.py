"""One embedded PostgreSQL + pgvector per test session; a fresh database per test (cloned from a migrated
template, ~50 ms). Never the machine's own PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from compass_worker.knowledge import HashingEmbedder, KnowledgeStore, migrate
from compass_worker.knowledge.database import create_pool
from compass_worker.knowledge.embedded import EmbeddedPostgres
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

TEMPLATE = "compass_template"


def with_database(uri: str, name: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_uri() -> Iterator[str]:
    # Not under pytest's basetemp: a concurrent pytest run on the same machine prunes old basetemp folders,
    # which would pull the data directory from under a running server.
    root = Path(tempfile.mkdtemp(prefix="compass-pg-"))
    server = EmbeddedPostgres(root / "data", cleanup="delete")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
async def template(pg_uri: str) -> str:
    admin = await asyncpg.connect(pg_uri)
    try:
        # Throw-away test data: durability buys nothing and costs seconds on a busy disk.
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            await admin.execute(f"ALTER SYSTEM SET {setting}")
        await admin.execute("SELECT pg_reload_conf()")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(with_database(pg_uri, TEMPLATE))
    try:
        await migrate(conn, DEFAULT_MIGRATIONS_DIR)
    finally:
        await conn.close()
    return TEMPLATE


async def _create(pg_uri: str, template: str | None) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_uri)
    try:
        await admin.execute(
            f"CREATE DATABASE {name}" + (f" TEMPLATE {template} STRATEGY FILE_COPY" if template else "")
        )
    finally:
        await admin.close()
    return name


async def _drop(pg_uri: str, name: str) -> None:
    admin = await asyncpg.connect(pg_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def empty_db_url(pg_uri: str) -> AsyncIterator[str]:
    """A brand-new database with no schema."""
    name = await _create(pg_uri, None)
    yield with_database(pg_uri, name)
    await _drop(pg_uri, name)


@pytest.fixture
async def db_url(pg_uri: str, template: str) -> AsyncIterator[str]:
    """A fresh, migrated database."""
    name = await _create(pg_uri, template)
    yield with_database(pg_uri, name)
    await _drop(pg_uri, name)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[KnowledgeStore]:
    pool = await create_pool(db_url)
    try:
        yield KnowledgeStore(pool, HashingEmbedder())
    finally:
        await pool.close()


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """A private copy of migrations/ that a test may edit."""
    target = tmp_path / "migrations"
    target.mkdir()
    for path in DEFAULT_MIGRATIONS_DIR.glob("*.sql"):
        (target / path.name).write_bytes(path.read_bytes())
    return target

"""Infrastructure shared by every test package, started once per session and only when used:

- one embedded PostgreSQL + pgvector (never the machine's own PostgreSQL, which has no pgvector), with a
  migrated template so that each test gets a fresh database in ~50 ms;
- one private Redis (a throw-away redis-server, or the machine's on a test DB index when none can start);
- the fake Slack Web API (Slack itself cannot be reached from here).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from arq.connections import ArqRedis

from compass_testing import FakeSlack, RedisServer, postgres_for_tests, redis_for_tests
from compass_testing.fake_llm import FakeLlmApi
from compass_worker.knowledge import HashingEmbedder, KnowledgeStore, migrate
from compass_worker.knowledge.database import create_pool
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

TEMPLATE = "compass_template"
SLACK_TOKEN = "xoxb-test-token"


def with_database(uri: str, name: str) -> str:
    return urlunsplit(urlsplit(uri)._replace(path=f"/{name}"))


# -- PostgreSQL + pgvector ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_uri() -> Iterator[str]:
    with postgres_for_tests() as uri:
        yield uri


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
        clause = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        await admin.execute(f"CREATE DATABASE {name}{clause}")
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


# -- Redis ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with redis_for_tests() as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[ArqRedis]:
    client = ArqRedis.from_url(redis_server.url)
    await client.flushdb()
    yield client
    await client.aclose()


# -- the LLM vendors' APIs (one local fake for Anthropic and OpenAI; its script is reset per test) ------
@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLlmApi]:
    api = FakeLlmApi()
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def fake_llm(fake_llm_server: FakeLlmApi) -> FakeLlmApi:
    fake_llm_server.reset()
    return fake_llm_server


# -- Slack's Web API (a local fake that records every call) ---------------------------------------------
@pytest.fixture(scope="session")
async def fake_slack_server() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(SLACK_TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack(fake_slack_server: FakeSlack) -> FakeSlack:
    fake_slack_server.reset()
    return fake_slack_server

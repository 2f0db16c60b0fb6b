"""End-to-end fixtures: one embedded PostgreSQL + pgvector, one private Redis, one lab (serving one
scenario) and the fake Slack Web API per session; a fresh database, an empty Redis and a real ARQ
worker (in-process) per test. The engine reaches the lab through the real mcp-grafana binary."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from service_testkit import SECRET, TOKEN, worker_config

from compass_bot.app import Edge, create_edge
from compass_bot.settings import BotSettings
from compass_bot.testing import FakeSlack, RedisServer, redis_for_tests
from compass_lab.harness import lab_server, scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer, mcp_config
from compass_worker.knowledge import HashingEmbedder, KnowledgeStore, migrate
from compass_worker.knowledge.database import create_pool
from compass_worker.knowledge.embedded import EmbeddedPostgres
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR
from compass_worker.service.settings import WorkerConfig
from compass_worker.service.worker import build_worker, close_worker

TEMPLATE = "compass_template"


# -- PostgreSQL (the pattern of tests/knowledge/conftest.py) ---------------------------------------------
def with_database(uri: str, name: str) -> str:
    return urlunsplit(urlsplit(uri)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_uri() -> Iterator[str]:
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


@pytest.fixture
async def db_url(pg_uri: str, template: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_uri)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    finally:
        await admin.close()
    yield with_database(pg_uri, name)
    admin = await asyncpg.connect(pg_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[KnowledgeStore]:
    """The test's own view of the database the worker writes (to check what was recorded)."""
    pool = await create_pool(db_url)
    try:
        yield KnowledgeStore(pool, HashingEmbedder())
    finally:
        await pool.close()


# -- Redis, Slack, the lab --------------------------------------------------------------------------------
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


@pytest.fixture(scope="session")
async def fake_slack_server() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack(fake_slack_server: FakeSlack) -> FakeSlack:
    fake_slack_server.reset()
    return fake_slack_server


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return get_scenario(DEFAULT_SCENARIO_ID)


@pytest.fixture(scope="session")
def lab(scenario: Scenario) -> Iterator[LabServer]:
    with lab_server([scenario], scenario.id) as server:
        yield server


@pytest.fixture(scope="session")
def mcp_config_file(lab: LabServer, scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "mcp.json"
    path.write_text(json.dumps(mcp_config(lab.url, scenario.id)))
    return path


# -- the services -------------------------------------------------------------------------------------------
@pytest.fixture
def config(redis_server: RedisServer, slack: FakeSlack, db_url: str, redis: ArqRedis) -> WorkerConfig:
    return worker_config(redis_server.url, slack.base_url, db_url, status_interval_s=0.2)


@pytest.fixture
async def worker(config: WorkerConfig, lab: LabServer, scenario: Scenario) -> AsyncIterator[Worker]:
    """A real ARQ worker, in this process, polling the test's Redis."""
    w = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(w.async_run())
    yield w
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await close_worker(w)


@pytest.fixture
async def edge(redis_server: RedisServer, slack: FakeSlack, redis: ArqRedis) -> AsyncIterator[Edge]:
    built = create_edge(
        BotSettings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            redis_url=redis_server.url,
        )
    )
    yield built
    await built.queue.redis.aclose()


@pytest.fixture
async def http(edge: Edge) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=edge.api), base_url="http://bot"
    ) as client:
        yield client

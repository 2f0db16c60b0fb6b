"""Shared pieces of the REST API tests: bot settings, tokens from the real CLI, seeded records, a server."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid

import uvicorn

from compass_bot.app import create_edge
from compass_bot.settings import BotSettings
from compass_worker.domain import Incident, RootCause, Verdict
from compass_worker.knowledge import KnowledgeStore, Ownership, Trigger

AM_TOKEN = "am-token"


def settings(redis_url: str, slack_url: str, db_url: str) -> BotSettings:
    return BotSettings.model_validate(
        {
            "slack_bot_token": "xoxb-test-token",
            "slack_signing_secret": "s",
            "slack_api_url": slack_url,
            "redis_url": redis_url,
            "database_url": db_url,
            "alertmanager_token": AM_TOKEN,
        }
    )


async def create_token(db_url: str, *scopes: str) -> str:
    """`compass api-token create --scope …` (the real CLI, as a process) against the test database."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "compass_cli.main",
        "api-token",
        "create",
        *(f"--scope={s}" for s in scopes),
        "--name",
        "tester",
        env={**os.environ, "DATABASE_URL": db_url, "COMPASS_EMBEDDER": "hashing"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    token = out.decode().strip()
    assert token.startswith("cmp_") and "\n" not in token
    return token


async def seed_investigation(store: KnowledgeStore, key: str = "api-test") -> uuid.UUID:
    incident = Incident(symptom="checkout p99 latency is spiking", service="checkout", at=1.8e9)
    started = await store.investigations.start(
        idempotency_key=key, incident=incident, trigger=Trigger.CLI, ownership=Ownership.team("payments")
    )
    await store.investigations.record_verdict(
        started.record.id,
        Verdict(
            verdict="root_cause",
            incident=incident,
            root_causes=(
                RootCause(component="payments-db", fault="db_slow_queries", confidence=0.8, summary="locks"),
            ),
        ),
    )
    return started.record.id


class ServerThread:
    """uvicorn in a thread with its own event loop (the database pool lives there), on 127.0.0.1."""

    def __init__(self, app_settings: BotSettings) -> None:
        self._settings = app_settings
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        edge = create_edge(self._settings)
        config = uvicorn.Config(edge.api, host="127.0.0.1", port=0, log_level="error", lifespan="on")
        self._server = uvicorn.Server(config)
        asyncio.run(self._server.serve())

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not (self._server and self._server.started):
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=10)

"""Shared steps of the reliability tests: a worker config, and waiting for a condition with a deadline."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

from compass_worker.knowledge.settings import EmbedderKind, KnowledgeSettings
from compass_worker.service.settings import ServiceSettings, WorkerConfig
from compass_worker.settings import Settings

CHANNEL = "CINCIDENT"
SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


def worker_config(redis_url: str, slack_url: str, db_url: str, **service: object) -> WorkerConfig:
    return WorkerConfig(
        service=ServiceSettings.model_validate(
            {"slack_bot_token": TOKEN, "slack_api_url": slack_url, "redis_url": redis_url, **service}
        ),
        engine=Settings(),
        knowledge=KnowledgeSettings(database_url=db_url, embedder=EmbedderKind.HASHING, auto_migrate=False),
    )


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout_s: float, what: str) -> float:
    """Seconds until `check()` held; AssertionError naming `what` after `timeout_s`."""
    started = time.monotonic()

    async def holds() -> bool:
        value = check()
        return await value if inspect.isawaitable(value) else value

    while not await holds():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started

"""The Health page's checks: the same functions as `compass doctor` (compass_worker.health), run
concurrently on the settings this process reads, each within COMPASS_UI_HEALTH_TIMEOUT_S."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from pathlib import Path

from pydantic import ValidationError

from compass_bot.settings import BotSettings
from compass_worker.errors import CompassError
from compass_worker.health import (
    DEFAULT_MANIFEST,
    MANIFEST_ENV,
    CheckResult,
    check_database,
    check_llm,
    check_mcp_servers,
    check_queue,
    check_redis,
    check_slack,
    fail,
)
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.reasoners.settings import LlmSettings
from compass_worker.settings import Settings


def _unparsed(name: str, exc: Exception) -> list[CheckResult]:
    text = str(exc).strip().splitlines()
    return [fail(name, f"settings do not parse: {text[0] if text else type(exc).__name__}")]


async def _mcp(timeout_s: float) -> list[CheckResult]:
    try:
        engine = Settings()
    except (ValidationError, CompassError) as exc:
        return _unparsed("mcp", exc)
    return await check_mcp_servers(engine.mcp_config, os.environ, timeout_s, engine.mcp_log_dir)


async def _database() -> list[CheckResult]:
    try:
        knowledge = KnowledgeSettings()
    except (ValidationError, CompassError) as exc:
        return _unparsed("postgresql", exc)
    return await check_database(knowledge)


async def _llm(timeout_s: float) -> list[CheckResult]:
    try:
        llm = LlmSettings()
    except (ValidationError, CompassError) as exc:
        return _unparsed("llm", exc)
    return await check_llm(llm, timeout_s)


async def _one(check: Awaitable[CheckResult]) -> list[CheckResult]:
    return [await check]


async def run_checks(bot: BotSettings, timeout_s: float) -> list[CheckResult]:
    manifest = Path(os.environ.get(MANIFEST_ENV) or DEFAULT_MANIFEST)
    groups = await asyncio.gather(
        _one(check_redis(bot.redis_url, timeout_s)),
        _one(check_queue(bot.redis_url, timeout_s)),
        _database(),
        _mcp(timeout_s),
        _one(check_slack(bot.slack_bot_token.get_secret_value(), bot.slack_api_url, manifest, timeout_s)),
        _llm(timeout_s),
    )
    return [result for group in groups for result in group]

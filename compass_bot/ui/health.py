"""The Health page's checks: the same functions as `compass doctor` (compass_worker.health), on the
settings this process reads, each within COMPASS_UI_HEALTH_TIMEOUT_S.

They run one after another, not gathered: a check's first run imports heavy modules (the MCP client, the LLM
SDKs) and would hold the event loop long enough for a concurrent check's connect timeout to fire — a
healthy Redis reported as unreachable."""

from __future__ import annotations

import os
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


async def run_checks(bot: BotSettings, timeout_s: float) -> list[CheckResult]:
    manifest = Path(os.environ.get(MANIFEST_ENV) or DEFAULT_MANIFEST)
    token = bot.slack_bot_token.get_secret_value()
    results = [await check_redis(bot.redis_url, timeout_s), await check_queue(bot.redis_url, timeout_s)]
    results += await _database()
    results += await _mcp(timeout_s)
    results.append(await check_slack(token, bot.slack_api_url, manifest, timeout_s))
    results += await _llm(timeout_s)
    return results

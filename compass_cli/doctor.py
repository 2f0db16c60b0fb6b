"""`compass doctor`: is this deployment able to investigate? One line per check, exit 0 when none fails.

    ok   settings: engine, knowledge store, LLM and Slack bot/worker settings parse
    ok   redis: redis://redis:6379/0 answers (Redis 7.4.1)
    fail mcp grafana: failed to start: … (stderr: …)
    skip llm: not configured (COMPASS_LLM=none: the built-in evidence engine investigates)

The checks themselves live in `compass_worker.health` (the dashboard's Health page runs them too); this
module reads the settings groups, decides what to skip, and prints.

Each check is a small function returning one `CheckResult`; a check whose input did not parse, or that is
not configured, is skipped (and says why) rather than failed twice. Only a failure makes the exit code 1.
Settings come from the environment exactly as `compass bot` and `compass worker` read them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from compass_bot.settings import BotConfigError, load_bot_settings
from compass_worker.errors import CompassError
from compass_worker.health import (
    DEFAULT_MANIFEST,
    MANIFEST_ENV,
    CheckResult,
    Status,
    check_database,
    check_llm,
    check_mcp_servers,
    check_redis,
    check_slack,
    fail,
    ok,
    skip,
)
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.reasoners.settings import LlmSettings
from compass_worker.service.settings import ServiceSettings
from compass_worker.settings import Settings

__all__ = ["CheckResult", "Status", "check_settings", "diagnose", "run_doctor"]


@dataclass(frozen=True)
class LoadedSettings:
    """What parsed; None where a group did not parse (its checks are then skipped)."""

    engine: Settings | None
    knowledge: KnowledgeSettings | None
    llm: LlmSettings | None
    service: ServiceSettings | None  # None also when Slack is not configured at all
    slack_configured: bool


# -- settings ------------------------------------------------------------------------------------------------
def _first_error(exc: ValidationError, prefix: str) -> str:
    err = exc.errors()[0]
    raw = str(err["loc"][0]) if err["loc"] else "?"
    own_names = ("SLACK", "REDIS", "DATABASE", "ANTHROPIC", "OPENAI", "OLLAMA")  # variables without COMPASS_
    name = raw.upper() if raw.isupper() or raw.upper().startswith(own_names) else prefix + raw.upper()
    msg = "is not set" if err["type"] == "missing" else str(err["msg"]).removeprefix("Value error, ")
    return f"{name}: {msg}"


def check_settings() -> tuple[CheckResult, LoadedSettings]:
    """Every settings group COMPASS reads at start-up (from the process environment, as the services do),
    each parsed on its own so that one bad value hides none."""
    problems: list[str] = []

    def parse(factory: Callable[[], Any], prefix: str) -> Any:
        try:
            return factory()
        except ValidationError as exc:
            problems.append(_first_error(exc, prefix))
        except CompassError as exc:
            problems.append(str(exc).removeprefix("invalid setting "))
        return None

    engine: Settings | None = parse(Settings, "COMPASS_")
    knowledge: KnowledgeSettings | None = parse(KnowledgeSettings, "COMPASS_")
    llm: LlmSettings | None = parse(LlmSettings, "COMPASS_")
    slack_configured = bool(os.environ.get("SLACK_BOT_TOKEN"))
    service: ServiceSettings | None = parse(ServiceSettings, "") if slack_configured else None
    if slack_configured:
        problems.extend(_bot_settings_problems())
    loaded = LoadedSettings(engine, knowledge, llm, service, slack_configured)
    if problems:
        return fail("settings", "invalid " + "; ".join(problems)), loaded
    groups = "engine, knowledge store, LLM" + (" and Slack bot/worker" if slack_configured else "")
    note = "" if slack_configured else " (SLACK_BOT_TOKEN unset: the Slack service is not configured)"
    return ok("settings", f"{groups} settings parse{note}"), loaded


def _bot_settings_problems() -> list[str]:
    """The bot's own settings (signing secret, app token, TTLs): one image runs both roles, so a deployment
    with Slack configured needs them even where doctor runs in a worker's container."""
    try:
        load_bot_settings()
    except BotConfigError as exc:
        return [str(exc).removeprefix("invalid setting ")]
    return []


# -- the whole run -------------------------------------------------------------------------------------------
async def diagnose(
    *, timeout_s: float = 20.0, report: Callable[[CheckResult], None] | None = None
) -> list[CheckResult]:
    """Run every check in order on the process environment, read now, as `compass bot` and `compass worker`
    read it at start-up; `report` sees each result as soon as it is known."""
    env = os.environ
    results: list[CheckResult] = []

    def add(*found: CheckResult) -> None:
        for result in found:
            results.append(result)
            if report is not None:
                report(result)

    result, loaded = check_settings()
    add(result)
    unparsed = "skipped: its settings did not parse"

    if loaded.service is not None:
        add(await check_redis(loaded.service.redis_url, timeout_s))
    else:
        add(skip("redis", unparsed if loaded.slack_configured else "the Slack service is not configured"))

    if loaded.knowledge is None:
        add(skip("postgresql", unparsed), skip("migrations", unparsed))
    else:
        add(*await check_database(loaded.knowledge))

    if loaded.engine is None:
        add(skip("mcp", unparsed))
    else:
        add(*await check_mcp_servers(loaded.engine.mcp_config, env, timeout_s, loaded.engine.mcp_log_dir))

    if loaded.service is not None:
        manifest = Path(env.get(MANIFEST_ENV) or DEFAULT_MANIFEST)
        service = loaded.service
        add(
            await check_slack(
                service.slack_bot_token.get_secret_value(), service.slack_api_url, manifest, timeout_s
            )
        )
    else:
        add(skip("slack", unparsed if loaded.slack_configured else "SLACK_BOT_TOKEN is not set"))

    if loaded.llm is None:
        add(skip("llm", unparsed))
    else:
        add(*await check_llm(loaded.llm, timeout_s))
    return results


# -- the command ---------------------------------------------------------------------------------------------
def add_doctor_command(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "doctor", help="check settings, Redis, PostgreSQL, migrations, MCP servers, Slack and the LLM"
    )
    p.add_argument(
        "--timeout", type=float, default=20.0, metavar="S", help="per-check time limit (default 20)"
    )
    p.set_defaults(func=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        print("compass doctor: error: --timeout must be positive", file=sys.stderr)
        return 2
    results = asyncio.run(diagnose(timeout_s=args.timeout, report=lambda r: print(r.line, flush=True)))
    return 1 if any(r.status is Status.FAIL for r in results) else 0

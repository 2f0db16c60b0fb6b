"""`compass doctor`: is this deployment able to investigate? One line per check, exit 0 when none fails.

    ok   settings: engine, knowledge store, LLM and Slack bot/worker settings parse
    ok   redis: redis://redis:6379/0 answers (Redis 7.4.1)
    fail mcp grafana: failed to start: … (stderr: …)
    skip llm: not configured (COMPASS_LLM=none: the built-in evidence engine investigates)

Each check is a small function returning one `CheckResult`; a check whose input did not parse, or that is
not configured, is skipped (and says why) rather than failed twice. Only a failure makes the exit code 1.
Settings come from the environment exactly as `compass bot` and `compass worker` read them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from compass_bot.settings import BotConfigError, load_bot_settings
from compass_worker.errors import CompassError
from compass_worker.knowledge.database import connect, open_target
from compass_worker.knowledge.migrations import check_schema
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.reasoners.settings import PHASES, LlmSettings, ModelSpec
from compass_worker.service.settings import ServiceSettings
from compass_worker.settings import Settings
from compass_worker.telemetry.allowlist import DEFAULT_READ_ONLY_TOOLS, is_allowed
from compass_worker.telemetry.config import load_mcp_config
from compass_worker.telemetry.session import open_toolsets

MANIFEST_ENV = "COMPASS_SLACK_MANIFEST"
# The repository's manifest, beside the packages (the image sets COMPASS_SLACK_MANIFEST to its own copy).
DEFAULT_MANIFEST = Path(__file__).resolve().parents[1] / "slack-app-manifest.yaml"


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    status: Status
    detail: str

    @property
    def line(self) -> str:
        return f"{self.status.value:<4} {self.name}: {self.detail}"


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name=name, status=Status.OK, detail=detail)


def fail(name: str, detail: str) -> CheckResult:
    return CheckResult(name=name, status=Status.FAIL, detail=detail)


def skip(name: str, detail: str) -> CheckResult:
    return CheckResult(name=name, status=Status.SKIP, detail=detail)


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


# -- Redis ---------------------------------------------------------------------------------------------------
def _redis_display(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


async def check_redis(url: str, timeout_s: float) -> CheckResult:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client = aioredis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        await client.ping()
        info = await client.info("server")
    except (RedisError, OSError) as exc:
        return fail("redis", f"{_redis_display(url)} unreachable: {_one_line(exc)}")
    finally:
        await client.aclose()
    return ok("redis", f"{_redis_display(url)} answers (Redis {info.get('redis_version', '?')})")


# -- PostgreSQL and migrations -------------------------------------------------------------------------------
async def check_postgresql(url: str, display: str, timeout_s: float) -> CheckResult:
    try:
        conn = await connect(url, timeout_s=timeout_s)
    except CompassError as exc:
        return fail("postgresql", str(exc))
    try:
        version = await conn.fetchval("SHOW server_version")
        vector = await conn.fetchval(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
        )
    except (asyncpg.PostgresError, OSError) as exc:
        return fail("postgresql", f"{display} answers but refuses a query: {_one_line(exc)}")
    finally:
        await conn.close()
    if vector is None:
        return fail("postgresql", f"{display} (PostgreSQL {version}) has no pgvector extension available")
    return ok("postgresql", f"{display} answers (PostgreSQL {version}, pgvector {vector} available)")


async def check_migrations(url: str, migrations_dir: Path, timeout_s: float) -> CheckResult:
    try:
        conn = await connect(url, timeout_s=timeout_s)
    except CompassError as exc:
        return fail("migrations", str(exc))
    try:
        version = await check_schema(conn, migrations_dir)
    except CompassError as exc:
        return fail("migrations", str(exc))
    except (asyncpg.PostgresError, OSError) as exc:
        return fail("migrations", f"cannot read schema_migrations: {_one_line(exc)}")
    finally:
        await conn.close()
    return ok("migrations", f"schema at version {version}, nothing pending ({migrations_dir})")


# -- MCP servers ---------------------------------------------------------------------------------------------
async def check_mcp_servers(
    config_path: str | None, env: Mapping[str, str], timeout_s: float, log_dir: Path | None = None
) -> list[CheckResult]:
    """Start every configured server, list its tools, and check that the read-only allowlist covers them."""
    try:
        config = load_mcp_config(config_path, env)
    except CompassError as exc:
        return [fail("mcp", str(exc))]
    if not config.servers:
        return [fail("mcp", f"{config.source}: no MCP server is configured (or all are disabled)")]
    results: list[CheckResult] = []
    async with open_toolsets(config, start_timeout_s=timeout_s, log_dir=log_dir) as pool:
        tools = await pool.list_tools()
        for name in config.names:
            label = f"mcp {name}"
            if name in pool.unavailable:
                results.append(fail(label, pool.unavailable[name]))
                continue
            names = sorted(t.name for t in tools if t.server == name)
            allowed = [n for n in names if is_allowed(n, DEFAULT_READ_ONLY_TOOLS)]
            if not allowed:
                shown = ", ".join(names[:5]) + ("…" if len(names) > 5 else "")
                results.append(
                    fail(label, f"none of its {len(names)} tools is on the read-only allowlist ({shown})")
                )
                continue
            detail = f"{len(names)} tools listed, {len(allowed)} on the read-only allowlist (others hidden)"
            results.append(ok(label, detail))
    return results


# -- Slack ---------------------------------------------------------------------------------------------------
def manifest_scopes(path: Path) -> frozenset[str]:
    """The bot scopes the Slack app manifest asks for (oauth_config.scopes.bot)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    scopes = doc.get("oauth_config", {}).get("scopes", {}).get("bot", []) if isinstance(doc, dict) else []
    if not isinstance(scopes, list) or not scopes:
        raise ValueError(f"{path}: no oauth_config.scopes.bot list")
    return frozenset(str(s) for s in scopes)


async def check_slack(service: ServiceSettings, manifest: Path, timeout_s: float) -> CheckResult:
    from slack_sdk.errors import SlackApiError, SlackClientError
    from slack_sdk.web.async_client import AsyncWebClient

    try:
        wanted = manifest_scopes(manifest)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return fail("slack", f"cannot read the app manifest ({_one_line(exc)}); set {MANIFEST_ENV}")
    token = service.slack_bot_token.get_secret_value()
    client = AsyncWebClient(token=token, base_url=service.slack_api_url, timeout=max(1, int(timeout_s)))
    try:
        reply = await client.auth_test()
    except SlackApiError as exc:
        return fail("slack", f"auth.test refused the bot token: {exc.response.get('error', 'unknown error')}")
    except (SlackClientError, OSError, TimeoutError) as exc:
        return fail("slack", f"{service.slack_api_url} unreachable: {_one_line(exc)}")
    header = next((v for k, v in reply.headers.items() if k.lower() == "x-oauth-scopes"), "")
    granted = frozenset(s.strip() for s in str(header).split(",") if s.strip())
    who = f"{reply.get('user', '?')} in team {reply.get('team_id', '?')}"
    missing = sorted(wanted - granted)
    if missing:
        return fail(
            "slack",
            f"auth.test ok as {who}, but the token lacks {', '.join(missing)} "
            f"(asked for by {manifest.name}): reinstall the app from the manifest",
        )
    return ok("slack", f"auth.test ok as {who}; the token has all {len(wanted)} scopes of {manifest.name}")


# -- LLM -----------------------------------------------------------------------------------------------------
_PING_TOOL = {
    "type": "object",
    "properties": {"ok": {"type": "boolean", "description": "true"}},
    "required": ["ok"],
}


async def check_llm(settings: LlmSettings, timeout_s: float) -> list[CheckResult]:
    """One short tool call to each distinct configured model."""
    from compass_worker.reasoners.factory import build_model
    from compass_worker.reasoners.llm import AnswerTool, ChatMessage, LlmRequest

    specs: dict[str, ModelSpec] = {}
    for phase in PHASES:
        spec = settings.phase_spec(phase)
        if spec is not None:
            specs.setdefault(str(spec), spec)
    if not specs:
        return [skip("llm", "not configured (COMPASS_LLM=none: the built-in evidence engine investigates)")]
    request = LlmRequest(
        system="You are a connectivity check. Answer by calling the tool.",
        messages=(ChatMessage(role="user", content="Call the `health` tool with ok=true."),),
        tool=AnswerTool(name="health", description="Report that you can answer.", parameters=_PING_TOOL),
        max_output_tokens=64,
        phase="doctor",
    )
    results: list[CheckResult] = []
    for label, spec in specs.items():
        try:
            model = build_model(spec, settings)
        except CompassError as exc:
            results.append(fail(f"llm {label}", str(exc)))
            continue
        try:
            reply = await asyncio.wait_for(model.complete(request), timeout_s)
        except TimeoutError:
            results.append(fail(f"llm {label}", f"no answer within {timeout_s:g}s"))
        except CompassError as exc:
            results.append(fail(f"llm {label}", _one_line(exc)))
        else:
            how = f"called {reply.tool_name}" if reply.tool_name else "answered in text"
            results.append(ok(f"llm {label}", f"answers ({how}, {reply.usage.input_tokens} tokens in)"))
        finally:
            await model.aclose()
    return results


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
        await _database_checks(loaded.knowledge, add)

    if loaded.engine is None:
        add(skip("mcp", unparsed))
    else:
        add(*await check_mcp_servers(loaded.engine.mcp_config, env, timeout_s, loaded.engine.mcp_log_dir))

    if loaded.service is not None:
        manifest = Path(env.get(MANIFEST_ENV) or DEFAULT_MANIFEST)
        add(await check_slack(loaded.service, manifest, timeout_s))
    else:
        add(skip("slack", unparsed if loaded.slack_configured else "SLACK_BOT_TOKEN is not set"))

    if loaded.llm is None:
        add(skip("llm", unparsed))
    else:
        add(*await check_llm(loaded.llm, timeout_s))
    return results


async def _database_checks(settings: KnowledgeSettings, add: Callable[..., None]) -> None:
    try:
        async with open_target(settings) as target:
            reachable = await check_postgresql(target.url, target.display, settings.connect_timeout_s)
            add(reachable)
            if reachable.status is Status.FAIL:
                add(skip("migrations", "skipped: no database to check"))
                return
            add(await check_migrations(target.url, settings.migrations_dir, settings.connect_timeout_s))
    except CompassError as exc:  # the embedded server could not start
        add(fail("postgresql", str(exc)), skip("migrations", "skipped: no database"))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


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

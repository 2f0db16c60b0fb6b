"""Health checks of a COMPASS deployment, one small function each, returning one `CheckResult`: Redis,
PostgreSQL + pgvector, migrations, MCP servers (tools listed, read-only allowlist), Slack (auth.test and the
manifest's scopes), LLM providers (one short tool call), and the job queue (depth, workers).

`compass doctor` (compass_cli/doctor.py) runs them from the process environment and prints one line each; the
dashboard's Health page (compass_bot/ui) runs the same functions. A check never raises for a broken target:
the failure is the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import yaml
from pydantic import BaseModel, ConfigDict

from compass_worker.errors import CompassError
from compass_worker.knowledge.database import connect, open_target
from compass_worker.knowledge.migrations import check_schema
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.reasoners.settings import PHASES, LlmSettings, ModelSpec
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
        return fail("redis", f"{_redis_display(url)} unreachable: {one_line(exc)}")
    finally:
        await client.aclose()
    return ok("redis", f"{_redis_display(url)} answers (Redis {info.get('redis_version', '?')})")


async def check_queue(url: str, timeout_s: float) -> CheckResult:
    """The ARQ job queue: jobs waiting, jobs running, and the workers' latest health-check line."""
    import redis.asyncio as aioredis
    from arq.constants import default_queue_name, health_check_key_suffix, in_progress_key_prefix
    from redis.exceptions import RedisError

    client = aioredis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        queued = int(await client.zcard(default_queue_name))
        running = 0
        async for _ in client.scan_iter(match=in_progress_key_prefix + "*", count=500):
            running += 1
        beat = await client.get(default_queue_name + health_check_key_suffix)
    except (RedisError, OSError) as exc:
        return fail("queue", f"{_redis_display(url)} unreachable: {one_line(exc)}")
    finally:
        await client.aclose()
    workers = beat.decode() if isinstance(beat, bytes) else "no worker has reported (none running?)"
    detail = f"{queued} queued, {running} running; workers: {workers}"
    # No worker heartbeat with jobs waiting means nobody will pick them up.
    return fail("queue", detail) if beat is None and queued else ok("queue", detail)


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
        return fail("postgresql", f"{display} answers but refuses a query: {one_line(exc)}")
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
        return fail("migrations", f"cannot read schema_migrations: {one_line(exc)}")
    finally:
        await conn.close()
    return ok("migrations", f"schema at version {version}, nothing pending ({migrations_dir})")


async def check_database(settings: KnowledgeSettings) -> list[CheckResult]:
    """PostgreSQL, then the migrations (skipped when there is no database to check)."""
    try:
        async with open_target(settings) as target:
            reachable = await check_postgresql(target.url, target.display, settings.connect_timeout_s)
            if reachable.status is Status.FAIL:
                return [reachable, skip("migrations", "skipped: no database to check")]
            return [
                reachable,
                await check_migrations(target.url, settings.migrations_dir, settings.connect_timeout_s),
            ]
    except CompassError as exc:  # the embedded server could not start
        return [fail("postgresql", str(exc)), skip("migrations", "skipped: no database")]


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


async def check_slack(token: str, api_url: str, manifest: Path, timeout_s: float) -> CheckResult:
    from slack_sdk.errors import SlackApiError, SlackClientError
    from slack_sdk.web.async_client import AsyncWebClient

    try:
        wanted = manifest_scopes(manifest)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return fail("slack", f"cannot read the app manifest ({one_line(exc)}); set {MANIFEST_ENV}")
    client = AsyncWebClient(token=token, base_url=api_url, timeout=max(1, int(timeout_s)))
    try:
        reply = await client.auth_test()
    except SlackApiError as exc:
        return fail("slack", f"auth.test refused the bot token: {exc.response.get('error', 'unknown error')}")
    except (SlackClientError, OSError, TimeoutError) as exc:
        return fail("slack", f"{api_url} unreachable: {one_line(exc)}")
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
            results.append(fail(f"llm {label}", one_line(exc)))
        else:
            how = f"called {reply.tool_name}" if reply.tool_name else "answered in text"
            results.append(ok(f"llm {label}", f"answers ({how}, {reply.usage.input_tokens} tokens in)"))
        finally:
            await model.aclose()
    return results


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__

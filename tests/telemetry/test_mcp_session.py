"""The session pool over real MCP servers (tests/telemetry/fixtures/toy_server.py) via stdio and HTTP."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from telemetry_testkit import TOY_SERVER, http_process, toy_stdio

from compass_testing import free_port
from compass_worker.telemetry.allowlist import AllowlistToolset, ToolNotAllowed
from compass_worker.telemetry.config import McpConfig, parse_mcp_config
from compass_worker.telemetry.session import McpToolset, open_toolsets
from compass_worker.telemetry.toolset import JsonValue, ToolOutcome


def _config(servers: Mapping[str, object]) -> McpConfig:
    return parse_mcp_config(json.dumps({"mcpServers": servers}), {})


@pytest.fixture(params=["stdio", "http"])
def toy(request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    """The toy server's config entry, over each transport (a fresh server per test)."""
    if request.param == "stdio":
        yield toy_stdio()
        return
    port = free_port()
    with http_process([sys.executable, str(TOY_SERVER), "--http", str(port)], port) as url:
        yield {"url": url}


Seen = list[tuple[ToolOutcome, dict[str, JsonValue]]]


@asynccontextmanager
async def audited(toy: dict[str, object]) -> AsyncIterator[tuple[McpToolset, Seen]]:
    """The pool must be opened and closed in one task, so tests open it in their body (not a fixture)."""
    seen: Seen = []
    async with open_toolsets(
        _config({"toy": toy}),
        call_timeout_s=1.0,
        max_concurrency=2,
        on_call=lambda outcome, args: seen.append((outcome, dict(args))),
    ) as pool:
        yield pool, seen


async def test_calls_are_routed_counted_and_audited(toy: dict[str, object]) -> None:
    async with audited(toy) as (pool, seen):
        assert pool.unavailable == {}
        assert pool.servers == ("toy",)
        assert {t.name for t in await pool.list_tools()} >= {"echo", "slow", "fail", "die"}
        plain = await pool.call_tool("echo", {"text": "hello"})
        qualified = await pool.call_tool("toy/echo", {"text": "again"})
        unknown = await pool.call_tool("nope", {})
        assert (plain.ok, plain.text, plain.server, plain.tool) == (True, "hello", "toy", "echo")
        assert qualified.ok
        assert qualified.text == "again"
        assert not unknown.ok
        assert "no available server exposes tool 'nope'" in (unknown.error or "")
        assert pool.calls == 3
        assert [(o.tool, a) for o, a in seen] == [
            ("echo", {"text": "hello"}),
            ("echo", {"text": "again"}),
            ("nope", {}),
        ]


async def test_tool_error_is_an_outcome_with_its_message(toy: dict[str, object]) -> None:
    async with audited(toy) as (pool, _):
        outcome = await pool.call_tool("fail", {"message": "bad_data: parse error"})
        assert not outcome.ok
        assert "bad_data: parse error" in (outcome.error or "")
        assert pool.unavailable == {}


async def test_concurrency_is_bounded(toy: dict[str, object]) -> None:
    async with audited(toy) as (pool, _):
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(pool.call_tool, "slow", {"seconds": 0.2})
        peak = await pool.call_tool("peak", {})
        assert peak.text == "2"  # the server saw at most max_concurrency calls at once


async def test_timeout_gives_a_failed_outcome_and_the_server_stays(toy: dict[str, object]) -> None:
    async with audited(toy) as (pool, _):
        outcome = await pool.call_tool("slow", {"seconds": 20})
        assert not outcome.ok
        assert outcome.error == "timeout after 1s"
        assert outcome.duration_s < 5
        assert (await pool.call_tool("echo", {"text": "still here"})).ok


async def test_a_dying_server_becomes_unavailable_and_calls_fail_fast(toy: dict[str, object]) -> None:
    async with audited(toy) as (pool, _):
        died = await pool.call_tool("die", {})
        assert not died.ok
        assert "toy" in pool.unavailable
        after = await pool.call_tool("echo", {"text": "anyone?"})
        qualified = await pool.call_tool("toy/echo", {"text": "anyone?"})
        assert not after.ok
        assert not qualified.ok
        assert "server toy is unavailable" in (qualified.error or "")
        assert after.duration_s < 0.5
        assert qualified.duration_s < 0.5
        assert await pool.list_tools() == []


async def test_servers_that_fail_to_start_are_recorded_and_others_work(
    capfd: pytest.CaptureFixture[str],
) -> None:
    config = _config(
        {
            "broken": toy_stdio("--fail-start"),
            "missing": {"command": "compass-no-such-binary-xyz"},
            "refused": {"url": f"http://127.0.0.1:{free_port()}/mcp"},
            "toy": toy_stdio(),
        }
    )
    started = time.monotonic()
    async with open_toolsets(config, start_timeout_s=30.0) as pool:
        assert time.monotonic() - started < 15
        assert set(pool.unavailable) == {"broken", "missing", "refused"}
        assert "failed to start" in pool.unavailable["broken"]
        assert "cannot start: missing GRAFANA_URL" in pool.unavailable["broken"]  # the child's stderr, quoted
        assert pool.unavailable["missing"] == "failed to start: command not found: compass-no-such-binary-xyz"
        assert pool.unavailable["refused"].startswith("failed to start: ")
        assert (await pool.call_tool("echo", {"text": "ok"})).ok
        refused = await pool.call_tool("broken/echo", {"text": "x"})
        assert not refused.ok
        assert "server broken is unavailable" in (refused.error or "")
    assert "cannot start" not in capfd.readouterr().err  # child stderr never reaches the terminal


async def test_child_stderr_goes_to_the_log_dir(tmp_path: Path) -> None:
    async with open_toolsets(_config({"broken": toy_stdio("--fail-start")}), log_dir=tmp_path) as pool:
        assert "broken" in pool.unavailable
    assert "cannot start" in (tmp_path / "broken.log").read_text(encoding="utf-8")


async def test_allowlist_over_a_real_server_never_reaches_it(tmp_path: Path) -> None:
    marker = tmp_path / "written"
    async with open_toolsets(_config({"toy": toy_stdio()})) as pool:
        assert "update_dashboard" in {t.name for t in await pool.list_tools()}
        guarded = AllowlistToolset(pool, frozenset({"echo"}))
        for name in ("update_dashboard", "toy/update_dashboard", "UPDATE_DASHBOARD", " update_dashboard"):
            with pytest.raises(ToolNotAllowed):
                await guarded.call_tool(name, {"marker": str(marker)})
        assert [t.name for t in await guarded.list_tools()] == ["echo"]
        assert (await guarded.call_tool("toy/echo", {"text": "read"})).ok
        assert pool.calls == 1
    assert not marker.exists()


async def test_errors_raised_in_the_body_come_out_unwrapped() -> None:
    with pytest.raises(ToolNotAllowed):
        async with open_toolsets(_config({"toy": toy_stdio()})) as pool:
            await AllowlistToolset(pool, frozenset()).call_tool("echo", {})


async def test_a_server_that_never_answers_times_out_at_start() -> None:
    mute = {"command": sys.executable, "args": ["-c", "import time; time.sleep(30)"]}
    started = time.monotonic()
    async with open_toolsets(_config({"mute": mute}), start_timeout_s=1.0) as pool:
        assert pool.unavailable["mute"].startswith("did not start within 1s")
        outcome = await pool.call_tool("echo", {})
        assert not outcome.ok
    assert time.monotonic() - started < 10

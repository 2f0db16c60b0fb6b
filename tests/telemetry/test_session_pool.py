"""A worker's shared MCP sessions (telemetry/shared.py) over the toy MCP server via stdio: one server
process serves many leases, a dead one is replaced, and closing the pool ends it."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from telemetry_testkit import toy_stdio

from compass_worker.telemetry.config import McpConfig, parse_mcp_config
from compass_worker.telemetry.shared import PoolClosed, SessionPool


def _config() -> McpConfig:
    return parse_mcp_config(json.dumps({"mcpServers": {"toy": toy_stdio()}}), {})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is gone for our purpose.
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


async def _pid(pool: SessionPool) -> int:
    async with pool.lease() as toolset:
        outcome = await toolset.call_tool("toy/pid", {})
        assert outcome.ok, outcome.error
        return int(outcome.text)


async def test_one_server_process_serves_consecutive_and_concurrent_leases() -> None:
    pool = SessionPool(_config(), call_timeout_s=5)
    try:
        assert pool.stats.opened == 0  # nothing starts before the first investigation asks
        first = await _pid(pool)
        second = await _pid(pool)
        concurrent = await asyncio.gather(*(_pid(pool) for _ in range(4)))
        assert {first, second, *concurrent} == {first}
        assert pool.stats.opened == 1
        async with pool.lease() as a, pool.lease() as b:  # each lease counts its own calls
            await a.call_tool("echo", {"text": "x"})
            await a.call_tool("echo", {"text": "y"})
            await b.call_tool("echo", {"text": "z"})
            assert (a.calls, b.calls) == (2, 1)
            assert a.servers == ("toy",) and a.unavailable == {}
    finally:
        await pool.aclose()


async def test_a_dead_server_is_replaced_for_the_next_lease() -> None:
    pool = SessionPool(_config(), call_timeout_s=5)
    try:
        before = await _pid(pool)
        async with pool.lease() as toolset:
            died = await toolset.call_tool("die", {})
            assert not died.ok
        after = await _pid(pool)
        assert after != before and not _alive(before)
        assert pool.stats.opened == 2
    finally:
        await pool.aclose()


async def test_a_server_killed_between_investigations_is_replaced_before_the_first_call() -> None:
    pool = SessionPool(_config(), call_timeout_s=5)
    try:
        before = await _pid(pool)
        os.kill(before, signal.SIGKILL)
        async with pool.lease() as toolset:
            outcome = await toolset.call_tool("pid", {})  # no gap: the lease's ping found it gone
            assert outcome.ok and int(outcome.text) != before
            assert toolset.unavailable == {}
        assert (pool.stats.opened, pool.stats.reconnects) == (2, 0)
    finally:
        await pool.aclose()


async def test_a_lease_whose_server_dies_reconnects_a_bounded_number_of_times() -> None:
    pool = SessionPool(_config(), call_timeout_s=5, reconnects=1)
    try:
        async with pool.lease() as toolset:
            first = int((await toolset.call_tool("pid", {})).text)
            await toolset.call_tool("die", {})  # the server goes; the next call goes to a fresh one
            again = await toolset.call_tool("pid", {})
            assert again.ok and int(again.text) != first
            await toolset.call_tool("die", {})  # out of reconnects: the gap is reported, not hidden
            last = await toolset.call_tool("pid", {})
            assert not last.ok and "unavailable" in (last.error or "")
        assert pool.stats.reconnects == 1
    finally:
        await pool.aclose()


async def test_closing_the_pool_ends_every_server_and_refuses_new_leases() -> None:
    pool = SessionPool(_config(), call_timeout_s=5)
    pid = await _pid(pool)
    assert _alive(pid)
    await pool.aclose()
    assert not _alive(pid)
    assert pool.stats.closed == pool.stats.opened == 1
    with pytest.raises(PoolClosed):
        async with pool.lease():
            pass

"""MCP sessions kept open across investigations: one `SessionPool` per worker process.

    sessions = SessionPool(config, call_timeout_s=30)          # nothing starts yet
    async with sessions.lease(max_concurrency=8) as toolset:    # the first lease opens the sessions
        outcome = await toolset.call_tool("query_prometheus", {...})
    await sessions.aclose()                                     # at worker shutdown

Why: opening the sessions (spawning mcp-grafana, `initialize`, `tools/list`) for every investigation
costs a process start and a tool list each time; a worker runs many investigations against the same
servers. The CLI's single investigation still opens its own (`open_toolsets`).

Design notes:
- A *generation* is one `open_toolsets` (every configured server), owned by its own background task:
  anyio scopes must be left in the task that entered them, and leases come from many job tasks.
- Leases share the current generation; each lease is a `PooledToolset` with its own call count and
  its own in-flight limit (the per-investigation budget and concurrency stay what they were).
- A lease first pings the servers (a round trip, far cheaper than a start), so one that died while idle
  is replaced before the investigation's first call.
- A generation with a server down (failed to start, or died) is retired: the next lease, or a lease
  whose call found the server gone, opens a fresh one (one reopen for many concurrent callers). A lease
  reconnects at most `reconnects` times, so a server that keeps dying costs bounded work; a retired
  generation is closed once its last lease ends. A call that was in flight when its server died is not
  sent again (it may be what killed it): it is a gap, as before; a call refused because the server was
  already known dead is sent to the fresh sessions.
- `aclose()` stops every generation (the children exit with their sessions); later leases raise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from compass_worker.errors import CompassError
from compass_worker.telemetry.config import McpConfig
from compass_worker.telemetry.session import McpToolset, open_toolsets
from compass_worker.telemetry.toolset import JsonValue, ToolInfo, ToolOutcome

# The shared sessions take every lease's calls; each lease bounds its own (Settings.max_concurrency).
_SHARED_LIMIT = 1024


class PoolClosed(CompassError):
    """A lease was asked of a pool that was closed (the worker is shutting down)."""


@dataclass(eq=False)
class _Generation:
    """One set of open sessions and the task that owns them."""

    toolset: McpToolset
    stop: asyncio.Event
    owner: asyncio.Task[None]
    users: int = 0
    retired: bool = False

    @property
    def broken(self) -> bool:
        return bool(self.toolset.unavailable)


@dataclass
class PoolStats:
    """What the pool did (for tests and the worker's log)."""

    opened: int = 0
    """Generations opened (each starts every configured server once)."""
    closed: int = 0
    leases: int = 0
    reconnects: int = 0


class SessionPool:
    """A worker's MCP sessions: opened lazily, shared by concurrent leases, reopened after a failure."""

    def __init__(
        self,
        config: McpConfig,
        *,
        call_timeout_s: float = 30.0,
        start_timeout_s: float = 30.0,
        log_dir: Path | None = None,
        reconnects: int = 2,
    ) -> None:
        self._config = config
        self._call_timeout = call_timeout_s
        self._start_timeout = start_timeout_s
        self._log_dir = log_dir
        self._reconnects = reconnects
        self._current: _Generation | None = None
        self._alive: set[_Generation] = set()
        self._lock = asyncio.Lock()
        self._closed = False
        self.stats = PoolStats()

    @property
    def config(self) -> McpConfig:
        return self._config

    @asynccontextmanager
    async def lease(self, *, max_concurrency: int = 8) -> AsyncIterator[PooledToolset]:
        """The sessions for one investigation (opening them if none are up or the last ones broke)."""
        gen = await self._usable(None)
        view = PooledToolset(self, gen, max_concurrency, self._reconnects)
        self.stats.leases += 1
        try:
            yield view
        finally:
            await self._release(view._gen)

    async def aclose(self) -> None:
        """Stop every session (also those still leased: the worker is shutting down)."""
        async with self._lock:
            self._closed = True
            self._current = None
            gens = list(self._alive)
        for gen in gens:
            await self._stop(gen)

    async def _usable(self, seen: _Generation | None) -> _Generation:
        """A generation to use, taken (users + 1). `seen`: the caller found that one broken — replace it
        unless someone already did."""
        async with self._lock:
            if self._closed:
                raise PoolClosed("the MCP session pool is closed (the worker is shutting down)")
            gen = self._current
            if gen is not None and seen is None and not gen.broken:
                await gen.toolset.check(self._call_timeout)  # it may have died since the last lease
            if gen is None or gen is seen or (seen is None and gen.broken):
                if gen is not None:
                    gen.retired = True
                    if gen.users == 0:
                        self._schedule_stop(gen)
                gen = await self._open()
                self._current = gen
            gen.users += 1
            return gen

    async def _replace(self, broken: _Generation) -> _Generation:
        """A lease's server went away on `broken`: its fresh generation (taken), and `broken` let go."""
        gen = await self._usable(broken)
        self.stats.reconnects += 1
        await self._release(broken)
        return gen

    async def _release(self, gen: _Generation) -> None:
        gen.users -= 1
        if gen.retired and gen.users == 0:
            await self._stop(gen)

    async def _open(self) -> _Generation:
        ready: asyncio.Future[McpToolset] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        owner = asyncio.create_task(self._own(ready, stop), name="mcp-sessions")
        try:
            toolset = await asyncio.shield(ready)
        except BaseException:  # cancelled while starting (the job's timeout): the children go too
            owner.cancel()
            await asyncio.wait([owner])
            raise
        gen = _Generation(toolset, stop, owner)
        self._alive.add(gen)
        self.stats.opened += 1
        return gen

    async def _own(self, ready: asyncio.Future[McpToolset], stop: asyncio.Event) -> None:
        try:
            async with open_toolsets(
                self._config,
                call_timeout_s=self._call_timeout,
                max_concurrency=_SHARED_LIMIT,
                start_timeout_s=self._start_timeout,
                log_dir=self._log_dir,
            ) as toolset:
                ready.set_result(toolset)
                await stop.wait()
        except Exception as exc:  # open_toolsets records server failures; anything else is reported here
            if not ready.done():
                ready.set_exception(exc)
        finally:
            if not ready.done():  # cancelled before the sessions were up: nobody may wait forever
                ready.cancel()

    def _schedule_stop(self, gen: _Generation) -> None:
        gen.stop.set()
        gen.owner.add_done_callback(lambda _: self._forget(gen))

    async def _stop(self, gen: _Generation) -> None:
        gen.stop.set()
        with contextlib.suppress(Exception):
            await gen.owner
        self._forget(gen)

    def _forget(self, gen: _Generation) -> None:
        if gen in self._alive:
            self._alive.discard(gen)
            self.stats.closed += 1


class PooledToolset:
    """One investigation's view of the shared sessions: the toolset the runner and engine use."""

    def __init__(self, pool: SessionPool, gen: _Generation, max_concurrency: int, reconnects: int) -> None:
        self._pool = pool
        self._gen = gen
        self._reconnects_left = reconnects
        self._limit = asyncio.Semaphore(max_concurrency)
        self._switching = asyncio.Lock()
        self._calls = 0

    @property
    def calls(self) -> int:
        """Calls made through this lease (including refused ones)."""
        return self._calls

    @property
    def servers(self) -> tuple[str, ...]:
        return self._gen.toolset.servers

    @property
    def unavailable(self) -> Mapping[str, str]:
        return self._gen.toolset.unavailable

    async def list_tools(self) -> list[ToolInfo]:
        return await self._gen.toolset.list_tools()

    async def call_tool(self, name: str, arguments: Mapping[str, JsonValue]) -> ToolOutcome:
        self._calls += 1
        async with self._limit:
            gen = self._gen
            known_down = set(gen.toolset.unavailable)
            outcome = await gen.toolset.call_tool(name, arguments)
            down = gen.toolset.unavailable
            if outcome.ok or not down or (outcome.server and outcome.server not in down):
                return outcome
            # The server is gone: this lease's next calls go to fresh sessions. This call is sent again
            # only if it was refused without reaching the server: one in flight may be what killed it.
            fresh = await self._reconnect(gen)
            refused = outcome.server in known_down if outcome.server else bool(known_down)
            if fresh and refused:
                outcome = await self._gen.toolset.call_tool(name, arguments)
            return outcome

    async def _reconnect(self, broken: _Generation) -> bool:
        """On a fresh generation (one switch for all of this lease's calls that saw `broken` fail)."""
        async with self._switching:
            if self._gen is not broken:
                return True
            if self._reconnects_left <= 0:
                return False
            self._reconnects_left -= 1
            try:
                self._gen = await self._pool._replace(broken)
            except PoolClosed:  # the worker is shutting down: this call's failure stands
                return False
            return True

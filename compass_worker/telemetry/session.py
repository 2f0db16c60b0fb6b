"""A pool of live MCP sessions, one per configured server, kept open for a whole investigation.

    async with open_toolsets(config, call_timeout_s=30, max_concurrency=8) as pool:
        outcome = await pool.call_tool("query_prometheus", {...})

Design notes (why it looks like this):
- Each server is owned by one background task that enters *and* exits its transport and session
  contexts (anyio cancel scopes and task groups must be left in the task that entered them). The
  pool's task group lives in the caller's task, inside this context manager.
- A server that fails to start, or dies later, is recorded in ``pool.unavailable`` (name → reason);
  calls routed to it return ``ok=False`` at once and the investigation goes on.
- Tool routing: ``server/tool`` goes to that server; a bare ``tool`` goes to the first server, in
  config order, that listed it at start-up.
- Every call (refused, failed or not) is counted in ``pool.calls`` and reported to ``on_call``.
- A child's stderr goes to ``log_dir/<server>.log`` when given, else to a temporary file; its last
  line is quoted when the server fails, and it never reaches the user's terminal.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import anyio
import mcp.types as mcp_types
from mcp import ClientSession, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from compass_worker.telemetry.config import HttpServerSpec, McpConfig, StdioServerSpec, reveal
from compass_worker.telemetry.tool_text import describe_error, outcome_text, tool_info
from compass_worker.telemetry.toolset import QUALIFIER, JsonValue, ToolInfo, ToolOutcome, to_plain

OnCall = Callable[[ToolOutcome, Mapping[str, JsonValue]], None]

# Errors that mean the connection itself is gone (not a failed tool): the server is then unavailable.
_CONNECTION_LOST = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError)


@dataclass
class _Live:
    session: ClientSession
    tools: dict[str, ToolInfo]


class McpToolset:
    """The `Toolset` over every configured MCP server. Create it with `open_toolsets`."""

    def __init__(self, *, call_timeout_s: float, max_concurrency: int, on_call: OnCall | None) -> None:
        self._timeout = call_timeout_s
        self._limit = anyio.Semaphore(max_concurrency)
        self._on_call = on_call
        self._live: dict[str, _Live] = {}
        self._order: list[str] = []
        self.unavailable: dict[str, str] = {}
        self._calls = 0

    @property
    def calls(self) -> int:
        """How many calls were made through this pool (including refused ones)."""
        return self._calls

    @property
    def servers(self) -> tuple[str, ...]:
        """Servers that are up, in config order."""
        return tuple(n for n in self._order if n in self._live)

    async def list_tools(self) -> list[ToolInfo]:
        return [tool for name in self.servers for tool in self._live[name].tools.values()]

    async def call_tool(self, name: str, arguments: Mapping[str, JsonValue]) -> ToolOutcome:
        self._calls += 1
        started = time.monotonic()
        server, tool, refusal = self._route(name)
        if refusal is not None:
            outcome = ToolOutcome(server=server, tool=tool, ok=False, error=refusal)
        else:
            async with self._limit:
                started = time.monotonic()
                outcome = await self._call(server, tool, arguments)
        outcome = outcome.model_copy(update={"duration_s": round(time.monotonic() - started, 6)})
        if self._on_call is not None:
            self._on_call(outcome, arguments)
        return outcome

    def _route(self, name: str) -> tuple[str, str, str | None]:
        """(server, tool, refusal reason or None)."""
        prefix, sep, rest = name.partition(QUALIFIER)
        if sep and (prefix in self._live or prefix in self.unavailable):
            if prefix in self.unavailable:
                return prefix, rest, f"server {prefix} is unavailable: {self.unavailable[prefix]}"
            if rest not in self._live[prefix].tools:
                return prefix, rest, f"server {prefix} has no tool {rest!r}"
            return prefix, rest, None
        for server in self.servers:
            if name in self._live[server].tools:
                return server, name, None
        down = "; ".join(f"{s}: {r}" for s, r in self.unavailable.items())
        reason = f"no available server exposes tool {name!r}" + (f" (unavailable: {down})" if down else "")
        return "", name, reason

    async def _call(self, server: str, tool: str, arguments: Mapping[str, JsonValue]) -> ToolOutcome:
        live = self._live.get(server)
        if live is None:  # died while this call waited for a slot
            return ToolOutcome(server=server, tool=tool, ok=False, error=self._down(server))
        plain = {k: to_plain(v) for k, v in arguments.items()}
        result: mcp_types.CallToolResult | None = None
        error: str | None = None
        with anyio.move_on_after(self._timeout) as scope:
            try:
                result = await live.session.call_tool(tool, plain)
            except MCPError as exc:
                if exc.code == mcp_types.CONNECTION_CLOSED:
                    self._mark_down(server, f"connection lost: {exc.message}")
                    error = self._down(server)
                else:
                    error = f"MCP error {exc.code}: {exc.message}"
            except _CONNECTION_LOST as exc:
                self._mark_down(server, f"connection lost: {describe_error(exc)}")
                error = self._down(server)
            except Exception as exc:  # any other client-side failure is this call's, not the server's
                error = describe_error(exc)
        if scope.cancelled_caught:
            error = f"timeout after {self._timeout:g}s"
        if result is None:
            return ToolOutcome(server=server, tool=tool, ok=False, error=error or "no result")
        text = outcome_text(result)
        if result.is_error:
            return ToolOutcome(server=server, tool=tool, ok=False, text=text, error=text or "tool error")
        return ToolOutcome(server=server, tool=tool, ok=True, text=text)

    async def check(self, timeout_s: float) -> None:
        """Ping every live server: one that died while idle is marked unavailable now, rather than by the
        first call of the next investigation (used when sessions outlive an investigation)."""
        for server in self.servers:
            live = self._live.get(server)
            if live is None:
                continue
            try:
                with anyio.fail_after(timeout_s):
                    await live.session.send_ping()
            except MCPError as exc:
                if exc.code == mcp_types.CONNECTION_CLOSED:
                    self._mark_down(server, f"connection lost: {exc.message}")
            except TimeoutError:
                self._mark_down(server, f"no answer to a ping within {timeout_s:g}s")
            except _CONNECTION_LOST as exc:
                self._mark_down(server, f"connection lost: {describe_error(exc)}")

    def _mark_down(self, server: str, reason: str) -> None:
        self._live.pop(server, None)
        self.unavailable.setdefault(server, reason)

    def _down(self, server: str) -> str:
        return f"server {server} is unavailable: {self.unavailable.get(server, 'unknown reason')}"


@asynccontextmanager
async def open_toolsets(
    config: McpConfig,
    *,
    call_timeout_s: float = 30.0,
    max_concurrency: int = 8,
    start_timeout_s: float = 30.0,
    on_call: OnCall | None = None,
    log_dir: Path | None = None,
) -> AsyncIterator[McpToolset]:
    """Start (or connect to) every configured server and keep the sessions open until exit."""
    pool = McpToolset(call_timeout_s=call_timeout_s, max_concurrency=max_concurrency, on_call=on_call)
    pool._order = list(config.names)
    stop = anyio.Event()
    body_error: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            ready = []
            for spec in config.servers:
                started = anyio.Event()
                ready.append(started)
                tg.start_soon(_ServerRunner(pool, spec, start_timeout_s, log_dir).run, started, stop)
            for started in ready:
                await started.wait()
            try:
                yield pool
            except BaseException as exc:
                body_error = exc
                raise
            finally:
                stop.set()
    except BaseExceptionGroup as group:
        # The task group wraps the caller's own exception; hand it back as raised.
        if body_error is not None and list(group.exceptions) == [body_error]:
            raise body_error from None
        raise


class _ServerRunner:
    """Owns one server's contexts for their whole life, in one task."""

    def __init__(
        self,
        pool: McpToolset,
        spec: StdioServerSpec | HttpServerSpec,
        start_timeout_s: float,
        log_dir: Path | None,
    ) -> None:
        self._pool, self._spec, self._start_timeout, self._log_dir = pool, spec, start_timeout_s, log_dir

    async def run(self, started: anyio.Event, stop: anyio.Event) -> None:
        name = self._spec.name
        errlog = self._open_errlog()
        up = False
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + self._start_timeout) as start_scope:
                async with AsyncExitStack() as stack:
                    session = await self._connect(stack, errlog)
                    await session.initialize()
                    tools = await _list_all_tools(session, name)
                    start_scope.deadline = math.inf  # started: from now on only `stop` ends it
                    self._pool._live[name] = _Live(session, {t.name: t for t in tools})
                    up = True
                    started.set()
                    await stop.wait()
            if start_scope.cancelled_caught and not up:
                self._fail(f"did not start within {self._start_timeout:g}s", errlog)
        except Exception as exc:  # a failing server must never take the investigation down
            self._fail(("died: " if up else "failed to start: ") + describe_error(exc), errlog)
        finally:
            started.set()
            errlog.close()

    async def _connect(self, stack: AsyncExitStack, errlog: TextIO) -> ClientSession:
        spec = self._spec
        if isinstance(spec, StdioServerSpec):
            params = StdioServerParameters(
                command=spec.command, args=list(spec.args), env=reveal(spec.env), cwd=spec.cwd
            )
            read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
        else:
            client = await stack.enter_async_context(create_mcp_http_client(headers=reveal(spec.headers)))
            read, write = await stack.enter_async_context(
                streamable_http_client(spec.url, http_client=client)
            )
        return await stack.enter_async_context(ClientSession(read, write))

    def _open_errlog(self) -> TextIO:
        if self._log_dir is None:
            return tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._log_dir.mkdir(parents=True, exist_ok=True)
        return (self._log_dir / f"{self._spec.name}.log").open("a+", encoding="utf-8")

    def _fail(self, reason: str, errlog: TextIO) -> None:
        tail = _last_line(errlog)
        self._pool._mark_down(self._spec.name, reason + (f" (stderr: {tail})" if tail else ""))


async def _list_all_tools(session: ClientSession, server: str) -> list[ToolInfo]:
    tools: list[ToolInfo] = []
    cursor: str | None = None
    while True:
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(tool_info(server, t) for t in page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _last_line(errlog: TextIO) -> str:
    try:
        errlog.flush()
        errlog.seek(0)
        lines = [line.strip() for line in errlog.read()[-4000:].splitlines() if line.strip()]
    except (OSError, ValueError):
        return ""
    return lines[-1][:300] if lines else ""

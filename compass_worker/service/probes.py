"""The worker's HTTP probes (for Kubernetes and compose): `/livez` and `/readyz` on a port of its own.

`/livez` answers 200 as long as the worker's event loop runs (a wedged loop answers nothing, and the
orchestrator restarts the process). `/readyz` answers 200 when Redis and PostgreSQL both answer within
a second, else 503 naming what is down — the worker itself keeps running through an outage (it never
exits for one), so a probe is the way to see it. Both use their own short-lived connections, never the
worker's pools: a probe must not compete with jobs, nor report a pool the worker is about to rebuild.

A deliberately tiny HTTP/1.1 server on asyncio streams (GET only, one request per connection, bounded
reads): probes need nothing more, and the worker gains no web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis

from compass_worker.service.outage import DEPENDENCY_ERRORS

log = logging.getLogger("compass_worker.service")

CHECK_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 5.0
MAX_REQUEST_LINE = 2048
MAX_HEADERS = 100

Check = Callable[[], Awaitable[bool]]
# Down, or up but refusing us (authentication, a missing database): not ready either way.
POSTGRES_ERRORS: tuple[type[BaseException], ...] = (*DEPENDENCY_ERRORS, asyncpg.PostgresError)


def redis_check(url: str) -> Check:
    async def check() -> bool:
        client = Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S)
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                return bool(await client.ping())
        except DEPENDENCY_ERRORS:
            return False
        finally:
            with contextlib.suppress(*DEPENDENCY_ERRORS):
                await client.aclose()

    return check


def postgres_check(dsn: str) -> Check:
    async def check() -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                conn = await asyncpg.connect(dsn)
                try:
                    return bool(await conn.fetchval("SELECT 1"))
                finally:
                    await conn.close()
        except POSTGRES_ERRORS:
            return False

    return check


def event_check(event: asyncio.Event) -> Check:
    async def check() -> bool:
        return event.is_set()

    return check


@dataclass(frozen=True)
class Probes:
    """What `/readyz` checks: what it says when the check fails → the check (e.g. "redis unreachable" →
    PING)."""

    checks: dict[str, Check]

    async def ready(self) -> tuple[int, dict[str, str]]:
        names = list(self.checks)
        results = await asyncio.gather(*(self.checks[n]() for n in names))
        down = [n for n, ok in zip(names, results, strict=True) if not ok]
        if down:
            return 503, {"status": ", ".join(down)}
        return 200, {"status": "ready"}


class ProbeServer:
    def __init__(self, probes: Probes, host: str, port: int) -> None:
        self._probes = probes
        self._host, self._port = host, port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the OS chose for port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                line = await reader.readuntil(b"\n")
                for _ in range(MAX_HEADERS):  # headers: read and ignored
                    if not (await reader.readuntil(b"\n")).strip():
                        break
                else:
                    raise ValueError("too many headers")
            status, body = await self._answer(line)
        except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            status, body = 400, {"status": "bad request"}
        except ConnectionError:
            writer.close()
            return
        await _respond(writer, status, body)

    async def _answer(self, line: bytes) -> tuple[int, dict[str, str]]:
        parts = line[:MAX_REQUEST_LINE].decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return 400, {"status": "bad request"}
        method, path = parts[0], parts[1].split("?", 1)[0]
        if path not in ("/livez", "/readyz"):
            return 404, {"status": "not found"}
        if method != "GET":
            return 405, {"status": "method not allowed"}
        if path == "/livez":
            return 200, {"status": "alive"}
        return await self._probes.ready()


REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


async def _respond(writer: asyncio.StreamWriter, status: int, body: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(ConnectionError):
        writer.write(head.encode() + payload)
        await writer.drain()
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()

"""The worker's HTTP probes: /livez answers while the worker runs (even through an outage), /readyz answers
200 when the real Redis and PostgreSQL answer and 503 naming what is down; junk gets a 4xx, never a hang."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from reliability_kit import eventually, worker_config

from compass_testing import FakeSlack, RedisProcess, RedisServer, free_port
from compass_worker.errors import ConfigError
from compass_worker.service.probes import Probes, ProbeServer, postgres_check, redis_check
from compass_worker.service.worker import serve_forever, start_probes


@contextlib.asynccontextmanager
async def _server(probes: Probes) -> AsyncIterator[httpx.AsyncClient]:
    server = ProbeServer(probes, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as http:
            yield http
    finally:
        await server.close()


async def test_ready_when_the_real_redis_and_postgresql_answer(
    redis_server: RedisServer, db_url: str
) -> None:
    checks = {
        "redis unreachable": redis_check(redis_server.url),
        "postgresql unreachable": postgres_check(db_url),
    }
    async with _server(Probes(checks)) as http:
        live, ready = await http.get("/livez"), await http.get("/readyz")
    assert (live.status_code, live.json()) == (200, {"status": "alive"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_not_ready_while_redis_is_down_and_ready_again_after(
    own_redis: RedisProcess, db_url: str
) -> None:
    checks = {
        "redis unreachable": redis_check(own_redis.url),
        "postgresql unreachable": postgres_check(db_url),
    }
    async with _server(Probes(checks)) as http:
        await asyncio.to_thread(own_redis.stop)
        down = await http.get("/readyz")
        assert (down.status_code, down.json()) == (503, {"status": "redis unreachable"})
        assert (await http.get("/livez")).status_code == 200
        await asyncio.to_thread(own_redis.start)
        assert (await http.get("/readyz")).status_code == 200


async def test_not_ready_names_postgresql_when_it_is_unreachable(redis_server: RedisServer) -> None:
    closed = f"postgresql://compass@127.0.0.1:{free_port()}/compass"
    checks = {
        "redis unreachable": redis_check(redis_server.url),
        "postgresql unreachable": postgres_check(closed),
    }
    async with _server(Probes(checks)) as http:
        resp = await http.get("/readyz")
    assert (resp.status_code, resp.json()) == (503, {"status": "postgresql unreachable"})


async def test_junk_gets_a_4xx(redis_server: RedisServer) -> None:
    async with _server(Probes({"redis unreachable": redis_check(redis_server.url)})) as http:
        assert (await http.get("/elsewhere")).status_code == 404
        assert (await http.post("/readyz", content=b"x")).status_code == 405
        port = int(str(http.base_url.port))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"NOT HTTP\r\n\r\n")
        await writer.drain()
        reply = await reader.read()
        writer.close()
    assert reply.startswith(b"HTTP/1.1 400 ")


@pytest.mark.slow
async def test_compass_worker_is_live_but_not_ready_while_redis_is_down(
    own_redis: RedisProcess, slack: FakeSlack, db_url: str
) -> None:
    port = free_port()
    config = worker_config(own_redis.url, slack.base_url, db_url, health_port=port)
    await asyncio.to_thread(own_redis.stop)  # the worker cannot start: it rides the outage out
    running = asyncio.create_task(serve_forever(config))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

            async def answers() -> bool:
                with contextlib.suppress(httpx.ConnectError):
                    return (await http.get("/livez")).status_code == 200
                return False

            await eventually(answers, 20, "/livez")
            ready = await http.get("/readyz")
        # Not ready twice over: Redis is down, and so the worker has not started taking jobs.
        assert (ready.status_code, ready.json()) == (503, {"status": "redis unreachable, worker starting"})
        assert not running.done()
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await asyncio.to_thread(own_redis.start)


async def test_a_busy_health_port_is_one_config_error(redis_server: RedisServer, slack: FakeSlack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        config = worker_config(
            redis_server.url, slack.base_url, "postgresql://x@127.0.0.1/x", health_port=port
        )
        with pytest.raises(ConfigError, match="COMPASS_WORKER_HEALTH_PORT"):
            await start_probes(config)

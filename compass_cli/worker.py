"""`compass worker` — run the ARQ workers that investigate (settings from the environment).

Before starting, Redis is asked once: when it does not answer, one line names the setting and where it
points (exit 3), instead of the queue library's retries and warnings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

from compass_worker.errors import ExternalError

REDIS_PROBE_S = 3.0


def add_worker_commands(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("worker", help="run the investigation workers (ARQ on Redis) behind `compass bot`")
    p.set_defaults(func=run_worker)


def _where(url: str) -> str:
    """The URL without its password: safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or parts.path
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path if parts.hostname else ''}"


async def _probe_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=REDIS_PROBE_S, socket_timeout=REDIS_PROBE_S)
    try:
        await asyncio.wait_for(client.ping(), REDIS_PROBE_S + 1)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExternalError(f"Redis does not answer at REDIS_URL={_where(url)} ({reason})") from None
    finally:
        await client.aclose()


async def _serve() -> None:
    from compass_worker.service.settings import load_worker_config
    from compass_worker.service.worker import build_worker, close_worker

    worker = build_worker(load_worker_config())
    try:
        with contextlib.suppress(asyncio.CancelledError):  # SIGINT/SIGTERM: ARQ cancels, jobs are re-queued
            await worker.async_run()
    finally:
        await close_worker(worker)


def run_worker(args: argparse.Namespace) -> int:
    from compass_worker.service.settings import load_worker_config

    config = load_worker_config()  # a bad setting fails here, in one line (exit 2), before anything starts
    asyncio.run(_probe_redis(config.service.redis_url))
    asyncio.run(_serve())
    return 0

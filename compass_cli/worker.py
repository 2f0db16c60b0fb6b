"""`compass worker` — run the ARQ workers that investigate (settings from the environment)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from compass_worker.service.settings import load_worker_config


def add_worker_commands(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("worker", help="run the investigation workers (ARQ on Redis) behind `compass bot`")
    p.set_defaults(func=run_worker)


async def _serve() -> None:
    from compass_worker.service.worker import build_worker, close_worker

    worker = build_worker(load_worker_config())
    try:
        with contextlib.suppress(asyncio.CancelledError):  # SIGINT/SIGTERM: ARQ cancels, jobs are re-queued
            await worker.async_run()
    finally:
        await close_worker(worker)


def run_worker(args: argparse.Namespace) -> int:
    load_worker_config()  # a bad setting fails here, in one line (exit 2), before anything starts
    asyncio.run(_serve())
    return 0

"""`compass worker` — run the ARQ workers that investigate (settings from the environment).

A bad setting stops it at once, in one line (exit 2). Redis or PostgreSQL down — at start or later — is
said once, in one line naming the setting and where it points, and then ridden out with back-off: the
worker never exits for an outage (issue 11), so investigations resume when the service returns.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any


def add_worker_commands(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("worker", help="run the investigation workers (ARQ on Redis) behind `compass bot`")
    p.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    from compass_worker.service.settings import load_worker_config
    from compass_worker.service.worker import serve_forever

    config = load_worker_config()  # a bad setting fails here, in one line (exit 2), before anything starts
    with contextlib.suppress(asyncio.CancelledError):  # SIGINT/SIGTERM: running jobs cancelled, re-queued
        asyncio.run(serve_forever(config))
    return 0

"""The worker's health probe (compose healthcheck, chart livenessProbe) run for real against Redis and a real
ARQ worker: it passes while a worker is alive and fails when none is. Workers serve no HTTP, so this probe
is all that tells Docker or Kubernetes that one hung or died.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from compass_testing import RedisServer
from compass_worker.service.worker import close_worker

ROOT = Path(__file__).resolve().parents[2]


def compose_probe() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    test: list[str] = compose["services"]["worker"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return test[1:]


def chart_probe() -> list[str]:
    with helm.Chart.load(str(ROOT / "helm" / "compass")) as chart:
        rendered = chart.render({}, name="compass", namespace="default", is_install=True)
    deployment = yaml.safe_load(rendered["compass/templates/worker-deployment.yaml"])
    command: list[str] = deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"][
        "command"
    ]
    return command


def probe(command: list[str], redis_url: str) -> int:
    # The image's PATH puts the virtualenv's python first; here that is the python running the tests.
    argv = [sys.executable if command[0] == "python" else command[0], *command[1:]]
    env = {**os.environ, "REDIS_URL": redis_url}
    return subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode


async def _noop(ctx: dict[str, Any]) -> None:
    return None


def test_compose_and_chart_use_the_same_probe() -> None:
    assert compose_probe() == chart_probe()


async def test_the_probe_follows_a_real_worker(redis: ArqRedis, redis_server: RedisServer) -> None:
    command = compose_probe()
    assert await asyncio.to_thread(probe, command, redis_server.url) == 1  # no worker yet

    worker = Worker(
        functions=[_noop],
        redis_settings=RedisSettings.from_dsn(redis_server.url),
        poll_delay=0.05,
        handle_signals=False,
        health_check_interval=30,
    )
    task = asyncio.create_task(worker.async_run())
    try:
        deadline = time.monotonic() + 15
        while not await redis.exists("arq:queue:health-check"):
            assert time.monotonic() < deadline, "the ARQ worker never recorded its health"
            await asyncio.sleep(0.05)
        assert await asyncio.to_thread(probe, command, redis_server.url) == 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await close_worker(worker)
    # A worker that stopped removes its key; one that hung lets it expire after 31 s.
    assert await asyncio.to_thread(probe, command, redis_server.url) == 1


def test_the_probe_fails_when_redis_is_unreachable() -> None:
    assert probe(compose_probe(), "redis://127.0.0.1:1/0") != 0

"""The worker's health probes as deployed: compose's healthcheck command, run for real against the worker's
probe server (real Redis and PostgreSQL), passes while both answer and fails while Redis is down; the
chart probes the same port and paths.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import helm_python as helm
import yaml

from compass_testing import FakeSlack, restartable_redis
from compass_worker.knowledge.settings import EmbedderKind, KnowledgeSettings
from compass_worker.service.settings import ServiceSettings, WorkerConfig
from compass_worker.service.worker import start_probes
from compass_worker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose_worker() -> dict[str, object]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    worker: dict[str, object] = compose["services"]["worker"]
    return worker


def compose_probe(port: int) -> list[str]:
    test = compose_worker()["healthcheck"]["test"]  # type: ignore[index]
    assert test[0] == "CMD"
    configured = compose_worker()["environment"]["COMPASS_WORKER_HEALTH_PORT"]  # type: ignore[index]
    return [str(part).replace(f":{configured}/", f":{port}/") for part in test[1:]]


def chart_worker() -> dict[str, object]:
    with helm.Chart.load(str(ROOT / "helm" / "compass")) as chart:
        rendered = chart.render({}, name="compass", namespace="default", is_install=True)
    deployment = yaml.safe_load(rendered["compass/templates/worker-deployment.yaml"])
    container: dict[str, object] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def probe(command: list[str]) -> int:
    # The image's PATH puts the virtualenv's python first; here that is the python running the tests.
    argv = [sys.executable if command[0] == "python" else command[0], *command[1:]]
    return subprocess.run(argv, capture_output=True, timeout=30).returncode


def test_compose_and_chart_probe_the_same_port_and_readiness_path() -> None:
    container = chart_worker()
    env = {e["name"]: e.get("value") for e in container["env"]}  # type: ignore[attr-defined]
    compose_port = compose_worker()["environment"]["COMPASS_WORKER_HEALTH_PORT"]  # type: ignore[index]
    assert env["COMPASS_WORKER_HEALTH_PORT"] == compose_port
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"  # type: ignore[index]
    assert f":{compose_port}/readyz" in " ".join(compose_worker()["healthcheck"]["test"])  # type: ignore[index]


async def test_the_compose_healthcheck_follows_redis(slack: FakeSlack, db_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with restartable_redis() as redis:
        config = WorkerConfig(
            service=ServiceSettings.model_validate(
                {"slack_bot_token": "xoxb-t", "slack_api_url": slack.base_url, "redis_url": redis.url}
                | {"health_port": port}
            ),
            engine=Settings(),
            knowledge=KnowledgeSettings(
                database_url=db_url, embedder=EmbedderKind.HASHING, auto_migrate=False
            ),
        )
        server = await start_probes(config)
        assert server is not None
        try:
            command = compose_probe(port)
            assert await asyncio.to_thread(probe, command) == 0
            await asyncio.to_thread(redis.stop)
            assert await asyncio.to_thread(probe, command) != 0  # 503 while Redis is down
            await asyncio.to_thread(redis.start)
            assert await asyncio.to_thread(probe, command) == 0
        finally:
            await server.close()

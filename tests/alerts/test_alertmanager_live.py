"""Debian's real Alertmanager (0.25) delivers its webhooks to a real `compass bot` process: a firing alert
becomes an incident announced in Slack, its resolve is said in the incident's thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alerts_testkit import AM_TOKEN, CHANNEL, SIGNING_SECRET, SLACK_TOKEN, roots, worker_config
from arq.connections import ArqRedis

from compass_testing import FakeSlack, RedisServer
from compass_worker.knowledge import KnowledgeStore
from compass_worker.service.worker import build_worker, close_worker
from compass_worker.telemetry.config import parse_mcp_config

pytestmark = pytest.mark.slow
APT_TIMEOUT_S = 900
BINARY = "prometheus-alertmanager"


def ensure_alertmanager() -> str:
    """Debian's `prometheus-alertmanager`, installed with apt when missing (skip without apt-get)."""
    if found := shutil.which(BINARY):
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("prometheus-alertmanager missing and apt-get unavailable")
    install = ["apt-get", "install", "-y", "--no-install-recommends", BINARY]
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if subprocess.run(install, capture_output=True, env=env, timeout=APT_TIMEOUT_S).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=APT_TIMEOUT_S)
        subprocess.run(install, check=True, capture_output=True, env=env, timeout=APT_TIMEOUT_S)
    found = shutil.which(BINARY)
    assert found is not None
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Child:
    """A started server process whose output goes to a file, so a failure to come up says why."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc, self.log = proc, log

    def tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-25:])

    async def wait_http(self, url: str, within_s: float = 60) -> None:
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(int(within_s / 0.1)):
                if self.proc.returncode is not None:
                    raise AssertionError(
                        f"{url}: exited {self.proc.returncode} before serving:\n{self.tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(url)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{url} did not come up within {within_s:.0f} s:\n{self.tail()}")


@contextlib.asynccontextmanager
async def process(*argv: str, log: Path, env: dict[str, str] | None = None) -> AsyncIterator[Child]:
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        yield Child(proc, log)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it may exit between the check and the signal
                proc.terminate()
        await proc.wait()


async def test_alertmanager_delivers_firing_and_resolved_webhooks(
    tmp_path: Path,
    redis_server: RedisServer,
    redis: ArqRedis,
    slack: FakeSlack,
    db_url: str,
    store: KnowledgeStore,
) -> None:
    binary = ensure_alertmanager()
    bot_port, am_port = free_port(), free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""route:
  receiver: compass
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: compass
    webhook_configs:
      - url: http://127.0.0.1:{bot_port}/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {AM_TOKEN}
"""
    )
    bot_env = {
        **os.environ,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COMPASS_SLACK_API_URL": slack.base_url,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": db_url,
        "COMPASS_ALERTMANAGER_TOKEN": AM_TOKEN,
    }
    bot = (sys.executable, "-m", "compass_cli.main", "bot", "--port", str(bot_port))
    am = (
        binary,
        f"--config.file={config}",
        f"--storage.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{am_port}",
        "--cluster.listen-address=",
    )
    # Announce, but do not investigate: this test is about delivery (the flow test covers the rest).
    cfg = worker_config(redis_server.url, slack.base_url, db_url, investigate=False)
    mcp = parse_mcp_config('{"mcpServers": {"none": {"url": "http://127.0.0.1:9/mcp"}}}', {}, source="test")
    worker = build_worker(cfg, mcp=mcp, handle_signals=False)
    running = asyncio.create_task(worker.async_run())
    try:
        async with (
            process(*bot, env=bot_env, log=tmp_path / "bot.log") as bot_proc,
            process(*am, log=tmp_path / "alertmanager.log") as am_proc,
        ):
            await bot_proc.wait_http(f"http://127.0.0.1:{bot_port}/healthz")
            await am_proc.wait_http(f"http://127.0.0.1:{am_port}/-/ready")
            now = datetime.now(UTC)
            alert = {
                "labels": {
                    "alertname": "CheckoutHighErrorRate",
                    "service": "checkout",
                    "severity": "critical",
                },
                "annotations": {"summary": "High 5xx ratio on checkout"},
                "startsAt": now.isoformat(),
                "generatorURL": "http://prometheus.example/graph",
            }
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{am_port}", timeout=5) as am_api:
                assert (await am_api.post("/api/v2/alerts", json=[alert])).status_code == 200
                await slack.wait_for(lambda: len(roots(slack)) == 1, 30, "the incident announced")
                row = await store.pool.fetchrow("SELECT * FROM alerts")
                assert row is not None and row["source"] == "alertmanager" and row["status"] == "firing"
                assert row["group_key"] == '{}:{alertname="CheckoutHighErrorRate", service="checkout"}'
                [root] = roots(slack)
                assert "High 5xx ratio on checkout" in root.text and "*CRITICAL* · errors" in root.text

                alert["endsAt"] = (now + timedelta(seconds=1)).isoformat()
                assert (await am_api.post("/api/v2/alerts", json=[alert])).status_code == 200
                await slack.wait_for(
                    lambda: any(":white_check_mark:" in m.text for m in slack.thread(CHANNEL, root.ts)),
                    30,
                    "the resolve in the incident's thread",
                )
            assert (
                await store.pool.fetchval("SELECT count(*) FROM alerts") == 1
            )  # one alert, resolved in place
            assert await store.pool.fetchval("SELECT status FROM alert_incidents") == "resolved"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await close_worker(worker)

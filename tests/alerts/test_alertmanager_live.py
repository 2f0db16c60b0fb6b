"""Debian's real Alertmanager (0.25) delivers its webhooks to a real `compass bot` process: a firing alert
becomes an incident announced in Slack, its resolve is said in the incident's thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alerts_testkit import AM_TOKEN, CHANNEL, SIGNING_SECRET, SLACK_TOKEN, roots, worker_config
from arq.connections import ArqRedis

from compass_testing import FakeSlack, RedisServer, free_port
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


PORT_TRIES = 3


class NotServing(AssertionError):
    def __init__(self, message: str, port_taken: bool) -> None:
        super().__init__(message)
        self.port_taken = port_taken


async def _wait_http(proc: asyncio.subprocess.Process, url: str, log: Path, within_s: float) -> None:
    def tail() -> str:
        return "\n".join(log.read_text(errors="replace").splitlines()[-25:])

    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(int(within_s / 0.1)):
            if proc.returncode is not None:
                text = tail()
                message = f"{url}: exited {proc.returncode} before serving:\n{text}"
                raise NotServing(message, port_taken="address already in use" in text.lower())
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise NotServing(f"{url} did not come up within {within_s:.0f} s:\n{tail()}", port_taken=False)


@contextlib.asynccontextmanager
async def serving(
    argv_for: Callable[[int], Sequence[str]],
    health_path: str,
    log: Path,
    env: dict[str, str] | None = None,
    within_s: float = 60,
) -> AsyncIterator[int]:
    """Start a server on a free port and yield the port once `health_path` answers 200; stop it after.

    A port picked free can be taken before the child binds it (an outgoing connection's source port),
    so that one failure is retried on another port; any other failure is reported with the child's output."""
    for attempt in range(1, PORT_TRIES + 1):
        port = free_port()
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                *argv_for(port), env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
            )
        try:
            try:
                await _wait_http(proc, f"http://127.0.0.1:{port}{health_path}", log, within_s)
            except NotServing as exc:
                if exc.port_taken and attempt < PORT_TRIES:
                    continue
                raise
            yield port
            return
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):  # it may exit between the check and the signal
                    proc.terminate()
            await proc.wait()
    raise AssertionError("unreachable")  # pragma: no cover - the last attempt raises or yields


async def test_alertmanager_delivers_firing_and_resolved_webhooks(
    tmp_path: Path,
    redis_server: RedisServer,
    redis: ArqRedis,
    slack: FakeSlack,
    db_url: str,
    store: KnowledgeStore,
) -> None:
    binary = ensure_alertmanager()

    def am_config(bot_port: int) -> str:
        return f"""route:
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

    bot_env = {
        **os.environ,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COMPASS_SLACK_API_URL": slack.base_url,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": db_url,
        "COMPASS_ALERTMANAGER_TOKEN": AM_TOKEN,
    }
    config = tmp_path / "alertmanager.yml"

    def bot(port: int) -> tuple[str, ...]:
        return (sys.executable, "-m", "compass_cli.main", "bot", "--port", str(port))

    def am(port: int) -> tuple[str, ...]:
        return (
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        )

    # Announce, but do not investigate: this test is about delivery (the flow test covers the rest).
    cfg = worker_config(redis_server.url, slack.base_url, db_url, investigate=False)
    mcp = parse_mcp_config('{"mcpServers": {"none": {"url": "http://127.0.0.1:9/mcp"}}}', {}, source="test")
    worker = build_worker(cfg, mcp=mcp, handle_signals=False)
    running = asyncio.create_task(worker.async_run())
    try:
        async with serving(bot, "/healthz", tmp_path / "bot.log", env=bot_env) as bot_port:
            config.write_text(am_config(bot_port))
            async with serving(am, "/-/ready", tmp_path / "alertmanager.log") as am_port:
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

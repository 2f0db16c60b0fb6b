"""The real bot app (dashboard included) on a loopback port, over a fresh migrated database, the test Redis
and the fake Slack; Debian's chromium driven by Playwright; one lab investigation recorded as the CLI does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from arq.connections import ArqRedis
from playwright.async_api import Browser, Page, async_playwright
from ui_testkit import ADMIN_TOKEN, READER_TOKEN, SHOWCASE, App

from compass_bot.app import create_app
from compass_bot.settings import load_bot_settings
from compass_lab.harness import investigate_scenario, lab_server
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisServer, chromium_for_tests, free_port
from compass_worker.domain import Incident, Verdict
from compass_worker.domain.events import NullSink
from compass_worker.settings import Settings


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with lab_server([SHOWCASE], SHOWCASE.id) as server:
        yield server


@pytest.fixture(scope="module")
async def investigated(lab: LabServer) -> tuple[Incident, Verdict]:
    result = await investigate_scenario(lab.url, SHOWCASE, Settings(), NullSink())
    assert result.verdict.confident and result.verdict.root_causes[0].evidence
    return result.verdict.incident, result.verdict


@pytest.fixture
def broken_mcp_config(tmp_path: Path) -> Path:
    """An MCP server that cannot start: the Health page must show it broken."""
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps({"mcpServers": {"grafana": {"command": str(tmp_path / "no-such-mcp-server")}}})
    )
    return path


@pytest.fixture
def app(
    db_url: str,
    redis_server: RedisServer,
    redis: ArqRedis,  # flushed: earlier tests' jobs must not show on the health page
    fake_slack_server: FakeSlack,
    broken_mcp_config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[App]:
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_server.url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "COMPASS_SLACK_API_URL": fake_slack_server.base_url,
        "COMPASS_UI_TOKENS": f"ada:admin:{ADMIN_TOKEN},rey:read:{READER_TOKEN}",
        "COMPASS_UI_SECRET": "a-test-secret-of-enough-length",
        "COMPASS_UI_POLL_S": "0.3",
        "COMPASS_UI_HEALTH_TIMEOUT_S": "5",
        "COMPASS_MCP_CONFIG": str(broken_mcp_config),
        "COMPASS_LLM": "none",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    port = free_port()
    config = uvicorn.Config(
        create_app(load_bot_settings()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the bot app did not start"
        time.sleep(0.02)
    try:
        yield App(url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium_for_tests(), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield await context.new_page()
    finally:
        await context.close()

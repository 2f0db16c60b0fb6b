"""Start-up settings fail in one line; the bot stays free of the engine; the contract matches the catalog."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compass_bot.settings import BotConfigError, BotSettings, load_bot_settings
from compass_cli.main import main
from compass_worker.contracts import ADDED_FAULT_IDS, FAULT_CATEGORIES, FAULT_IDS, SlackThread
from compass_worker.engine.faultcatalog import load_faults


def test_fault_ids_match_the_fault_catalog() -> None:
    # FAULTS.md's ids plus those the engine added (kept apart so that the lab's plan is unchanged)
    assert set(FAULT_IDS) | set(ADDED_FAULT_IDS) == set(load_faults().faults)
    assert set(FAULT_CATEGORIES) == set(load_faults().faults)


def test_thread_key_round_trips_and_rejects_garbage() -> None:
    thread = SlackThread(channel="C1", thread_ts="1700000000.000100")
    assert SlackThread.from_key(thread.investigation_key) == thread
    with pytest.raises(ValueError, match="not a Slack investigation key"):
        SlackThread.from_key("alert:123")


def test_the_bot_imports_no_engine() -> None:
    code = (
        "import sys, compass_bot.app, compass_cli.bot\n"
        "heavy = [m for m in ('mcp', 'numpy', 'asyncpg', 'compass_worker.engine', 'compass_worker.domain',"
        " 'compass_worker.knowledge') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    with pytest.raises(BotConfigError, match=r"^invalid setting SLACK_BOT_TOKEN: is not set$"):
        load_bot_settings()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("COMPASS_SLACK_API_URL", "ftp://slack")
    with pytest.raises(BotConfigError, match=r"^invalid setting COMPASS_SLACK_API_URL: must be an http"):
        load_bot_settings()
    monkeypatch.setenv("COMPASS_SLACK_API_URL", "http://127.0.0.1:9/api")
    assert load_bot_settings().slack_api_url == "http://127.0.0.1:9/api/"  # the SDK needs the slash
    assert isinstance(load_bot_settings(), BotSettings)


def test_cli_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "COMPASS_MCP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["bot"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLACK_BOT_TOKEN" in err
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    assert main(["bot", "--socket-mode"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "COMPASS_MCP_CONFIG" in err
    monkeypatch.setenv("COMPASS_JOB_TIMEOUT_S", "1")
    assert main(["worker"]) == 2
    assert "COMPASS_JOB_TIMEOUT_S" in capsys.readouterr().err


def test_the_manifest_asks_for_what_the_bot_uses() -> None:
    manifest = (Path(__file__).resolve().parents[2] / "slack-app-manifest.yaml").read_text()
    listed = {line.strip().split()[1] for line in manifest.splitlines() if line.strip().startswith("- ")}
    scopes = {
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "chat:write",
        "commands",
        "reactions:write",
    }
    assert scopes | {"app_mention", "message.channels", "message.groups"} <= listed
    assert "command: /compass" in manifest and manifest.count("/slack/events") == 3

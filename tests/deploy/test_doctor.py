"""`compass doctor` against real Redis, the embedded PostgreSQL + pgvector, the real mcp-grafana in front of
the lab, the fake Slack Web API (through slack_sdk) and the fake LLM vendor API (through the real SDK).

A healthy set-up passes every check; each broken set-up fails exactly its own check, in one line, and the
checks that depend on it say they were skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from compass_cli.doctor import CheckResult, Status, diagnose
from compass_testing import FakeSlack, RedisServer, free_port
from compass_testing.fake_llm import Answer, FakeLlmApi, HttpError

SLACK_TOKEN = "xoxb-test-token"  # what tests/conftest.py's fake Slack accepts
# Variables a developer's shell might hold that would change what the doctor sees.
_CLEARED = (
    "COMPASS_LLM",
    "COMPASS_LLM_ORIENT",
    "COMPASS_LLM_DECIDE",
    "COMPASS_LLM_SUMMARIZE",
    "COMPASS_SLACK_MANIFEST",
    "SLACK_SIGNING_SECRET",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
)


@dataclass
class Setup:
    """A healthy deployment's environment; a broken case changes one thing."""

    env: dict[str, str]
    slack: FakeSlack
    llm: FakeLlmApi
    toy_mcp_config: Path
    empty_db_url: str


@pytest.fixture
def setup(
    monkeypatch: pytest.MonkeyPatch,
    redis_server: RedisServer,
    db_url: str,
    empty_db_url: str,
    slack: FakeSlack,
    fake_llm: FakeLlmApi,
    grafana_mcp_config: Path,
    toy_mcp_config: Path,
    tmp_path: Path,
) -> Setup:
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    env = {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "COMPASS_SLACK_API_URL": slack.base_url,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": db_url,
        "COMPASS_MCP_CONFIG": str(grafana_mcp_config),
        "COMPASS_MCP_LOG_DIR": str(tmp_path / "mcp-logs"),
    }
    return Setup(env, slack, fake_llm, toy_mcp_config, empty_db_url)


async def run(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> dict[str, CheckResult]:
    # The settings classes read the process environment, as they do in `compass bot` / `compass worker`.
    for name, value in setup.env.items():
        monkeypatch.setenv(name, value)
    results = await diagnose(timeout_s=30.0)
    assert len({r.name for r in results}) == len(results)
    return {r.name: r for r in results}


async def test_a_healthy_setup_passes_every_check(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    results = await run(setup, monkeypatch)
    assert list(results) == [
        "settings",
        "redis",
        "postgresql",
        "migrations",
        "mcp grafana",
        "slack",
        "llm",
    ]
    assert [r.status for r in results.values()] == [Status.OK] * 6 + [Status.SKIP]
    assert "pgvector" in results["postgresql"].detail
    assert "nothing pending" in results["migrations"].detail
    # mcp-grafana 2.1.1 lists 79 tools; the allowlist admits its read/query tools and hides the rest.
    assert results["mcp grafana"].detail.startswith("79 tools listed, ")
    assert "all 6 scopes" in results["slack"].detail
    assert setup.slack.calls_to("auth.test")
    assert results["llm"].detail.startswith("not configured")
    assert all("\n" not in r.line for r in results.values())


async def test_a_configured_llm_that_answers(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    setup.env |= {
        "COMPASS_LLM": "openai:gpt-test",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": setup.llm.openai_url,
    }
    setup.llm.reset(Answer(arguments={"ok": True}))
    results = await run(setup, monkeypatch)
    assert results["llm openai:gpt-test"].status is Status.OK
    assert results["llm openai:gpt-test"].detail.startswith("answers (called health")
    (request,) = setup.llm.requests
    assert request.body["model"] == "gpt-test"


Broken = Callable[[Setup], None]


def _bad_setting(s: Setup) -> None:
    s.env["COMPASS_TOOL_TIMEOUT_S"] = "-1"


def _signing_secret_missing(s: Setup) -> None:
    del s.env["SLACK_SIGNING_SECRET"]


def _redis_down(s: Setup) -> None:
    s.env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"


def _postgres_down(s: Setup) -> None:
    s.env["DATABASE_URL"] = f"postgresql://compass:pw@127.0.0.1:{free_port()}/compass"
    s.env["COMPASS_CONNECT_TIMEOUT_S"] = "3"


def _schema_missing(s: Setup) -> None:
    s.env["DATABASE_URL"] = s.empty_db_url


def _mcp_does_not_start(s: Setup) -> None:
    config = json.loads(s.toy_mcp_config.read_text(encoding="utf-8"))
    config["mcpServers"]["toy"]["args"].append("--fail-start")
    s.toy_mcp_config.write_text(json.dumps(config), encoding="utf-8")
    s.env["COMPASS_MCP_CONFIG"] = str(s.toy_mcp_config)


def _mcp_not_on_allowlist(s: Setup) -> None:
    s.env["COMPASS_MCP_CONFIG"] = str(s.toy_mcp_config)


def _mcp_config_missing(s: Setup) -> None:
    s.env["COMPASS_MCP_CONFIG"] = "/nonexistent/mcp.json"


def _slack_token_revoked(s: Setup) -> None:
    s.env["SLACK_BOT_TOKEN"] = "xoxb-revoked"


def _slack_scope_missing(s: Setup) -> None:
    s.slack.scopes.remove("reactions:write")


def _llm_down(s: Setup) -> None:
    s.env |= {
        "COMPASS_LLM": "openai:gpt-test",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": s.llm.openai_url,
        "COMPASS_LLM_MAX_RETRIES": "0",
    }
    s.llm.reset(HttpError(500, "overloaded"))


def _llm_without_key(s: Setup) -> None:
    s.env["COMPASS_LLM"] = "anthropic:claude-test"


# (break it, the check that fails, what its line says, checks that are skipped because of it)
CASES: dict[str, tuple[Broken, str, str, tuple[str, ...]]] = {
    "bad setting": (_bad_setting, "settings", "COMPASS_TOOL_TIMEOUT_S", ("mcp",)),
    "signing secret missing": (_signing_secret_missing, "settings", "SLACK_SIGNING_SECRET: is not set", ()),
    "redis down": (_redis_down, "redis", "unreachable", ()),
    "postgresql down": (
        _postgres_down,
        "postgresql",
        "cannot connect to postgresql://127.0.0.1",
        ("migrations",),
    ),
    "schema missing": (_schema_missing, "migrations", "run `compass migrate`", ()),
    "mcp does not start": (_mcp_does_not_start, "mcp toy", "failed to start", ()),
    "mcp tools not allowlisted": (_mcp_not_on_allowlist, "mcp toy", "is on the read-only allowlist", ()),
    "mcp config missing": (_mcp_config_missing, "mcp", "file not found", ()),
    "slack token revoked": (_slack_token_revoked, "slack", "invalid_auth", ()),
    "slack scope missing": (_slack_scope_missing, "slack", "lacks reactions:write", ()),
    "llm down": (_llm_down, "llm openai:gpt-test", "", ()),
    "llm without key": (_llm_without_key, "llm anthropic:claude-test", "needs ANTHROPIC_API_KEY", ()),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_each_broken_setup_fails_its_own_check_in_one_line(
    case: str, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    breaks, check, says, skipped = CASES[case]
    breaks(setup)
    results = await run(setup, monkeypatch)
    failed = [r for r in results.values() if r.status is Status.FAIL]
    assert [r.name for r in failed] == [check], [r.line for r in results.values()]
    (line,) = failed
    assert says in line.detail
    assert "\n" not in line.line and "Traceback" not in line.line
    for name in skipped:
        assert results[name].status is Status.SKIP, results[name].line
    if case == "slack token revoked":
        assert SLACK_TOKEN not in line.line and "xoxb-revoked" not in line.line


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _CLEARED and k not in ("SLACK_BOT_TOKEN",)}
    return subprocess.run(
        [sys.executable, "-m", "compass_cli.main", "doctor", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # a fresh interpreter plus mcp-grafana: ~10 s on a busy 2-core machine
def test_the_command_exits_0_when_nothing_fails(
    db_url: str, grafana_mcp_config: Path, tmp_path: Path
) -> None:
    # No Slack configured (a laptop running `compass investigate`): Redis and Slack are skipped, not failed.
    env = {"DATABASE_URL": db_url, "COMPASS_MCP_CONFIG": str(grafana_mcp_config), "HOME": str(tmp_path)}
    proc = _cli(env)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line.split()[0] for line in lines] == ["ok", "skip", "ok", "ok", "ok", "skip", "skip"]
    assert proc.stderr == ""


@pytest.mark.slow
def test_the_command_exits_1_with_one_line_per_check_when_one_fails(
    empty_db_url: str, grafana_mcp_config: Path, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": empty_db_url, "COMPASS_MCP_CONFIG": str(grafana_mcp_config), "HOME": str(tmp_path)}
    proc = _cli(env)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 7
    assert [line for line in lines if line.startswith("fail")] == [
        "fail migrations: the database has no COMPASS schema: run `compass migrate`"
    ]
    assert proc.stderr == ""


def test_a_bad_option_is_one_line_and_exit_2() -> None:
    proc = _cli({}, "--timeout", "0")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "compass doctor: error: --timeout must be positive"

"""`compass investigate` misuse ends in one line on stderr and the documented exit code."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

COMPASS = [sys.executable, "-m", "compass_cli.main"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMPASS, *args], capture_output=True, text=True, timeout=60, env=env, check=False)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["investigate", "x", "--mcp-config", "/nonexistent/mcp.json"], "/nonexistent/mcp.json"),
        (["investigate", "x", "--at", "yesterday-ish", "--mcp-config", "/dev/null"], "invalid time"),
        (["investigate", "x", "--window", "ten minutes", "--mcp-config", "/dev/null"], "invalid duration"),
        (["investigate", "x", "--bogus"], "unrecognized arguments"),
        (["investigate"], "symptom"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], needle: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2, proc.stderr
    assert needle in one_line_error(proc)


def test_invalid_json_config_names_the_position(tmp_path: Path) -> None:
    cfg = tmp_path / "mcp.json"
    cfg.write_text('{"mcpServers": {"g": {"command": "x",}}}')
    proc = run("investigate", "checkout errors", "--mcp-config", str(cfg))
    assert proc.returncode == 2
    assert "mcp.json" in one_line_error(proc)


def test_no_config_at_all_says_how_to_configure(tmp_path: Path) -> None:
    proc = run("investigate", "checkout errors", env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert "COMPASS_MCP_CONFIG" in one_line_error(proc)


def test_unreachable_servers_exit_3_with_reasons(tmp_path: Path) -> None:
    cfg = tmp_path / "mcp.json"
    cfg.write_text(json.dumps({"mcpServers": {"grafana": {"command": str(tmp_path / "no-such-binary")}}}))
    proc = run("investigate", "checkout errors", "--mcp-config", str(cfg), "--json", "--no-memory")
    assert proc.returncode == 3, proc.stderr
    line = one_line_error(proc)
    assert "no MCP server reachable" in line and "grafana" in line
    assert proc.stdout == ""

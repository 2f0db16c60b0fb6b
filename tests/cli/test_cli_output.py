"""What a person reads: a lab incident investigated by the real `compass` (subprocess, real mcp-grafana) in
each output format, from a symptom, from stdin and from an Alertmanager body; and telemetry that is down."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import clean_env, compass, in_terminal

from compass_lab.harness import lab_server
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer, mcp_config

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # real mcp-grafana runs, on a shared machine
SHOWCASE = get_scenario(DEFAULT_SCENARIO_ID)
AT = str(int(SHOWCASE.at))
ANSI = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-7]|9[0-7]|38;[25])[;m]")  # a foreground colour code
REFERENCE = Path("/work/shared/reference/alertmanager-0.25-webhook-firing.json")


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with lab_server([SHOWCASE], SHOWCASE.id) as server:
        yield server


@pytest.fixture(scope="module")
def config(lab: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "mcp.json"
    path.write_text(json.dumps(mcp_config(lab.url, SHOWCASE.id)))
    return path


@pytest.fixture(scope="module")
def as_json(config: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("home")
    proc = compass(
        "investigate", SHOWCASE.symptom, "--at", AT, "--mcp-config", str(config), "--no-memory", "-o", "json",
        env=clean_env(home),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    doc: dict[str, Any] = json.loads(line)
    return doc


def test_json_ranks_root_causes_by_confidence(as_json: dict[str, Any]) -> None:
    confidences = [rc["confidence"] for rc in as_json["root_causes"]]
    assert len(confidences) >= 2 and confidences == sorted(confidences, reverse=True)
    assert as_json["verdict"] == "root_cause" and as_json["investigation_id"] is None


def test_text_fits_the_width_and_prints_every_link_in_full(
    as_json: dict[str, Any], config: Path, tmp_path: Path
) -> None:
    proc = compass(
        "investigate", SHOWCASE.symptom, "--at", AT, "--mcp-config", str(config), "--no-memory",
        env=clean_env(tmp_path, COLUMNS="80", NO_COLOR="1"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert not ANSI.search(out)  # a pipe gets no terminal codes
    links = {e["link"] for rc in as_json["root_causes"] for e in rc["evidence"] if e["link"]}
    assert links
    link_lines = [ln for ln in out.splitlines() if re.match(r"^\s+\[\d+\] http", ln)]
    assert {ln.split("] ", 1)[1] for ln in link_lines} >= {
        e["link"] for e in as_json["root_causes"][0]["evidence"] if e["link"]
    }  # every link of the verdict's cause, whole, on its own line
    too_wide = [ln for ln in out.splitlines() if len(ln) > 80 and ln not in link_lines]
    assert too_wide == []
    assert "100 %" not in out or any(rc["confidence"] >= 1.0 for rc in as_json["root_causes"])
    top = as_json["root_causes"][0]
    assert f"ROOT CAUSE  {top['component']} · {top['fault']}" in out
    if len(as_json["eliminated"]) > 8:
        assert f"and {len(as_json['eliminated']) - 8} more (see --json)" in out
    assert "(score" not in out  # progress says it in words
    assert re.search(r"\d+ hypotheses · \d+ refuted · \d+ supported", out)  # refuted ones counted, not listed
    table = out[out.index("other candidates") :]
    shown = [float(p) for p in re.findall(r"│\s+(\d+) %\s+│", table)]
    assert shown == sorted(shown, reverse=True)


def test_verbose_lists_every_refuted_hypothesis(config: Path, tmp_path: Path) -> None:
    proc = compass(
        "investigate", SHOWCASE.symptom, "--at", AT, "--mcp-config", str(config), "--no-memory", "-v",
        env=clean_env(tmp_path, COLUMNS="120"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "refuted " in proc.stdout and "proposed " in proc.stdout


def test_markdown_from_stdin(config: Path, tmp_path: Path) -> None:
    proc = compass(
        "investigate", "-", "--at", AT, "--mcp-config", str(config), "--no-memory", "-o", "markdown",
        env=clean_env(tmp_path), stdin=SHOWCASE.symptom + "\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    assert md.startswith(f"## COMPASS: {SHOWCASE.symptom}\n")
    assert "- **Root cause:** `payments-db` · `db_slow_queries`" in md
    assert "| component | fault | why |" in md and "([open](http" in md


def test_an_alertmanager_body_becomes_the_incident(config: Path, tmp_path: Path) -> None:
    body = json.loads(REFERENCE.read_text())
    body["alerts"][0]["startsAt"] = "2026-02-06T19:21:00Z"  # the lab incident's onset
    path = tmp_path / "alert.json"
    path.write_text(json.dumps(body))
    for argv, stdin in ((["--alert", str(path)], None), (["-"], json.dumps(body))):
        proc = compass(
            "investigate", *argv, "--at", AT, "--mcp-config", str(config), "--no-memory", "--json",
            env=clean_env(tmp_path), stdin=stdin,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        incident = json.loads(proc.stdout)["incident"]
        assert (
            incident["symptom"] == "High 5xx ratio on checkout: 5xx ratio is 23.25% (CheckoutHighErrorRate)"
        )
        assert incident["service"] == "checkout"
        assert incident["window_s"] >= int(SHOWCASE.at) - 1770405660 + 1800  # the baseline precedes the onset


def test_an_alert_that_started_after_at_is_refused(tmp_path: Path) -> None:
    proc = compass(
        "investigate", "--alert", str(REFERENCE), "--at", AT, "--no-memory", env=clean_env(tmp_path)
    )
    assert proc.returncode == 2 and "after --at" in proc.stderr and proc.stderr.count("\n") == 1


def test_grafana_down_behind_mcp_grafana_is_not_a_verdict(tmp_path: Path) -> None:
    dead = tmp_path / "dead.json"
    dead.write_text(json.dumps(mcp_config("http://127.0.0.1:1", None)))
    proc = compass(
        "investigate", "checkout errors", "--mcp-config", str(dead), "--no-memory", "--json",
        env=clean_env(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["verdict"] == "inconclusive" and payload["no_telemetry"] is True
    assert "every telemetry query failed" in proc.stderr


def test_a_terminal_sees_a_spinner_from_the_start_then_the_verdict(config: Path, tmp_path: Path) -> None:
    code, screen = in_terminal(
        "investigate", SHOWCASE.symptom, "--at", AT, "--mcp-config", str(config), "--no-memory",
        env=clean_env(tmp_path, TERM="xterm-256color", COLUMNS="100"),
    )  # fmt: skip
    assert code == 0, screen
    assert "starting the MCP servers…" in screen  # a sign of life before mcp-grafana answers
    assert re.search(r"\d+ hypotheses · \d+ refuted · \d+ supported", screen)  # the live status line
    assert "COMPASS verdict" in screen and "\x1b]8;" in screen  # the box, with terminal hyperlinks
    assert "refuted payments" not in screen  # the stream of refutations is for -v
    assert COLOUR.search(screen)  # colour by default (what --no-color and NO_COLOR take away)


@pytest.mark.parametrize("how", [["--no-color"], ["NO_COLOR=1"]])
def test_no_color_in_a_terminal(config: Path, tmp_path: Path, how: list[str]) -> None:
    flags = [h for h in how if h.startswith("--")]
    extra = dict(h.split("=", 1) for h in how if "=" in h)
    code, screen = in_terminal(
        "investigate", SHOWCASE.symptom, "--at", AT, "--mcp-config", str(config), "--no-memory", *flags,
        env=clean_env(tmp_path, TERM="xterm-256color", COLUMNS="100", **extra),
    )  # fmt: skip
    assert code == 0, screen
    assert "COMPASS verdict" in screen
    assert not COLOUR.search(screen)  # no foreground colour at all

"""The engine end to end: lab → real mcp-grafana (stdio) → allowlist → engine → verdict.

One lab server serves every scenario of the module; each investigation starts its own mcp-grafana.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from compass_lab.harness import incident_for, investigate_scenario, lab_server
from compass_lab.model import Scenario
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer, mcp_config
from compass_worker.domain.events import ListSink
from compass_worker.domain.models import Verdict
from compass_worker.settings import Settings

SHOWCASE = get_scenario(DEFAULT_SCENARIO_ID)
CONTROLS = [get_scenario("shop-dev-017-control"), get_scenario("ridehail-dev-002-control")]


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with lab_server([SHOWCASE, *CONTROLS], SHOWCASE.id) as server:
        yield server


async def _verdict(lab: LabServer, scenario: Scenario, settings: Settings | None = None) -> Verdict:
    result = await investigate_scenario(lab.url, scenario, settings or Settings(), ListSink())
    return result.verdict


async def test_the_showcase_incident_is_found_with_evidence_and_links(lab: LabServer) -> None:
    sink = ListSink()
    result = await investigate_scenario(lab.url, SHOWCASE, Settings(), sink)
    v = result.verdict
    assert v.verdict == "root_cause"
    top = v.root_causes[0]
    assert (top.component, top.fault) == (SHOWCASE.truth_component, SHOWCASE.truth_fault)
    assert top.confidence >= 0.7
    assert top.evidence and all(e.query and e.observation for e in top.evidence)
    assert any(e.link and "/explore?" in e.link for e in top.evidence)
    assert v.eliminated and all(e.reason for e in v.eliminated)
    assert v.timings.first_hypothesis_s is not None and v.timings.first_hypothesis_s < v.timings.verdict_s
    assert 10 < v.tool_calls < 150
    kinds = {type(e).__name__ for e in sink.events}
    assert {
        "PhaseStarted",
        "HypothesisProposed",
        "HypothesisRefuted",
        "HypothesisSupported",
        "VerdictReached",
    } <= kinds
    assert any("dependency graph from" in o for o in v.observations)


@pytest.mark.parametrize("control", CONTROLS, ids=lambda s: s.id)
async def test_a_no_fault_control_gets_no_confident_verdict(lab: LabServer, control: Scenario) -> None:
    v = await _verdict(lab, control)
    assert v.verdict == "inconclusive"
    assert not v.root_causes or v.root_causes[0].confidence < 0.7


async def test_the_tool_call_budget_bounds_an_investigation_and_is_reported(lab: LabServer) -> None:
    v = await _verdict(lab, SHOWCASE, Settings(tool_call_budget=20))
    assert any("tool-call budget of 20 reached" in g for g in v.gaps)
    # The phases already under way finish (observe fetches every discovered signal at once, inferred
    # histograms' request rates and error ratios included); nothing new starts.
    assert v.tool_calls < 64


def test_cli_json_contract(lab: LabServer, tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps(mcp_config(lab.url, SHOWCASE.id)))
    incident = incident_for(SHOWCASE)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "compass_cli.main",
            "investigate",
            SHOWCASE.symptom,
            "--at",
            str(int(incident.at)),
            "--mcp-config",
            str(config),
            "--json",
            "--no-memory",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object
    doc = json.loads(lines[0])
    assert {"verdict", "root_causes", "eliminated", "gaps", "timings", "tool_calls", "cost"} <= set(doc)
    assert set(doc["timings"]) == {"first_hypothesis_s", "verdict_s"}
    rc = doc["root_causes"][0]
    assert {"component", "fault", "confidence", "summary", "evidence"} <= set(rc)
    assert {"source", "query", "observation", "link"} == set(rc["evidence"][0])
    assert doc["cost"]["usd"] == 0.0 and doc["cost"]["input_tokens"] == 0

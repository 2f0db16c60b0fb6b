"""A team's runbooks and fault patterns: loaded with one-line errors, proposed to the engine like an LLM's
proposals (validated, run, recorded as evidence, never scoring), and linked from the verdict."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from compass_lab.harness import investigate_scenario, lab_server
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer
from compass_worker.domain import Hypothesis
from compass_worker.domain.events import CheckStarted, ListSink, VerdictReached
from compass_worker.errors import ConfigError
from compass_worker.runbooks import load_team_catalog
from compass_worker.runner import Catalogs
from compass_worker.settings import Settings

SHOWCASE = get_scenario(DEFAULT_SCENARIO_ID)  # payments-db db_slow_queries, seen as "checkout is slow"

CATALOG = """
[[runbook]]
title = "Databases: slow-query triage"
url = "https://wiki.example.com/runbooks/db-slow"
components = ["*-db"]
faults = ["db_slow_queries"]

[[runbook]]
title = "Cache outages"
url = "https://wiki.example.com/runbooks/cache"
components = ["*-cache"]

[[pattern]]
name = "lock pile-ups on our databases"
component = "*-db"
fault = "db_slow_queries"
when = ["slow"]
query = 'count(up{service_name="{component}"})'
purpose = "is the database scraped"
runbook = "https://wiki.example.com/runbooks/db-locks"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "team.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[runbook]]\ntitle = 'x'\nurl = 'not a url'\n", "runbook.0.url"),
        ("[[pattern]]\nname = 'x'\ncomponent = 'a'\nfault = 'exploded'\n", "unknown fault id 'exploded'"),
        ("[[runbooks]]\ntitle = 'x'\n", "unknown table(s) runbooks"),
        ("[[runbook]\n", "not valid TOML"),
    ],
)
def test_a_bad_catalog_stops_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        load_team_catalog([_write(tmp_path, text)])
    assert "\n" not in str(err.value) and "team.toml" in str(err.value)
    with pytest.raises(ConfigError, match="No such file"):
        load_team_catalog([tmp_path / "missing.toml"])


def test_runbooks_match_components_by_glob_and_faults(tmp_path: Path) -> None:
    team = load_team_catalog([_write(tmp_path, CATALOG)])
    assert [r.title for r in team.runbooks_for("payments-db", "db_slow_queries")] == [
        "Databases: slow-query triage",
        "lock pile-ups on our databases",
    ]
    assert team.runbooks_for("payments-db", "disk_full") == []
    assert [r.title for r in team.runbooks_for("cart-cache", "memory_leak")] == ["Cache outages"]
    assert team.runbooks_for("payments", "db_slow_queries") == []  # "*-db" does not name payments


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with lab_server([SHOWCASE], SHOWCASE.id) as server:
        yield server


async def test_the_engine_tests_team_patterns_and_the_verdict_links_runbooks(
    lab: LabServer, tmp_path: Path
) -> None:
    settings = Settings(runbooks=[_write(tmp_path, CATALOG)])
    sink = ListSink()
    result = await investigate_scenario(lab.url, SHOWCASE, settings, sink, catalogs=Catalogs.load(settings))
    v = result.verdict
    top = v.root_causes[0]
    assert (top.component, top.fault) == (SHOWCASE.truth_component, SHOWCASE.truth_fault)  # evidence decides
    assert [(r.component, r.url) for r in v.runbooks] == [
        ("payments-db", "https://wiki.example.com/runbooks/db-slow"),
        ("payments-db", "https://wiki.example.com/runbooks/db-locks"),
    ]
    # Every sink saw the same verdict, runbooks included (the Slack thread renders from this event).
    streamed = [e.verdict for e in sink.events if isinstance(e, VerdictReached)]
    assert streamed and streamed[-1].runbooks == v.runbooks
    # The team's hunch was tested like any proposal: its query ran, its result is evidence.
    query = 'count(up{service_name="payments-db"})'
    assert any(isinstance(e, CheckStarted) and e.query == query for e in sink.events)
    # …shown beside the cause as neutral evidence: it never changes a score.
    team = [e for e in top.evidence if e.query == query]
    assert team and team[0].observation.startswith("team check — ") and team[0].weight == 0.0


def v_hypotheses(sink: ListSink) -> list[Hypothesis]:
    """The latest state of every hypothesis the engine streamed."""
    latest: dict[str, Hypothesis] = {}
    for e in sink.events:
        h = getattr(e, "hypothesis", None)
        if isinstance(h, Hypothesis):
            latest[h.id] = h
    return list(latest.values())


async def test_without_a_catalog_nothing_changes(lab: LabServer) -> None:
    result = await investigate_scenario(lab.url, SHOWCASE, Settings(), ListSink())
    assert result.verdict.runbooks == ()

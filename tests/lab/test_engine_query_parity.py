"""Every PromQL query the real engine issues on a scenario answers the same from the lab and from a real
Prometheus 2.42 holding the same series (slow).

One scenario per naming-convention family (OpenTelemetry, Prometheus client defaults, Micrometer), on
both topologies. The engine runs exactly as in `compass demo` (lab → real mcp-grafana → engine); the
queries it recorded, with their exact start/end/step, are then replayed against both evaluators. The
whole scenario is backfilled (not only the metrics the queries name): the engine's first query selects
every metric name it discovered, and a full backfill takes ~6–13 s per scenario on 2 cores.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from compass_lab.harness import investigate_scenario, lab_server
from compass_lab.promql.parity import RealPrometheus
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, build_telemetry, get_scenario
from compass_worker.domain.events import NullSink
from compass_worker.engine.source import QueryRecord
from compass_worker.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
from prometheus_install import ensure_prometheus

pytestmark = pytest.mark.slow

SCENARIO_IDS = (
    DEFAULT_SCENARIO_ID,  # shop, OpenTelemetry semantic conventions
    "ridehail-dev-008-dependency_outage",  # ridehail, Prometheus client defaults
    "shop-dev-001-db_connection_pool_exhaustion",  # shop, Micrometer
)
# Query kinds the engine records that are not PromQL; anything else must be replayed here.
NOT_PROMQL = {"discovery", "logql", "traceql"}
MIN_QUERIES = 10  # an investigation that issued fewer PromQL queries would make this test vacuous


def _engine_promql(scenario_id: str) -> list[QueryRecord]:
    """The distinct PromQL range queries one investigation issued, in issue order."""
    scenario = get_scenario(scenario_id)
    with lab_server([scenario], scenario.id) as lab:
        result = asyncio.run(investigate_scenario(lab.url, scenario, Settings(), NullSink()))
    kinds = {q.kind for q in result.queries} - NOT_PROMQL
    assert kinds == {"promql_range"}, f"the engine issued query kinds this test does not replay: {kinds}"
    seen: dict[tuple[str, float, float, int], QueryRecord] = {}
    for q in result.queries:
        if q.kind == "promql_range":
            seen.setdefault((q.query, q.start, q.end, q.step_s), q)
    return list(seen.values())


def _result_size(body: dict[str, object]) -> int | None:
    """Number of series in a successful matrix body; None for an error."""
    if body.get("status") != "success":
        return None
    data = cast(dict[str, Any], body["data"])
    return len(data["result"])


@pytest.mark.timeout(900)  # a fresh machine installs Debian's prometheus package here
def test_real_prometheus_installed() -> None:
    ensure_prometheus()


def test_scenarios_cover_every_naming_convention() -> None:
    assert {get_scenario(sid).conventions for sid in SCENARIO_IDS} == {"otel", "prom-client", "micrometer"}
    assert len({get_scenario(sid).system for sid in SCENARIO_IDS}) >= 2


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_engine_promql_query_matches_real_prometheus(scenario_id: str, tmp_path: Path) -> None:
    ensure_prometheus()
    queries = _engine_promql(scenario_id)
    assert len(queries) >= MIN_QUERIES, f"only {len(queries)} PromQL queries issued"
    diffs: list[str] = []
    with RealPrometheus(build_telemetry(get_scenario(scenario_id)).series, tmp_path) as prom:
        for q in queries:
            where = f"{q.query} [{q.start}..{q.end} step {q.step_s}s]"
            diffs += [f"{where}: {d}" for d in prom.compare(q.query, q.start, q.end, float(q.step_s))]
            # What the engine saw through mcp-grafana must match what the real Prometheus has, too:
            # a parity that holds only because both sides answered nothing would prove little.
            size = _result_size(prom.real(q.query, q.start, q.end, float(q.step_s)))
            real_outcome = "failed" if size is None else "data" if size else "no_data"
            if real_outcome != q.outcome:
                diffs.append(f"{where}: engine saw {q.outcome}, real Prometheus gives {real_outcome}")
    assert not diffs, f"{len(diffs)} differences over {len(queries)} queries:\n" + "\n".join(diffs)

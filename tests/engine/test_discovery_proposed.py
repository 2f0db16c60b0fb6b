"""Signal mapping proposed by a model, end to end: lab → real mcp-grafana → engine (with a scripted model
behind the real LLM reasoner) → verdict.

The lab's server latency histogram is re-served under a name whose tokens say a time unit and nothing
else (`ridehail_zq_seconds_bucket`), so the engine's own name-token inference leaves it unmapped, and an
in-flight gauge (values 3-10) sits beside it. The model maps the histogram to latency (right) and the
gauge to an error ratio (wrong). The engine must use the first, reject the second from its values, and
say which mappings were inferred and from where.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from compass_lab.harness import investigate_scenario
from compass_lab.model import Series, TelemetrySet
from compass_lab.scenarios import build_telemetry, get_scenario
from compass_lab.server import LabRegistry
from compass_lab.server.runner import LabServer
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.domain.events import ListSink
from compass_worker.reasoners.llm import LlmRequest
from compass_worker.reasoners.llm_reasoner import LlmReasoner
from compass_worker.reasoners.scripted import ScriptedModel, Step
from compass_worker.settings import Settings

SCENARIO = get_scenario("ridehail-dev-049-db_slow_queries")  # metrics only: latency must come from metrics
OPAQUE = "ridehail_zq_seconds"
INFLIGHT = "ridehail_zq_inflight"


def _opaque(t: TelemetrySet) -> TelemetrySet:
    series: list[Series] = []
    for s in t.series:
        name = s.labels.get("__name__", "")
        if name.startswith("http_server_request_duration_seconds_"):
            renamed = OPAQUE + name.removeprefix("http_server_request_duration_seconds")
            s = Series({**s.labels, "__name__": renamed}, s.timestamps, s.values)
            if name.endswith("_count"):
                labels = {k: v for k, v in s.labels.items() if k != "__name__"}
                inflight = 3.0 + 7.0 * np.abs(np.sin(np.asarray(s.timestamps) / 600.0))
                series.append(Series({**labels, "__name__": INFLIGHT}, s.timestamps, inflight))
        series.append(s)
    return TelemetrySet(tuple(series), t.log_streams, t.spans, t.start, t.end, t.scrape_interval_s)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with LabServer(LabRegistry([SCENARIO], lambda s: _opaque(build_telemetry(s)), SCENARIO.id)) as server:
        yield server


def _model() -> ScriptedModel:
    def respond(req: LlmRequest) -> Step:
        if req.tool.name == "map_metrics":
            assert f'"name":"{OPAQUE}_bucket"' in req.messages[-1].content  # offered: no token rule maps it
            return {
                "mappings": [
                    {
                        "metric": f"{OPAQUE}_bucket",
                        "signal": "latency",
                        "unit": "seconds",
                        "rationale": "unit",
                    },
                    {"metric": INFLIGHT, "signal": "error_ratio", "unit": "ratio", "rationale": "a guess"},
                ]
            }
        return {"hypotheses": []}

    return ScriptedModel(respond)


async def test_a_proposed_mapping_is_used_and_a_wrong_one_rejected_by_its_values(lab: LabServer) -> None:
    plain = (await investigate_scenario(lab.url, SCENARIO, Settings(), ListSink())).verdict
    assert not any(s.startswith(OPAQUE) for s in plain.inferred_signals)  # tokens alone cannot map it

    model = _model()
    reasoner = LlmReasoner({"orient": model}, ledger=MemoryLedger(), prices=PriceTable.load())
    v = (await investigate_scenario(lab.url, SCENARIO, Settings(), ListSink(), reasoner=reasoner)).verdict
    proposed = [s for s in v.inferred_signals if "AI reasoner" in s]
    assert any(s.startswith(f"{OPAQUE}_bucket → latency") for s in proposed), v.inferred_signals
    assert not any(s.startswith(INFLIGHT) for s in v.inferred_signals)  # 3-10 is no ratio: rejected
    assert model.requests[0].tool.name == "map_metrics"
    assert v.root_causes
    top = v.root_causes[0]
    assert (top.component, top.fault) == (SCENARIO.truth_component, SCENARIO.truth_fault)

"""Signal mapping by a model, through the real SDKs against the fake vendor APIs: what is offered, what is
sent (inert data, redacted), what is accepted (listed names and offered signals only, one repair)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from llm_testkit import llm_settings

from compass_testing.fake_llm import Answer, FakeLlmApi
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.reasoners.factory import build_reasoner
from compass_worker.reasoners.llm_reasoner import LlmReasoner, invalid_notice
from compass_worker.reasoners.protocol import MetricView, ProposedMapping

SIGNALS = ["latency", "requests", "error_ratio", "queue_lag"]
METRICS = [
    MetricView(name="zeta_rq_seconds_bucket", type="histogram", help="Time per zeta request."),
    MetricView(name="zeta_backlog_depth", type="gauge"),
]
GOOD = {
    "mappings": [
        {
            "metric": "zeta_rq_seconds_bucket",
            "signal": "latency",
            "unit": "seconds",
            "rationale": "help text",
        },
        {"metric": "zeta_rq_seconds_bucket", "signal": "requests", "unit": "count"},  # one metric, one signal
    ]
}


@pytest.fixture
async def reasoner(fake_llm: FakeLlmApi) -> AsyncIterator[LlmReasoner]:
    r = build_reasoner(llm_settings(fake_llm), MemoryLedger(), investigation_id=uuid4())
    assert r is not None
    async with r:
        yield r


async def test_listed_names_are_sent_as_data_and_the_answer_is_validated(
    reasoner: LlmReasoner, fake_llm: FakeLlmApi
) -> None:
    fake_llm.reset(Answer(GOOD))
    got = await reasoner.propose_mappings(METRICS, SIGNALS)
    assert got == [
        ProposedMapping(
            metric="zeta_rq_seconds_bucket", signal="latency", unit="seconds", rationale="help text"
        )
    ]
    body = fake_llm.requests[0].body
    content = body["messages"][0]["content"]
    assert '<data source="telemetry" kind="metrics"' in content
    assert '"name":"zeta_backlog_depth"' in content and '"help":"Time per zeta request."' in content
    tool = body["tools"][0]
    assert tool["name"] == "map_metrics"
    assert tool["input_schema"]["properties"]["mappings"]["items"]["properties"]["signal"]["enum"] == SIGNALS
    assert reasoner.report().cost.llm_calls == 1


async def test_an_invented_name_gets_one_repair_then_falls_back(
    reasoner: LlmReasoner, fake_llm: FakeLlmApi
) -> None:
    invented = {
        "mappings": [
            {"metric": "http_server_duration_seconds_bucket", "signal": "latency", "unit": "seconds"}
        ]
    }
    fake_llm.reset(Answer(invented), Answer(GOOD))
    assert [m.metric for m in await reasoner.propose_mappings(METRICS, SIGNALS)] == ["zeta_rq_seconds_bucket"]
    repair = fake_llm.requests[1].body["messages"][2]["content"]
    assert "not one of the listed names" in repair

    fake_llm.reset(
        Answer(invented),
        Answer({"mappings": [{"metric": "zeta_backlog_depth", "signal": "cpu", "unit": "none"}]}),
    )
    assert await reasoner.propose_mappings(METRICS, SIGNALS) == []
    assert reasoner.report().notices == (invalid_notice("orient"),)


async def test_names_the_redaction_would_change_are_not_offered(
    reasoner: LlmReasoner, fake_llm: FakeLlmApi
) -> None:
    secret = MetricView(name="cust_AKIAIOSFODNN7EXAMPLE_requests", type="gauge")  # an AWS key id
    assert await reasoner.propose_mappings([secret], SIGNALS) == []
    assert fake_llm.requests == []  # nothing left to ask: the call is avoided
    assert reasoner.calls_avoided == 1


async def test_without_an_orient_model_nothing_is_asked(fake_llm: FakeLlmApi) -> None:
    settings = llm_settings(fake_llm, llm="none", llm_summarize="anthropic:claude-haiku-4-5")
    r = build_reasoner(settings, MemoryLedger())
    assert r is not None
    async with r:
        assert await r.propose_mappings(METRICS, SIGNALS) == []
    assert fake_llm.requests == []

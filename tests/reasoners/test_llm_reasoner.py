"""The LLM reasoner through the real SDKs against the fake vendor APIs: phases, repair, fallbacks, cost,
budgets, calls avoided, per-call token budgets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from llm_testkit import llm_settings, make_ctx

from compass_testing.fake_llm import Answer, FakeLlmApi, HttpError, Slow
from compass_worker.cost.budget import BUDGET_REACHED
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.domain.models import Eliminated, Incident, RootCause, Verdict
from compass_worker.reasoners.factory import build_reasoner
from compass_worker.reasoners.llm_reasoner import AI_UNAVAILABLE, LlmReasoner, invalid_notice
from compass_worker.reasoners.protocol import AnomalyView, ProposedCheck, ProposedHypothesis
from compass_worker.reasoners.tokens import estimate_tokens

HYPS = {"hypotheses": [{"component": "payments-db", "fault": "cpu_saturation", "rationale": "latency first"}]}
CHECKS = {
    "checks": [
        {
            "hypothesis_id": "payments-db/db_slow_queries",
            "purpose": "flat p99 refutes",
            "language": "promql",
            "query": "rate(pg_stat_activity_count[5m])",
        }
    ]
}
SUMMARY = {
    "summary": "Root cause: db_slow_queries on payments-db (confidence 0.82); checkout errors followed."
}


def verdict() -> Verdict:
    return Verdict(
        verdict="root_cause",
        incident=Incident(symptom="checkout 5xx", at=1_767_639_900.0),
        root_causes=(
            RootCause(component="payments-db", fault="db_slow_queries", confidence=0.82, summary="s"),
        ),
        eliminated=(Eliminated(component="checkout", fault="bad_deploy", reason="no version change"),),
    )


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
async def reasoner(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> AsyncIterator[LlmReasoner]:
    r = build_reasoner(llm_settings(fake_llm), ledger, investigation_id=uuid4())
    assert r is not None
    async with r:
        yield r


async def test_three_phases_produce_proposals_summary_and_cost(
    reasoner: LlmReasoner, fake_llm: FakeLlmApi, ledger: MemoryLedger
) -> None:
    fake_llm.reset(
        Answer(HYPS, input_tokens=2000, output_tokens=100, cached_tokens=1500),
        Answer(CHECKS, input_tokens=2100, output_tokens=120),
        Answer(SUMMARY, input_tokens=2500, output_tokens=90),
    )
    ctx = make_ctx()
    assert await reasoner.propose_hypotheses(ctx) == [
        ProposedHypothesis(component="payments-db", fault="cpu_saturation", rationale="latency first")
    ]
    checks = await reasoner.propose_checks(ctx)
    assert checks == [
        ProposedCheck(
            hypothesis_id="payments-db/db_slow_queries",
            purpose="flat p99 refutes",
            language="promql",
            query="rate(pg_stat_activity_count[5m])",
        )
    ]
    assert await reasoner.summarize(ctx, verdict()) == SUMMARY["summary"]

    report = reasoner.report()
    assert report.notices == ()
    assert (report.cost.llm_calls, report.cost.input_tokens, report.cost.output_tokens) == (3, 6600, 310)
    assert report.cost.cached_tokens == 1500
    # claude-haiku-4-5: $1/M input, $0.10/M cached, $5/M output
    expected = (
        Decimal(500) * 1 + Decimal(1500) * Decimal("0.1") + 100 * 5 + 2100 * 1 + 120 * 5 + 2500 + 90 * 5
    )
    assert report.cost.usd == pytest.approx(float(expected / 1_000_000))
    calls = [c.call for c in await ledger.calls_since(ledger_epoch())]
    assert [c.phase for c in calls] == ["orient", "decide", "summarize"]
    assert all(c.investigation_id == reasoner.investigation_id and c.provider == "anthropic" for c in calls)
    assert calls[0].tokens_cached == 1500 and calls[0].usd is not None

    sent = [r.body for r in fake_llm.requests]
    assert [b["tool_choice"]["name"] for b in sent] == [
        "propose_hypotheses",
        "propose_checks",
        "write_summary",
    ]
    enum = sent[0]["tools"][0]["input_schema"]["properties"]["hypotheses"]["items"]["properties"]["fault"][
        "enum"
    ]
    assert enum == [*make_ctx().fault_ids, "other"]
    assert (
        "db_slow_queries on payments-db" not in sent[0]["messages"][0]["content"]
    )  # no verdict before judge
    assert '"verdict":"root_cause"' in sent[2]["messages"][0]["content"]


def ledger_epoch() -> Any:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)


async def test_invalid_answer_gets_one_repair(reasoner: LlmReasoner, fake_llm: FakeLlmApi) -> None:
    bad = {"hypotheses": [{"component": "payments-db", "fault": "gremlins", "rationale": "x"}]}
    fake_llm.reset(Answer(bad), Answer(HYPS))
    assert len(await reasoner.propose_hypotheses(make_ctx())) == 1
    repair = fake_llm.requests[1].body["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert "gremlins" in repair[2]["content"] and "not a listed fault id" in repair[2]["content"]
    assert reasoner.report().notices == ()
    assert reasoner.report().cost.llm_calls == 2  # the repair is paid for too


async def test_invalid_twice_falls_back_with_notice(reasoner: LlmReasoner, fake_llm: FakeLlmApi) -> None:
    fake_llm.reset(Answer('{"checks": "not a list"'), Answer(tool="update_dashboard", arguments={"uid": "x"}))
    assert await reasoner.propose_checks(make_ctx()) == []
    assert reasoner.report().notices == (invalid_notice("decide"),)
    # the next phase still asks (an invalid answer is not an outage)
    fake_llm.reset(Answer(SUMMARY))
    assert await reasoner.summarize(make_ctx(), verdict()) == SUMMARY["summary"]


async def test_truncated_answer_is_repaired(reasoner: LlmReasoner, fake_llm: FakeLlmApi) -> None:
    fake_llm.reset(Answer('{"summary": "Root cause: db_slow', truncated=True), Answer(SUMMARY))
    assert await reasoner.summarize(make_ctx(), verdict()) == SUMMARY["summary"]
    assert "cut off" in fake_llm.requests[1].body["messages"][2]["content"]


async def test_summary_that_describes_another_verdict_is_refused(
    reasoner: LlmReasoner, fake_llm: FakeLlmApi
) -> None:
    fake = {"summary": "VERDICT: the root cause is the checkout deploy, confidence 1.0."}
    fake_llm.reset(Answer(fake), Answer(fake))
    assert await reasoner.summarize(make_ctx(), verdict()) is None
    assert reasoner.report().notices == (invalid_notice("summarize"),)


@pytest.mark.parametrize("failure", [HttpError(429), HttpError(500), HttpError(529)])
async def test_provider_failure_falls_back_without_exception(
    reasoner: LlmReasoner, fake_llm: FakeLlmApi, failure: HttpError
) -> None:
    fake_llm.reset(failure)
    assert await reasoner.propose_hypotheses(make_ctx()) == []
    # a provider that failed is not asked again in this investigation
    assert await reasoner.propose_checks(make_ctx()) == []
    assert await reasoner.summarize(make_ctx(), verdict()) is None
    assert len(fake_llm.requests) == 1
    assert reasoner.report().notices == (AI_UNAVAILABLE,)
    assert reasoner.report().cost.llm_calls == 0


async def test_timeout_falls_back(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> None:
    r = build_reasoner(llm_settings(fake_llm, llm_timeout_s=0.3), ledger)
    assert r is not None
    async with r:
        fake_llm.reset(Slow(1.0), Answer(HYPS))
        assert await r.propose_hypotheses(make_ctx()) == []
        assert r.report().notices == (AI_UNAVAILABLE,)


async def test_unknown_price_is_recorded_as_unknown_not_zero(
    fake_llm: FakeLlmApi, ledger: MemoryLedger
) -> None:
    r = build_reasoner(llm_settings(fake_llm, llm="openai:some-new-model"), ledger)
    assert r is not None
    async with r:
        fake_llm.reset(Answer(SUMMARY))
        await r.summarize(make_ctx(), verdict())
        assert r.report().cost.usd == 0.0 and r.report().cost.unpriced_calls == 1
    (call,) = await ledger.calls_since(ledger_epoch())
    assert call.call.usd is None and call.call.provider == "openai"


async def test_investigation_budget_stops_calls(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> None:
    r = build_reasoner(llm_settings(fake_llm, llm_budget_investigation_tokens=4_000), ledger)
    assert r is not None
    async with r:
        fake_llm.reset(Answer(HYPS, input_tokens=2500, output_tokens=100), Answer(CHECKS))
        assert len(await r.propose_hypotheses(make_ctx())) == 1
        assert await r.propose_checks(make_ctx()) == []  # 2,600 spent + the next worst case > 4,000
        assert await r.summarize(make_ctx(), verdict()) is None
        assert len(fake_llm.requests) == 1
        assert r.report().notices == (BUDGET_REACHED,)


async def test_daily_budget_is_shared_through_the_ledger(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> None:
    settings = llm_settings(fake_llm, llm_budget_day_usd=Decimal("0.009"))
    first = build_reasoner(settings, ledger)
    assert first is not None
    async with first:
        fake_llm.reset(Answer(HYPS, input_tokens=3000, output_tokens=200))  # $0.004 with haiku prices
        assert len(await first.propose_hypotheses(make_ctx())) == 1
    second = build_reasoner(settings, ledger)
    assert second is not None
    async with second:
        fake_llm.reset(Answer(HYPS))
        assert await second.propose_hypotheses(make_ctx()) == []
        assert second.report().notices == (BUDGET_REACHED,)
    assert fake_llm.requests == []  # the second investigation sent nothing


async def test_calls_avoided_are_counted(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> None:
    r = build_reasoner(llm_settings(fake_llm), ledger, known_pattern="seen 3x: payments-db db_slow_queries")
    assert r is not None
    async with r:
        assert await r.propose_hypotheses(make_ctx()) == []
        assert await r.propose_checks(make_ctx(hypotheses=[])) == []
        empty = Verdict(verdict="inconclusive", incident=Incident(symptom="x", at=1.0))
        assert await r.summarize(make_ctx(), empty) is None
        assert r.calls_avoided == 3
        assert r.report().cost.llm_calls == 0
    assert fake_llm.requests == []
    assert [a.phase for a in await ledger.avoided_since(ledger_epoch())] == ["orient", "decide", "summarize"]


async def test_per_phase_models_route_to_their_providers(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> None:
    settings = llm_settings(
        fake_llm, llm="none", llm_orient="openai:gpt-4o-mini", llm_summarize="anthropic:claude-haiku-4-5"
    )
    r = build_reasoner(settings, ledger)
    assert r is not None
    async with r:
        fake_llm.reset(Answer(HYPS), Answer(SUMMARY))
        await r.propose_hypotheses(make_ctx())
        assert await r.propose_checks(make_ctx()) == []  # decide: none
        await r.summarize(make_ctx(), verdict())
    assert [q.path for q in fake_llm.requests] == ["/v1/chat/completions", "/v1/messages"]
    assert [q.body["model"] for q in fake_llm.requests] == ["gpt-4o-mini", "claude-haiku-4-5"]


async def test_per_call_input_budget_trims_the_context(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> None:
    many = [
        AnomalyView(
            component=f"svc-{i}",
            signal="latency",
            baseline=0.01,
            peak=1.0 + i,
            z=100.0 - i * 0.1,
            onset=1_767_639_000.0,
        )
        for i in range(400)
    ]
    ctx = make_ctx(anomalies=many)
    r = build_reasoner(llm_settings(fake_llm, llm_max_input_tokens=2_000, llm_stream=True), ledger)
    assert r is not None
    async with r:
        fake_llm.reset(Answer(HYPS))
        await r.propose_hypotheses(ctx)
    body = fake_llm.requests[0].body
    sent = json.dumps(body["system"]) + json.dumps(body["tools"]) + body["messages"][0]["content"]
    assert estimate_tokens(sent) <= 2_000
    content = body["messages"][0]["content"]
    assert '"svc-0"' in content and '"svc-399"' not in content  # the strongest anomalies are kept
    assert 'omitted="' in content


async def test_no_llm_configured_builds_no_reasoner(fake_llm: FakeLlmApi, ledger: MemoryLedger) -> None:
    assert build_reasoner(llm_settings(fake_llm, llm="none"), ledger) is None

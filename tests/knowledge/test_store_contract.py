"""Contract tests of the store's investigation log, audit log, cost ledger and Slack links."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from compass_worker.domain import (
    Check,
    Evidence,
    Hypothesis,
    HypothesisStatus,
    Incident,
    RootCause,
    Stance,
    Verdict,
)
from compass_worker.domain.events import (
    CheckStarted,
    EvidenceFound,
    HypothesisProposed,
    HypothesisRefuted,
    VerdictReached,
)
from compass_worker.knowledge import (
    HashingEmbedder,
    InvestigationStatus,
    KnowledgeStore,
    LlmCall,
    NotFound,
    Ownership,
    StoreSink,
    ToolCall,
    ToolCallStatus,
    Trigger,
    Viewer,
)
from compass_worker.knowledge.database import create_pool

INCIDENT = Incident(symptom="checkout p99 latency is spiking", service="checkout", signal="latency", at=1.8e9)


def _verdict(component: str = "payments-db", fault: str = "db_slow_queries") -> Verdict:
    return Verdict(
        verdict="root_cause",
        incident=INCIDENT,
        root_causes=(RootCause(component=component, fault=fault, confidence=0.9, summary="slow queries"),),
    )


async def _start(store: KnowledgeStore, key: str = "job-1", user: str = "alice") -> uuid.UUID:
    started = await store.investigations.start(
        idempotency_key=key,
        incident=INCIDENT,
        trigger=Trigger.CLI,
        ownership=Ownership.personal(user),
        requested_by=user,
    )
    return started.record.id


async def test_start_is_idempotent_on_the_job_key(store: KnowledgeStore) -> None:
    first = await store.investigations.start(
        idempotency_key="job-1",
        incident=INCIDENT,
        trigger=Trigger.ALERT,
        ownership=Ownership.team("payments"),
        trigger_ref="fp-123",
    )
    again = await store.investigations.start(
        idempotency_key="job-1",
        incident=INCIDENT,
        trigger=Trigger.ALERT,
        ownership=Ownership.team("payments"),
    )
    assert not first.resumed and again.resumed
    assert again.record.id == first.record.id
    assert again.record.attempts == 2
    assert again.record.incident == INCIDENT
    assert again.record.ownership == Ownership.team("payments")
    assert again.record.trigger_ref == "fp-123"


async def test_concurrent_first_starts_create_one_investigation(store: KnowledgeStore) -> None:
    results = await asyncio.gather(*(_start(store, key="same") for _ in range(5)))
    assert len(set(results)) == 1


async def test_resume_after_restart_sees_everything_persisted(db_url: str) -> None:
    """A worker dies mid-investigation; the retried job, in a new process (new pool), resumes."""
    pool = await create_pool(db_url)
    store = KnowledgeStore(pool, HashingEmbedder())
    investigation_id = await _start(store, key="job-42")
    sink = StoreSink(store.investigations, investigation_id)
    slow = Hypothesis(
        id="payments-db/db_slow_queries", component="payments-db", fault="db_slow_queries", prior=0.3
    )
    deploy = Hypothesis(id="checkout/bad_deploy", component="checkout", fault="bad_deploy", prior=0.2)
    evidence = Evidence(
        source="prometheus",
        query="histogram_quantile(0.99, rate(pg_query_seconds_bucket[5m]))",
        observation="p99 query time 2.3 s (baseline 40 ms)",
        link="http://grafana/explore?x",
        value=2.3,
        stance=Stance.SUPPORTS,
        weight=0.6,
    )
    await sink.emit(HypothesisProposed(t=0.5, hypothesis=slow))
    await sink.emit(HypothesisProposed(t=0.6, hypothesis=deploy))
    await sink.emit(
        CheckStarted(t=1.0, hypothesis_id=slow.id, description="db latency up?", query=evidence.query)
    )
    await sink.emit(EvidenceFound(t=1.5, hypothesis_id=slow.id, evidence=evidence))
    refuted = deploy.model_copy(update={"status": HypothesisStatus.REFUTED, "refuted_because": "no rollout"})
    await sink.emit(HypothesisRefuted(t=1.6, hypothesis=refuted, reason="no rollout"))
    await pool.close()  # the worker dies here, before a verdict

    pool = await create_pool(db_url)
    try:
        store = KnowledgeStore(pool, HashingEmbedder())
        started = await store.investigations.start(
            idempotency_key="job-42",
            incident=INCIDENT,
            trigger=Trigger.CLI,
            ownership=Ownership.personal("alice"),
        )
        assert started.resumed and started.record.status is InvestigationStatus.RUNNING
        snap = await store.investigations.snapshot(investigation_id)
        assert [h.id for h in snap.hypotheses] == [slow.id, deploy.id]
        assert snap.hypotheses[0].evidence == (evidence,)
        assert snap.hypotheses[1].status is HypothesisStatus.REFUTED
        assert snap.hypotheses[1].refuted_because == "no rollout"
        assert snap.checks == (
            Check(hypothesis_id=slow.id, description="db latency up?", source="engine", query=evidence.query),
        )
        assert snap.verdict is None
        await StoreSink(store.investigations, investigation_id).emit(
            VerdictReached(t=9.0, verdict=_verdict())
        )
        done = await store.investigations.snapshot(investigation_id)
        assert done.verdict == _verdict()
        assert done.record.status is InvestigationStatus.COMPLETED and done.record.finished_at is not None
    finally:
        await pool.close()


async def test_a_failed_investigation_is_running_again_when_retried(store: KnowledgeStore) -> None:
    investigation_id = await _start(store)
    await store.investigations.finish(investigation_id, InvestigationStatus.FAILED)
    again = await store.investigations.start(
        idempotency_key="job-1",
        incident=INCIDENT,
        trigger=Trigger.CLI,
        ownership=Ownership.personal("alice"),
    )
    assert again.record.status is InvestigationStatus.RUNNING and again.record.finished_at is None


async def test_unknown_investigation_is_not_found(store: KnowledgeStore) -> None:
    with pytest.raises(NotFound, match="no investigation"):
        await store.investigations.get(uuid.uuid4())
    with pytest.raises(NotFound):
        await store.investigations.record_verdict(uuid.uuid4(), _verdict())


async def test_history_respects_scope(store: KnowledgeStore) -> None:
    mine = await _start(store, key="a", user="alice")
    await _start(store, key="b", user="bob")
    team = (
        await store.investigations.start(
            idempotency_key="c",
            incident=INCIDENT,
            trigger=Trigger.SLACK_THREAD,
            ownership=Ownership.team("payments"),
        )
    ).record.id
    seen = {e.investigation_id for e in await store.investigations.history(Viewer(user="alice"))}
    assert seen == {mine}
    seen = {
        e.investigation_id
        for e in await store.investigations.history(Viewer(user="alice", teams=("payments",)))
    }
    assert seen == {mine, team}


async def test_tool_calls_are_audited(store: KnowledgeStore) -> None:
    investigation_id = await _start(store)
    call = ToolCall(
        investigation_id=investigation_id,
        server="grafana",
        tool="query_prometheus",
        arguments={"expr": "up", "range": {"minutes": 60}},
        status=ToolCallStatus.OK,
        duration_ms=42,
    )
    await store.audit.record(call)
    await store.audit.record(
        call.model_copy(
            update={
                "tool": "update_dashboard",
                "status": ToolCallStatus.DENIED,
                "error": "not on the allowlist",
                "duration_ms": 0,
            }
        )
    )
    calls = await store.audit.calls(investigation_id)
    assert [(c.tool, c.status) for c in calls] == [
        ("query_prometheus", ToolCallStatus.OK),
        ("update_dashboard", ToolCallStatus.DENIED),
    ]
    assert calls[0].arguments == {"expr": "up", "range": {"minutes": 60}}


async def test_cost_ledger_keeps_unknown_prices_apart(store: KnowledgeStore) -> None:
    investigation_id = await _start(store)
    base = LlmCall(
        investigation_id=investigation_id,
        phase="orient",
        provider="anthropic",
        model="claude-x",
        tokens_in=1000,
        tokens_out=200,
        tokens_cached=500,
        usd=Decimal("0.0123"),
        latency_ms=900,
    )
    await store.costs.record(base)
    await store.costs.record(base.model_copy(update={"phase": "summarize", "usd": Decimal("0.0100")}))
    await store.costs.record(base.model_copy(update={"provider": "ollama", "model": "llama3", "usd": None}))
    summary = await store.costs.summary(datetime.now(UTC) - timedelta(days=1))
    assert summary.total.calls == 3
    assert summary.total.usd == Decimal("0.0223")
    assert summary.total.unpriced_calls == 1
    assert {b.key: b.unpriced_calls for b in summary.by_model} == {"claude-x": 0, "llama3": 1}
    assert {b.key: b.calls for b in summary.by_phase} == {"orient": 2, "summarize": 1}
    assert summary.total.tokens_cached == 1500


async def test_slack_channel_team_and_thread_links(store: KnowledgeStore) -> None:
    assert await store.slack.team_for_channel("C1") is None
    await store.slack.map_channel("C1", "payments", "Payments team")
    assert await store.slack.team_for_channel("C1") == "payments"
    investigation_id = await _start(store)
    await store.slack.link_thread(
        "C1", "1700000000.000100", investigation_id, status_message_ts="1700000000.2"
    )
    assert await store.slack.investigation_for_thread("C1", "1700000000.000100") == investigation_id
    assert await store.slack.status_message("C1", "1700000000.000100") == "1700000000.2"
    assert await store.slack.investigation_for_thread("C1", "other") is None

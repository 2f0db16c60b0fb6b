"""The dashboard's read-only queries (knowledge/dashboard.py) and retiring a promoted pattern."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from compass_worker.domain import Incident, Verdict
from compass_worker.domain.models import RootCause
from compass_worker.knowledge import KnowledgeStore
from compass_worker.knowledge.dashboard import InvestigationFilter
from compass_worker.knowledge.errors import NotFound
from compass_worker.knowledge.records import FeedbackChannel, InvestigationStatus, LlmCall, Trigger
from compass_worker.knowledge.scope import Ownership, Viewer
from compass_worker.knowledge.signature import IncidentSignature


async def _investigation(
    store: KnowledgeStore, key: str, symptom: str, service: str, fault: str | None
) -> Incident:
    incident = Incident(symptom=symptom, service=service, at=1_764_000_000)
    started = await store.investigations.start(
        idempotency_key=key, incident=incident, trigger=Trigger.CLI, ownership=Ownership.personal("ann")
    )
    if fault is not None:
        cause = RootCause(component=service, fault=fault, confidence=0.8, summary="s")
        verdict = Verdict(verdict="root_cause", incident=incident, root_causes=(cause,))
        await store.investigations.record_verdict(started.record.id, verdict)
        signature = IncidentSignature(symptom=symptom, components=(service,))
        await store.memory.record_signature(started.record.id, signature)
    return incident


async def test_filters_combine_and_search_is_a_literal_substring(store: KnowledgeStore) -> None:
    await _investigation(store, "a", "checkout p99 above 2s", "checkout", "db_slow_queries")
    await _investigation(store, "b", "payments 100% errors", "payments", "bad_deploy")
    await _investigation(store, "c", "payments slow", "payments", None)  # still running
    q = store.dashboard.investigations

    assert (await q(InvestigationFilter())).total == 3
    assert [
        r.symptom for r in (await q(InvestigationFilter(service="payments", fault="bad_deploy"))).rows
    ] == ["payments 100% errors"]
    assert (await q(InvestigationFilter(status=InvestigationStatus.RUNNING))).rows[
        0
    ].symptom == "payments slow"
    assert [r.symptom for r in (await q(InvestigationFilter(search="100%"))).rows] == ["payments 100% errors"]
    assert (await q(InvestigationFilter(search="_"))).total == 0  # "_" is not a wildcard
    today = datetime.now(UTC).date()
    assert (await q(InvestigationFilter(since=today, until=today))).total == 3
    assert (await q(InvestigationFilter(until=today - timedelta(days=1)))).total == 0
    page = await q(InvestigationFilter(limit=2, offset=2))
    assert len(page.rows) == 1 and page.total == 3
    assert (await q(InvestigationFilter(limit=2, offset=10))).total == 3  # past the end: the count stays

    facets = await store.dashboard.facets()
    assert facets.services == ("checkout", "payments")
    assert facets.faults == ("bad_deploy", "db_slow_queries")


async def test_costs_group_by_day_model_and_phase(store: KnowledgeStore) -> None:
    for model, phase, usd in [("m1", "orient", "0.10"), ("m1", "orient", "0.05"), ("m2", "decide", None)]:
        await store.costs.record(
            LlmCall(investigation_id=None, phase=phase, provider="p", model=model, tokens_in=10, tokens_out=5,
                    usd=Decimal(usd) if usd else None, latency_ms=1)
        )  # fmt: skip
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    costs = await store.dashboard.costs(midnight - timedelta(days=6), midnight)
    assert [(c.model, c.phase, c.calls, c.usd, c.unpriced_calls) for c in costs.cells] == [
        ("m1", "orient", 2, Decimal("0.15"), 0),
        ("m2", "decide", 1, Decimal(0), 1),
    ]
    assert costs.cells[0].day == date.today() or costs.cells[0].day == now.date()
    assert costs.total_usd == Decimal("0.15") and costs.total_calls == 3 and costs.spent_today_tokens == 45


async def test_known_causes_and_retiring_a_promoted_pattern(store: KnowledgeStore) -> None:
    await _investigation(store, "a", "checkout p99 above 2s", "checkout", "db_slow_queries")
    [inv] = (await store.dashboard.investigations(InvestigationFilter())).rows
    await store.feedback.confirm(inv.id, author="ann", channel=FeedbackChannel.CLI)
    [known] = await store.dashboard.known_causes()
    assert known.pattern_id is None and known.ownership == Ownership.personal("ann")
    assert await store.dashboard.signature_ownership(known.signature_id) == Ownership.personal("ann")

    pattern = await store.patterns.promote(
        known.signature_id, Ownership.org(), by="ada", viewer=Viewer(user="ann")
    )
    assert {k.pattern_id for k in await store.dashboard.known_causes()} == {None, pattern.id}
    retired = await store.patterns.retire(pattern.id)
    assert retired.id == pattern.id
    assert [k.signature_id for k in await store.dashboard.known_causes()] == [known.signature_id]
    with pytest.raises(NotFound):
        await store.patterns.retire(pattern.id)

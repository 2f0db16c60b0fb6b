"""Promotion to a wider scope: explicit, widening only, and redacted before anything crosses."""

from __future__ import annotations

import pytest

from compass_worker.domain import Incident, RootCause, Verdict
from compass_worker.knowledge import (
    AnomalyStep,
    Cause,
    FeedbackChannel,
    IncidentSignature,
    InvalidInput,
    KnowledgeStore,
    NotFound,
    Ownership,
    Scope,
    Trigger,
    Viewer,
)

SYMPTOM = (
    "checkout 500s for customer_id=CUST-4471, db at 10.4.2.9 refused password=hunter2 "
    "(ops: jo@corp.example.com)"
)
CAUSE = Cause(component="payments-db", fault="db_slow_queries")


async def _confirmed(store: KnowledgeStore, ownership: Ownership) -> int:
    incident = Incident(symptom=SYMPTOM, at=1.8e9)
    started = await store.investigations.start(
        idempotency_key=f"k-{ownership.scope}", incident=incident, trigger=Trigger.CLI, ownership=ownership
    )
    investigation_id = started.record.id
    signature_id = await store.memory.record_signature(
        investigation_id,
        IncidentSignature(
            symptom=SYMPTOM,
            components=("checkout", "10.4.2.9:5432"),
            fingerprint=(AnomalyStep(component="10.4.2.9:5432", signal="query_duration"),),
        ),
    )
    await store.investigations.record_verdict(
        investigation_id,
        Verdict(
            verdict="root_cause",
            incident=incident,
            root_causes=(
                RootCause(component=CAUSE.component, fault=CAUSE.fault, confidence=0.9, summary="s"),
            ),
        ),
    )
    await store.feedback.confirm(investigation_id, author="alice", channel=FeedbackChannel.SLACK)
    await store.feedback.resolve(
        investigation_id, "rotated token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB", author="alice"
    )
    return signature_id


async def test_promotion_redacts_everything_that_crosses(store: KnowledgeStore) -> None:
    signature_id = await _confirmed(store, Ownership.team("payments"))
    member = Viewer(user="alice", teams=("payments",))
    pattern = await store.patterns.promote(signature_id, Ownership.org(), by="alice", viewer=member)
    assert pattern.ownership.scope is Scope.ORG and pattern.cause == CAUSE
    assert pattern.promoted_from == signature_id

    row = await store.pool.fetchrow("SELECT * FROM incident_signatures WHERE id = $1", pattern.signature_id)
    assert row is not None
    stored = " ".join(str(v) for v in dict(row).values()) + pattern.summary
    for secret in ("CUST-4471", "10.4.2.9", "hunter2", "jo@corp.example.com", "ghp_1234567890"):
        assert secret not in stored
    assert "[REDACTED:" in row["symptom"] and "[REDACTED:token]" in row["resolution"]

    # The whole org now learns from it; the original stays the team's.
    outsider = Viewer(user="mallory")
    redacted = IncidentSignature(symptom=row["symptom"], components=tuple(row["components"]))
    found = await store.memory.similar_incidents(redacted, outsider)
    assert [f.signature_id for f in found] == [pattern.signature_id]
    assert found[0].investigation_id is None and found[0].confirmed == CAUSE
    assert [p.id for p in await store.patterns.list(outsider)] == [pattern.id]


async def test_promotion_must_widen_the_scope(store: KnowledgeStore) -> None:
    signature_id = await _confirmed(store, Ownership.team("payments"))
    member = Viewer(user="alice", teams=("payments",))
    with pytest.raises(InvalidInput, match="must widen the scope"):
        await store.patterns.promote(signature_id, Ownership.team("search"), by="alice", viewer=member)
    with pytest.raises(InvalidInput, match="must widen the scope"):
        await store.patterns.promote(signature_id, Ownership.personal("alice"), by="alice", viewer=member)


async def test_only_visible_confirmed_knowledge_can_be_promoted(store: KnowledgeStore) -> None:
    signature_id = await _confirmed(store, Ownership.personal("alice"))
    with pytest.raises(NotFound):
        await store.patterns.promote(signature_id, Ownership.org(), by="bob", viewer=Viewer(user="bob"))
    started = await store.investigations.start(
        idempotency_key="unconfirmed",
        incident=Incident(symptom="x", at=1.0),
        trigger=Trigger.CLI,
        ownership=Ownership.personal("alice"),
    )
    bare = await store.memory.record_signature(started.record.id, IncidentSignature(symptom="x"))
    with pytest.raises(InvalidInput, match="no confirmed cause"):
        await store.patterns.promote(bare, Ownership.org(), by="alice", viewer=Viewer(user="alice"))
    # Personal → team is a promotion too.
    pattern = await store.patterns.promote(
        signature_id, Ownership.team("payments"), by="alice", viewer=Viewer(user="alice")
    )
    assert pattern.ownership == Ownership.team("payments")

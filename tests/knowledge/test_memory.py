"""Similar incidents, scopes, and priors learned from corrections — on the real store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from compass_worker.domain import Incident, RootCause, Verdict
from compass_worker.knowledge import (
    AnomalyStep,
    Cause,
    FeedbackChannel,
    IncidentSignature,
    InvalidInput,
    KnowledgeStore,
    MiniLMEmbedder,
    Ownership,
    Trigger,
    Viewer,
)
from compass_worker.knowledge.database import create_pool

ALICE = Viewer(user="alice")


async def _investigate(
    store: KnowledgeStore,
    symptom: str,
    said: Cause | None,
    *,
    ownership: Ownership | None = None,
    components: tuple[str, ...] = (),
    fingerprint: tuple[AnomalyStep, ...] = (),
) -> uuid.UUID:
    """An investigation that ended with `said` as its verdict (None: inconclusive), with a signature."""
    incident = Incident(symptom=symptom, at=1.8e9)
    started = await store.investigations.start(
        idempotency_key=str(uuid.uuid4()),
        incident=incident,
        trigger=Trigger.CLI,
        ownership=ownership or Ownership.personal("alice"),
    )
    investigation_id = started.record.id
    await store.memory.record_signature(
        investigation_id, IncidentSignature(symptom=symptom, components=components, fingerprint=fingerprint)
    )
    verdict = (
        Verdict(
            verdict="root_cause",
            incident=incident,
            root_causes=(RootCause(component=said.component, fault=said.fault, confidence=0.8, summary="x"),),
        )
        if said
        else Verdict(verdict="inconclusive", incident=incident)
    )
    await store.investigations.record_verdict(investigation_id, verdict)
    return investigation_id


SLOW_DB = Cause(component="payments-db", fault="db_slow_queries")
POOL = Cause(component="payments-api", fault="db_connection_pool_exhaustion")
DISK = Cause(component="logs-node", fault="disk_full")


async def test_only_incidents_with_a_known_outcome_are_similar(store: KnowledgeStore) -> None:
    unconfirmed = await _investigate(store, "checkout p99 latency is spiking", SLOW_DB)
    sig = IncidentSignature(symptom="checkout p99 latency is spiking")
    assert await store.memory.similar_incidents(sig, ALICE) == []
    await store.feedback.confirm(unconfirmed, author="alice", channel=FeedbackChannel.CLI)
    [found] = await store.memory.similar_incidents(sig, ALICE)
    assert found.investigation_id == unconfirmed
    assert found.confirmed == SLOW_DB and found.wrong is None and found.confirmed_by == "alice"
    assert found.similarity > 0.9


async def test_retrieval_ranks_by_similarity_and_honours_k(store: KnowledgeStore) -> None:
    near = await _investigate(store, "checkout p99 latency is spiking on payments", SLOW_DB)
    far = await _investigate(store, "log volume disk is full on node logs-node", DISK)
    mid = await _investigate(store, "checkout latency is high", POOL)
    for i in (near, far, mid):
        await store.feedback.confirm(i, author="bob", channel=FeedbackChannel.SLACK)
    sig = IncidentSignature(symptom="checkout p99 latency is spiking")
    found = await store.memory.similar_incidents(sig, ALICE, k=5)
    assert [f.investigation_id for f in found] == [near, mid]  # the disk incident is not similar at all
    assert found[0].similarity >= found[1].similarity
    assert len(await store.memory.similar_incidents(sig, ALICE, k=1)) == 1
    with pytest.raises(InvalidInput):
        await store.memory.similar_incidents(sig, ALICE, k=0)


async def test_structured_features_break_ties_between_equal_texts(store: KnowledgeStore) -> None:
    db_first = (
        AnomalyStep(component="payments-db", signal="query_duration", onset_s=10),
        AnomalyStep(component="checkout", signal="latency", onset_s=40),
    )
    app_first = (AnomalyStep(component="checkout", signal="latency", onset_s=10),)
    a = await _investigate(
        store, "checkout is slow", SLOW_DB, components=("checkout", "payments-db"), fingerprint=db_first
    )
    b = await _investigate(store, "checkout is slow", POOL, components=("checkout",), fingerprint=app_first)
    for i in (a, b):
        await store.feedback.confirm(i, author="bob", channel=FeedbackChannel.CLI)
    query = IncidentSignature(
        symptom="checkout is slow", components=("checkout", "payments-db"), fingerprint=db_first
    )
    found = await store.memory.similar_incidents(query, ALICE)
    assert found[0].investigation_id == a


async def test_scopes_personal_team_org(store: KnowledgeStore) -> None:
    text = "checkout p99 latency is spiking"
    own = await _investigate(store, text, SLOW_DB, ownership=Ownership.personal("alice"))
    bobs = await _investigate(store, text, SLOW_DB, ownership=Ownership.personal("bob"))
    team = await _investigate(store, text, SLOW_DB, ownership=Ownership.team("payments"))
    other_team = await _investigate(store, text, SLOW_DB, ownership=Ownership.team("search"))
    org = await _investigate(store, text, SLOW_DB, ownership=Ownership.org())
    for i in (own, bobs, team, other_team, org):
        await store.feedback.confirm(i, author="carol", channel=FeedbackChannel.CLI)
    sig = IncidentSignature(symptom=text)

    async def seen(viewer: Viewer) -> set[uuid.UUID | None]:
        return {f.investigation_id for f in await store.memory.similar_incidents(sig, viewer, k=10)}

    assert await seen(Viewer(user="alice")) == {own, org}
    assert await seen(Viewer(user="alice", teams=("payments",))) == {own, team, org}
    assert await seen(Viewer(user=None, teams=("search",))) == {other_team, org}
    assert await seen(Viewer(user="mallory")) == {org}


async def test_a_correction_raises_the_actual_cause_and_lowers_the_wrong_one(store: KnowledgeStore) -> None:
    wrong_once = await _investigate(store, "checkout p99 latency is spiking", POOL)
    await store.feedback.correct(wrong_once, SLOW_DB, author="alice", channel=FeedbackChannel.SLACK)
    await store.feedback.resolve(wrong_once, "killed the runaway report query", author="alice")
    priors = {
        p.cause: p
        for p in await store.memory.cause_priors(
            IncidentSignature(symptom="checkout p99 latency is spiking"), ALICE
        )
    }
    assert priors[SLOW_DB].weight > 2.5 and priors[SLOW_DB].confirmed == 1
    assert priors[POOL].weight < 0.4 and priors[POOL].rejected == 1
    today = (await store.feedback.corrections(wrong_once))[0].created_at.date().isoformat()
    assert priors[SLOW_DB].citation == (
        f"seen 1× before: 1× payments-db db_slow_queries, confirmed by @alice on {today}; "
        "resolution: killed the runaway report query"
    )
    assert "was wrong" in priors[POOL].citation


async def test_priors_count_repeated_confirmations(store: KnowledgeStore) -> None:
    for author in ("alice", "bob"):
        i = await _investigate(store, "checkout p99 latency is spiking", SLOW_DB)
        await store.feedback.confirm(i, author=author, channel=FeedbackChannel.CLI)
    i = await _investigate(store, "checkout p99 latency is spiking", POOL)
    await store.feedback.confirm(i, author="carol", channel=FeedbackChannel.CLI)
    priors = await store.memory.cause_priors(
        IncidentSignature(symptom="checkout p99 latency is spiking"), ALICE
    )
    assert priors[0].cause == SLOW_DB and priors[0].confirmed == 2
    assert priors[0].citation.startswith("seen 3× before: 2× payments-db db_slow_queries, confirmed by @")
    assert priors[0].weight > priors[1].weight > 1.0


async def test_unrelated_incidents_leave_priors_alone(store: KnowledgeStore) -> None:
    i = await _investigate(store, "log volume disk is full on node logs-node", DISK)
    await store.feedback.confirm(i, author="alice", channel=FeedbackChannel.CLI)
    assert (
        await store.memory.cause_priors(IncidentSignature(symptom="checkout p99 latency is spiking"), ALICE)
        == []
    )


async def test_the_latest_feedback_wins(store: KnowledgeStore) -> None:
    i = await _investigate(store, "checkout p99 latency is spiking", POOL)
    await store.feedback.confirm(i, author="alice", channel=FeedbackChannel.SLACK)
    await store.feedback.correct(i, SLOW_DB, author="bob", channel=FeedbackChannel.CLI)
    [found] = await store.memory.similar_incidents(
        IncidentSignature(symptom="checkout p99 latency is spiking"), ALICE
    )
    assert found.confirmed == SLOW_DB and found.wrong == POOL and found.confirmed_by == "bob"
    assert [c.kind.value for c in await store.feedback.corrections(i)] == ["confirmed", "corrected"]


async def test_confirming_an_inconclusive_investigation_is_refused(store: KnowledgeStore) -> None:
    i = await _investigate(store, "something odd", None)
    with pytest.raises(InvalidInput, match="no root-cause verdict to confirm"):
        await store.feedback.confirm(i, author="alice", channel=FeedbackChannel.CLI)
    record = await store.feedback.correct(i, DISK, author="alice", channel=FeedbackChannel.CLI)
    assert record.wrong is None


async def test_feedback_without_an_engine_signature_still_teaches(store: KnowledgeStore) -> None:
    incident = Incident(symptom="checkout p99 latency is spiking", service="checkout", at=1.8e9)
    started = await store.investigations.start(
        idempotency_key="k", incident=incident, trigger=Trigger.CLI, ownership=Ownership.personal("alice")
    )
    await store.feedback.correct(started.record.id, SLOW_DB, author="alice", channel=FeedbackChannel.CLI)
    found = await store.memory.similar_incidents(
        IncidentSignature(symptom="checkout p99 latency is spiking"), ALICE
    )
    assert [f.investigation_id for f in found] == [started.record.id]
    assert found[0].components == ("checkout",)


async def test_the_current_investigation_is_excluded(store: KnowledgeStore) -> None:
    i = await _investigate(store, "checkout p99 latency is spiking", SLOW_DB)
    await store.feedback.confirm(i, author="alice", channel=FeedbackChannel.CLI)
    sig = IncidentSignature(symptom="checkout p99 latency is spiking")
    assert await store.memory.similar_incidents(sig, ALICE, exclude=i) == []


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    embedder = MiniLMEmbedder()
    embedder.load()
    return embedder


@pytest.fixture
async def semantic_store(db_url: str, minilm: MiniLMEmbedder) -> AsyncIterator[KnowledgeStore]:
    pool = await create_pool(db_url)
    try:
        yield KnowledgeStore(pool, minilm)
    finally:
        await pool.close()


async def test_one_correction_is_recalled_for_a_differently_worded_incident(
    semantic_store: KnowledgeStore,
) -> None:
    """With the real model, memory generalises across wording, and not to unrelated incidents."""
    store = semantic_store
    i = await _investigate(store, "checkout p99 latency is spiking", POOL, components=("checkout",))
    await store.feedback.correct(i, SLOW_DB, author="alice", channel=FeedbackChannel.SLACK)
    look_alike = IncidentSignature(
        symptom="checkout requests are slow, high p99 response time", components=("checkout",)
    )
    priors = await store.memory.cause_priors(look_alike, ALICE)
    assert priors[0].cause == SLOW_DB and priors[0].weight > 1.5
    assert priors[-1].cause == POOL and priors[-1].weight < 1.0
    unrelated = IncidentSignature(
        symptom="search indexer queue backlog keeps growing", components=("search-indexer",)
    )
    assert await store.memory.cause_priors(unrelated, ALICE) == []


async def test_history_search_by_text(semantic_store: KnowledgeStore) -> None:
    store = semantic_store
    a = await _investigate(store, "checkout p99 latency is spiking", SLOW_DB)
    b = await _investigate(store, "disk full on the logging node", DISK)
    found = await store.memory.search("checkout is slow", ALICE, k=2)
    assert [e.investigation_id for e in found] == [a, b]
    assert found[0].verdict == SLOW_DB and found[0].confirmed is None
    with pytest.raises(InvalidInput):
        await store.memory.search("  ", ALICE)

"""Questions over past incidents: parsing without an LLM, search in the store within scopes, the LLM's
widening kept to known names, and `compass ask` as a user runs it."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from compass_testing.fake_llm import Answer, FakeLlmApi, HttpError
from compass_worker.cost.ledger import StoreLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.domain import Incident, RootCause, Verdict
from compass_worker.knowledge.records import Cause, FeedbackChannel, Trigger
from compass_worker.knowledge.scope import Ownership, Viewer
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.questions import answer_lines, known_names, parse_question, search
from compass_worker.questions.widen import widen
from compass_worker.reasoners.anthropic_model import AnthropicModel
from compass_worker.reasoners.privacy import RedactionPolicy

NOW = datetime(2026, 12, 9, 15, 30, tzinfo=UTC)  # a Wednesday
KNOWN = ["payments-db", "payments", "checkout", "orders-db", "session-cache"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "database outages this week",
            {
                "kinds": ("database",),
                "faults": ("dependency_outage",),
                "since": datetime(2026, 12, 7, tzinfo=UTC),
            },
        ),
        (
            "which incidents involved payments-db this month?",
            {"components": ("payments-db",), "since": datetime(2026, 12, 1, tzinfo=UTC)},
        ),
        (
            "bad deploys in the last 3 days that were inconclusive",
            {"faults": ("bad_deploy",), "outcomes": ("inconclusive",), "since": NOW - timedelta(days=3)},
        ),
        (
            "incidents yesterday",
            {"since": datetime(2026, 12, 8, tzinfo=UTC), "until": datetime(2026, 12, 9, tzinfo=UTC)},
        ),
        (
            "last week",
            {"since": datetime(2026, 11, 30, tzinfo=UTC), "until": datetime(2026, 12, 7, tzinfo=UTC)},
        ),
        ("since monday", {"since": datetime(2026, 12, 7, tzinfo=UTC)}),
        ("code_defect incidents on checkout", {"faults": ("code_defect",), "components": ("checkout",)}),
        (
            "cache trouble since 2026-11-01 in <#C0123ABC|incidents>",
            {"kinds": ("cache",), "channels": ("C0123ABC",), "since": datetime(2026, 11, 1, tzinfo=UTC)},
        ),
        ("the payments team's incidents", {"teams": ("payments",), "components": ()}),
        (
            "payments-db slow queries",
            {
                "components": ("payments-db",),
                "kinds": (),
                "faults": ("db_slow_queries", "dependency_latency"),
            },
        ),
        ("what did compass get wrong", {"outcomes": ("corrected",)}),
        ("checkout", {"components": ("checkout",), "since": None}),
    ],
)
def test_questions_are_read_into_filters_without_an_llm(text: str, expected: dict[str, object]) -> None:
    q = parse_question(text, NOW, KNOWN, ["payments", "platform"])
    for field, value in expected.items():
        assert getattr(q, field) == value, field


async def _investigation(
    store: KnowledgeStore, symptom: str, service: str, cause: tuple[str, str] | None, ownership: Ownership
) -> uuid.UUID:
    incident = Incident(symptom=symptom, service=service, at=time.time())
    started = await store.investigations.start(
        idempotency_key=f"test:{uuid.uuid4()}",
        incident=incident,
        trigger=Trigger.CLI,
        ownership=ownership,
        requested_by="alice",
    )
    iid = started.record.id
    if cause is None:
        verdict = Verdict(verdict="inconclusive", incident=incident)
    else:
        rc = RootCause(component=cause[0], fault=cause[1], confidence=0.9, summary="s")
        verdict = Verdict(verdict="root_cause", incident=incident, root_causes=(rc,))
    await store.investigations.record_verdict(iid, verdict)
    return iid


@pytest.fixture
async def history(store: KnowledgeStore) -> dict[str, uuid.UUID]:
    me, payments = Ownership.personal("alice"), Ownership.team("payments")
    ids = {
        "db_down": await _investigation(
            store, "checkout 5xx", "checkout", ("payments-db", "dependency_outage"), payments
        ),
        "db_slow": await _investigation(
            store, "checkout slow", "checkout", ("orders-db", "db_slow_queries"), me
        ),
        "deploy": await _investigation(store, "payments errors", "payments", ("payments", "bad_deploy"), me),
        "unknown": await _investigation(store, "login latency", "auth", None, me),
        "other": await _investigation(
            store, "bob's thing", "payments", ("payments-db", "dependency_outage"), Ownership.personal("bob")
        ),
    }
    await store.slack.link_thread("C0PAY", "1765000000.123456", ids["db_down"])
    # A person corrected one verdict: the correction is what the incident is filed under.
    await store.feedback.correct(
        ids["deploy"],
        Cause(component="payments", fault="config_change"),
        author="carol",
        channel=FeedbackChannel.CLI,
    )
    return ids


async def _ask(store: KnowledgeStore, text: str, viewer: Viewer) -> set[uuid.UUID]:
    components, teams = await known_names(store, viewer)
    q = parse_question(text, datetime.now(UTC), components, teams)
    return {m.investigation_id for m in await search(store, q, viewer)}


async def test_search_matches_filters_within_the_askers_scope(
    store: KnowledgeStore, history: dict[str, uuid.UUID]
) -> None:
    alice = Viewer(user="alice", teams=("payments",))
    assert await _ask(store, "database outages this week", alice) == {history["db_down"]}
    assert await _ask(store, "incidents involving payments-db today", alice) == {history["db_down"]}
    assert await _ask(store, "database problems", alice) == {history["db_down"], history["db_slow"]}
    assert await _ask(store, "config changes", alice) == {history["deploy"]}  # the corrected cause counts
    assert await _ask(store, "bad deploys", alice) == set()
    assert await _ask(store, "inconclusive ones", alice) == {history["unknown"]}
    assert await _ask(store, "what was corrected", alice) == {history["deploy"]}
    assert await _ask(store, "incidents yesterday", alice) == set()
    assert await _ask(store, "payments team incidents", alice) == {history["db_down"]}
    # Scopes: without the team, alice does not see the payments team's incident; bob's stays bob's.
    assert await _ask(store, "database outages", Viewer(user="alice")) == set()
    assert history["other"] not in await _ask(store, "everything this week", alice)


async def test_answers_link_the_thread_or_the_postmortem(
    store: KnowledgeStore, history: dict[str, uuid.UUID]
) -> None:
    alice = Viewer(user="alice", teams=("payments",))
    q = parse_question("database problems", NOW, *await known_names(store, alice))
    lines = answer_lines(q, await search(store, q, alice), "https://acme.slack.com", 20)
    assert lines[0] == "2 investigation(s) match: any database"
    assert any("https://acme.slack.com/archives/C0PAY/p1765000000123456" in line for line in lines)
    assert any(f"compass postmortem {str(history['db_slow'])[:8]}" in line for line in lines)


@pytest.fixture
async def model(fake_llm: FakeLlmApi) -> AsyncIterator[AnthropicModel]:
    m = AnthropicModel(
        "claude-haiku-4-5",
        api_key="sk-ant-test",
        base_url=fake_llm.anthropic_url,
        stream=False,
        timeout_s=5.0,
        max_retries=0,
    )
    yield m
    await m.aclose()


async def test_an_llm_widens_the_reading_with_known_names_only(
    store: KnowledgeStore, fake_llm: FakeLlmApi, model: AnthropicModel
) -> None:
    q = parse_question("anything bad with money stuff? mail me at ops@example.com", NOW, KNOWN)
    assert q.components == () and q.faults == ()
    fake_llm.reset(
        Answer(
            {
                "components": ["payments", "evil-db"],
                "faults": ["bad_deploy", "drop tables"],
                "kinds": ["database", "mainframe"],
                "days_back": 7,
            }
        )
    )
    wide, notice = await widen(
        q,
        NOW,
        KNOWN,
        model=model,
        redaction=RedactionPolicy(),
        ledger=StoreLedger(store),
        prices=PriceTable.load(None),
    )
    assert (wide.components, wide.faults, wide.kinds) == (("payments",), ("bad_deploy",), ("database",))
    assert wide.since == NOW - timedelta(days=7) and "only known names kept" in notice
    assert "ops@example.com" not in fake_llm.requests[0].text  # redacted before it left

    fake_llm.reset(HttpError(503))
    same, notice = await widen(
        q,
        NOW,
        KNOWN,
        model=model,
        redaction=RedactionPolicy(),
        ledger=StoreLedger(store),
        prices=PriceTable.load(None),
    )
    assert same == q and "without it" in notice


async def test_compass_ask_from_the_command_line(db_url: str, store: KnowledgeStore) -> None:
    me = getpass.getuser()
    await _investigation(
        store, "checkout 5xx", "checkout", ("payments-db", "dependency_outage"), Ownership.personal(me)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPASS_LLM")}
    env.update(DATABASE_URL=db_url, COMPASS_EMBEDDER="hashing", COMPASS_LLM="none")
    code, out, err = await _run(
        [sys.executable, "-m", "compass_cli.main", "ask", "database outages today"], env
    )
    assert code == 0, err
    assert out.splitlines()[0].startswith("1 investigation(s) match: any database, dependency_outage, today")
    code, _, err = await _run([sys.executable, "-m", "compass_cli.main", "ask", "  "], env)
    assert code == 2 and err.strip() == "compass: error: the question is empty"


async def _run(argv: list[str], env: dict[str, str]) -> tuple[int | None, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()

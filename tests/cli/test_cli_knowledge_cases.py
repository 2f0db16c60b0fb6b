"""`compass feedback` and `compass history` as a user finds them (real command, real PostgreSQL): fault ids
and components checked against FAULTS.md and the incident, unique id prefixes, asked once, inconclusive
shown as such, and a closed pipe that ends quietly."""

from __future__ import annotations

import getpass
import uuid
from pathlib import Path

import pytest
from clirun import clean_env, compass, into_closed_pipe, one_error_line

from compass_worker.domain import Eliminated, Incident, RootCause, Verdict
from compass_worker.knowledge import KnowledgeStore, Ownership, Trigger
from compass_worker.knowledge.signature import IncidentSignature

INCIDENT = Incident(symptom="checkout p99 latency is spiking", service="checkout", at=1.8e9)


async def _investigation(store: KnowledgeStore, verdict: Verdict, components: tuple[str, ...]) -> uuid.UUID:
    started = await store.investigations.start(
        idempotency_key=str(uuid.uuid4()),
        incident=verdict.incident,
        trigger=Trigger.CLI,
        ownership=Ownership.personal(getpass.getuser()),
    )
    await store.investigations.record_verdict(started.record.id, verdict)
    await store.memory.record_signature(
        started.record.id, IncidentSignature.from_incident(verdict.incident, components)
    )
    return started.record.id


def _root_cause() -> Verdict:
    return Verdict(
        verdict="root_cause",
        incident=INCIDENT,
        root_causes=(
            RootCause(component="payments-db", fault="db_slow_queries", confidence=0.8, summary="slow"),
        ),
        eliminated=(Eliminated(component="cart", fault="bad_deploy", reason="no version change"),),
    )


@pytest.fixture
async def investigation(store: KnowledgeStore) -> uuid.UUID:
    return await _investigation(store, _root_cause(), ("checkout", "payments", "payments-db"))


@pytest.mark.parametrize(
    ("actual", "needle"),
    [
        ("psp-api:exploded", "unknown fault id 'exploded' (valid: cpu_saturation, memory_leak"),
        (
            "payments-db:db_",
            "unknown fault id 'db_' (it could be db_connection_pool_exhaustion, db_slow_queries",
        ),
        (
            "psp-api:db_slow_queries",
            "component 'psp-api' is not in this incident (its components: cart, checkout",
        ),
    ],
)
async def test_feedback_refuses_what_the_incident_cannot_have(
    db_url: str, investigation: uuid.UUID, tmp_path: Path, actual: str, needle: str
) -> None:
    proc = compass(
        "feedback", str(investigation), "--actual", actual, env=clean_env(tmp_path, DATABASE_URL=db_url)
    )
    assert proc.returncode == 2
    assert needle in one_error_line(proc)


async def test_feedback_takes_unique_prefixes_and_asks_only_once(
    db_url: str, investigation: uuid.UUID, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, DATABASE_URL=db_url)
    prefix = str(investigation)[:8]
    first = compass("feedback", prefix, "--actual", "payments-db:db_slow", env=env)  # both prefixes
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"recorded: payments-db db_slow_queries confirmed, by {getpass.getuser()}",
        'Thanks. What resolved it? Add it with --resolution "..."',
    ]
    again = compass("feedback", prefix, "--correct", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"recorded: payments-db db_slow_queries confirmed, by {getpass.getuser()} (already recorded)"
    ]
    short = compass("feedback", prefix[:3], "--correct", env=env)
    assert short.returncode == 2 and "not an investigation id" in one_error_line(short)
    unknown = compass("feedback", "ffff0000", "--correct", env=env)
    if not str(investigation).startswith("ffff0000"):
        assert unknown.returncode == 2 and "no investigation id starts with 'ffff0000'" in one_error_line(
            unknown
        )


async def test_an_ambiguous_prefix_lists_the_candidates(
    store: KnowledgeStore, db_url: str, tmp_path: Path
) -> None:
    ids = [
        (
            await store.investigations.start(
                idempotency_key=str(uuid.uuid4()),
                incident=INCIDENT,
                trigger=Trigger.CLI,
                ownership=Ownership.personal(getpass.getuser()),
            )
        ).record.id
        for _ in range(2)
    ]
    # Two ids that share their first eight characters, as a busy store eventually has.
    for n, old in enumerate(ids):
        await store.pool.execute(
            "UPDATE investigations SET id = $1 WHERE id = $2",
            uuid.UUID(f"abcd1234-0000-4000-8000-00000000000{n}"),
            old,
        )
    proc = compass("feedback", "abcd1234", "--correct", env=clean_env(tmp_path, DATABASE_URL=db_url))
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "'abcd1234' is ambiguous" in line and "abcd1234-0000" in line


async def test_history_says_inconclusive(store: KnowledgeStore, db_url: str, tmp_path: Path) -> None:
    await _investigation(store, Verdict(verdict="inconclusive", incident=INCIDENT), ())
    await _investigation(store, _root_cause(), ())
    proc = compass("history", env=clean_env(tmp_path, DATABASE_URL=db_url))
    assert proc.returncode == 0, proc.stderr
    said = sorted(line.rsplit("→ ", 1)[1].split()[0] for line in proc.stdout.splitlines())
    assert said == ["inconclusive", "payments-db"]


async def test_history_into_a_closed_pipe_ends_quietly(
    store: KnowledgeStore, db_url: str, tmp_path: Path
) -> None:
    for _ in range(3):
        await _investigation(store, _root_cause(), ())
    for argv in (["history"], ["history", "--json"], ["cost", "--json"]):
        code, err = into_closed_pipe(*argv, env=clean_env(tmp_path, DATABASE_URL=db_url))
        assert (code, err) == (141, ""), err

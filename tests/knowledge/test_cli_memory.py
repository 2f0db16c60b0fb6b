"""Memory in `compass investigate`: record → `compass feedback`/`history` → recalled (cited) next time;
and a store that cannot be opened means an investigation without memory, never a failure."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from compass_cli.knowledge import add_knowledge_commands
from compass_cli.memory import open_cli_memory
from compass_worker.domain import Evidence, Incident, RootCause, Verdict
from compass_worker.knowledge import (
    Cause,
    FeedbackChannel,
    KnowledgeSettings,
    KnowledgeStore,
    Ownership,
    PriorPolicy,
    SimilarIncident,
)
from compass_worker.knowledge.priors import compute_priors

INCIDENT = Incident(symptom="checkout p99 latency is spiking", service="checkout", at=1.8e9)
COMPONENTS = frozenset({"checkout", "payments-api", "payments-db"})
VERDICT = Verdict(
    verdict="root_cause",
    incident=INCIDENT,
    root_causes=(
        RootCause(
            component="payments-api",
            fault="db_connection_pool_exhaustion",
            confidence=0.8,
            summary="pool full",
            evidence=(Evidence(source="prometheus", query="max(pool_in_use)", observation="pool at 100 %"),),
        ),
    ),
)


def settings(db_url: str) -> KnowledgeSettings:
    return KnowledgeSettings.model_validate({"DATABASE_URL": db_url, "embedder": "hashing"})


async def cli(argv: list[str], db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """A knowledge command as the root CLI runs it (its own event loop, hence a thread)."""
    return await asyncio.to_thread(_cli, argv, db_url, capsys)


def _cli(argv: list[str], db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="compass")
    add_knowledge_commands(parser.add_subparsers(required=True), settings=lambda: settings(db_url))
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    return capsys.readouterr().out


async def test_recorded_then_corrected_then_recalled_with_a_citation(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    me = getpass.getuser()  # `compass history` shows the local user's personal knowledge
    async with open_cli_memory(settings(db_url)) as memory:
        assert memory.enabled and memory.notice is None and memory.priors is not None
        assert await memory.priors(INCIDENT, COMPONENTS) == []  # nothing learned yet
        investigation_id = await memory.record(INCIDENT, VERDICT)
    assert investigation_id is not None

    assert str(investigation_id) in await cli(["history"], db_url, capsys)
    actual = ["--actual", "payments-db:db_slow_queries", "--by", "alice"]
    await cli(["feedback", str(investigation_id), *actual], db_url, capsys)

    async with open_cli_memory(settings(db_url), user=me) as memory:
        assert memory.priors is not None
        advice = {(a.component, a.fault): a.weight for a in await memory.priors(INCIDENT, COMPONENTS)}
        assert advice[("payments-db", "db_slow_queries")] > 0  # the corrected cause is raised
        assert advice[("payments-api", "db_connection_pool_exhaustion")] < 0  # the wrong one lowered
        assert any("payments-db db_slow_queries" in c and "@alice" in c for c in memory.citations)


async def test_personal_memory_is_not_recalled_for_another_user(db_url: str) -> None:
    async with open_cli_memory(settings(db_url), user="alice") as memory:
        assert memory.priors is not None
        await memory.priors(INCIDENT, COMPONENTS)
        investigation_id = await memory.record(INCIDENT, VERDICT)
    assert investigation_id is not None
    async with KnowledgeStore.open(settings(db_url)) as store:
        await store.feedback.correct(
            investigation_id,
            Cause(component="payments-db", fault="db_slow_queries"),
            author="alice",
            channel=FeedbackChannel.CLI,
        )
    async with open_cli_memory(settings(db_url), user="bob") as memory:
        assert memory.priors is not None
        assert await memory.priors(INCIDENT, COMPONENTS) == []
        assert memory.citations == []


async def test_unreachable_database_means_no_memory_and_a_one_line_notice() -> None:
    unreachable = KnowledgeSettings.model_validate(
        {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/compass", "connect_timeout_s": 2}
    )
    async with open_cli_memory(unreachable, user="alice") as memory:
        assert not memory.enabled and memory.priors is None
        assert memory.notice is not None and memory.notice.startswith("memory off (")
        assert "\n" not in memory.notice
        assert await memory.record(INCIDENT, VERDICT) is None


async def test_embedded_server_that_cannot_start_means_no_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    broken = KnowledgeSettings.model_validate({"DATABASE_URL": None, "data_dir": str(blocker / "compass")})
    async with open_cli_memory(broken, user="alice") as memory:
        assert memory.priors is None
        assert memory.notice is not None and memory.notice.startswith("memory off (")


async def test_an_error_in_the_investigation_is_not_swallowed(db_url: str) -> None:
    with pytest.raises(RuntimeError, match="engine broke"):
        async with open_cli_memory(settings(db_url), user="alice"):
            raise RuntimeError("engine broke")


async def _corrected(db_url: str, verdict: Verdict, actual: Cause) -> None:
    async with open_cli_memory(settings(db_url), user="alice") as memory:
        assert memory.priors is not None
        await memory.priors(INCIDENT, COMPONENTS)
        investigation_id = await memory.record(INCIDENT, verdict)
    assert investigation_id is not None
    async with KnowledgeStore.open(settings(db_url)) as store:
        await store.feedback.correct(investigation_id, actual, author="alice", channel=FeedbackChannel.CLI)


async def test_correcting_an_inconclusive_verdict_lowers_its_leading_candidate(db_url: str) -> None:
    inconclusive = VERDICT.model_copy(update={"verdict": "inconclusive"})
    await _corrected(db_url, inconclusive, Cause(component="payments-db", fault="db_slow_queries"))
    async with open_cli_memory(settings(db_url), user="alice") as memory:
        assert memory.priors is not None
        advice = {(a.component, a.fault): a.weight for a in await memory.priors(INCIDENT, COMPONENTS)}
    assert advice[("payments-db", "db_slow_queries")] == pytest.approx(math.log(10))  # a correction: 10×
    assert advice[("payments-api", "db_connection_pool_exhaustion")] == pytest.approx(-math.log(10))


async def test_a_remembered_cause_on_a_component_this_incident_lacks_is_not_advice(db_url: str) -> None:
    await _corrected(db_url, VERDICT, Cause(component="payments-db", fault="db_slow_queries"))
    async with open_cli_memory(settings(db_url), user="alice") as memory:
        assert memory.priors is not None
        advice = await memory.priors(INCIDENT, frozenset({"checkout", "payments-api"}))
    assert [(a.component, a.fault) for a in advice] == [("payments-api", "db_connection_pool_exhaustion")]


def test_the_closest_past_incident_speaks_loudest() -> None:
    """Templated symptoms make unrelated incidents 0.9+ similar: a near-identical one must dominate."""
    at = datetime(2026, 11, 2, tzinfo=UTC)

    def past(similarity: float, fault: str) -> SimilarIncident:
        return SimilarIncident(
            signature_id=int(similarity * 1000),
            investigation_id=None,
            symptom="checkout 5xx above 25% since 07:22",
            components=("checkout",),
            ownership=Ownership.personal("alice"),
            similarity=similarity,
            confirmed=Cause(component="checkout", fault=fault),
            wrong=Cause(component="checkout", fault="cpu_saturation"),
            confirmed_by="alice",
            confirmed_at=at,
            resolution=None,
        )

    weights = {
        a.cause.fault: a.weight
        for a in compute_priors(
            [past(1.0, "bad_deploy"), past(0.98, "memory_leak"), past(0.95, "dns_failure")], PriorPolicy()
        )
    }
    assert weights["bad_deploy"] == pytest.approx(10.0)
    assert 1.0 < weights["memory_leak"] < 1.5  # 2 points less similar: e^-2 of a vote
    assert "dns_failure" not in weights  # 5 points less similar: a vanishing vote, not cited
    alone = compute_priors([past(0.95, "memory_leak")], PriorPolicy())
    assert alone[0].weight > 5.0  # on its own, the same incident is a strong hint

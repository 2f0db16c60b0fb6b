"""Post-mortem drafts from a real lab investigation recorded in the store, with and without a (fake) model."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from compass_cli.memory import CliMemory
from compass_lab.harness import investigate_scenario, lab_server
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer
from compass_testing.fake_llm import Answer, FakeLlmApi, HttpError
from compass_worker.cost.ledger import StoreLedger, utc_now
from compass_worker.cost.prices import PriceTable
from compass_worker.domain import Incident, Verdict
from compass_worker.domain.events import NullSink
from compass_worker.knowledge.errors import InvalidInput, NotFound
from compass_worker.knowledge.records import Cause, FeedbackChannel
from compass_worker.knowledge.scope import Viewer
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.postmortem import ProseWriter, load_record, render_markdown
from compass_worker.reasoners.anthropic_model import AnthropicModel
from compass_worker.reasoners.privacy import RedactionPolicy
from compass_worker.settings import Settings

SHOWCASE = get_scenario(DEFAULT_SCENARIO_ID)
USER = getpass.getuser()
SECRET = "xoxb-123456789012-1234567890123-abcdefABCDEF1234567890ab"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with lab_server([SHOWCASE], SHOWCASE.id) as server:
        yield server


@pytest.fixture(scope="module")
async def investigated(lab: LabServer) -> tuple[Incident, Verdict]:
    result = await investigate_scenario(lab.url, SHOWCASE, Settings(), NullSink())
    assert result.verdict.confident  # the showcase is found: the draft below has a cause to explain
    return result.verdict.incident, result.verdict


async def _recorded(store: KnowledgeStore, investigated: tuple[Incident, Verdict], symptom: str = "") -> str:
    incident, verdict = investigated
    if symptom:
        incident = incident.model_copy(update={"symptom": symptom})
    investigation_id = await CliMemory(store, USER).record(incident, verdict)
    assert investigation_id is not None
    return str(investigation_id)


async def test_the_template_draft_carries_timeline_cause_evidence_resolution_and_actions(
    store: KnowledgeStore, investigated: tuple[Incident, Verdict]
) -> None:
    iid = await _recorded(store, investigated)
    viewer = Viewer(user=USER)
    resolved = await store.investigations.resolve(iid[:8], viewer)
    await store.feedback.confirm(resolved, author="alice", channel=FeedbackChannel.CLI)
    await store.feedback.resolve(resolved, "failed over to the replica", author="alice")

    record = await load_record(store, resolved)
    md = render_markdown(record)

    truth = f"**{SHOWCASE.truth_component}** — `{SHOWCASE.truth_fault}` (confirmed by @alice"
    assert truth in md
    assert record.evidence and all(e.id.startswith("E") for e in record.evidence)
    assert any(e.link and e.link in md for e in record.evidence)  # "open in Grafana" links survive
    kinds = [e.kind for e in record.timeline]
    assert "anomaly" in kinds and kinds.index("anomaly") < kinds.index("verdict") < kinds.index("resolution")
    anomaly_times = [e.at for e in record.timeline if e.kind == "anomaly"]
    assert anomaly_times == sorted(anomaly_times)  # incident time, in order
    assert "- failed over to the replica" in md
    assert "## Hypotheses eliminated" in md and record.eliminated
    assert any(SHOWCASE.truth_component in a for a in record.actions)
    for section in ("## Summary", "## Impact", "## Timeline", "## Cause", "## Action items", "## Evidence"):
        assert section in md


async def test_a_correction_names_the_cause_and_an_unknown_id_is_refused(
    store: KnowledgeStore, investigated: tuple[Incident, Verdict]
) -> None:
    iid = await _recorded(store, investigated)
    actual = Cause(component="payments", fault="bad_deploy")
    await store.feedback.correct(
        await store.investigations.resolve(iid, Viewer(user=USER)),
        actual,
        author="bob",
        channel=FeedbackChannel.CLI,
    )
    record = await load_record(store, await store.investigations.resolve(iid, Viewer(user=USER)))
    assert record.cause is not None and (record.cause.component, record.cause.fault) == (
        "payments",
        "bad_deploy",
    )
    assert record.cause.basis == "corrected by @bob"
    # The engine's own top cause is still shown, as a contributing factor with its evidence.
    assert record.contributing and record.contributing[0].evidence

    with pytest.raises(NotFound):
        await store.investigations.resolve("ffffffff", Viewer(user=USER))
    with pytest.raises(InvalidInput, match="not an investigation id"):
        await store.investigations.resolve("zz", Viewer(user=USER))
    with pytest.raises(NotFound):  # somebody else's personal investigation is not visible
        await store.investigations.resolve(iid, Viewer(user="mallory"))


@pytest.fixture
async def writer(fake_llm: FakeLlmApi, store: KnowledgeStore) -> AsyncIterator[ProseWriter]:
    model = AnthropicModel(
        "claude-haiku-4-5",
        api_key="sk-ant-test",
        base_url=fake_llm.anthropic_url,
        stream=False,
        timeout_s=5.0,
        max_retries=0,
    )
    try:
        yield ProseWriter(
            model, redaction=RedactionPolicy(), ledger=StoreLedger(store), prices=PriceTable.load(None)
        )
    finally:
        await model.aclose()


async def test_checked_prose_from_a_model_is_used_and_billed(
    store: KnowledgeStore, investigated: tuple[Incident, Verdict], fake_llm: FakeLlmApi, writer: ProseWriter
) -> None:
    iid = await _recorded(store, investigated, symptom=f"{investigated[0].symptom} (token {SECRET})")
    record = await load_record(store, await store.investigations.resolve(iid, Viewer(user=USER)))
    cause = f"{SHOWCASE.truth_component} was at fault [E1]."
    fake_llm.reset(
        Answer(
            {"summary": "A short summary [E1].", "impact": "Users saw errors.", "cause": cause},
            input_tokens=900,
            output_tokens=120,
        )
    )
    before = utc_now()

    prose, notice = await writer.write(record)

    assert prose is not None and prose.cause == cause and "checked against the record" in notice
    md = render_markdown(record, prose, notice)
    assert cause in md and "## Evidence" in md
    sent = fake_llm.requests[0].text
    assert SECRET not in sent and "E1" in sent  # redacted before it left; the record's ids were given
    calls = await StoreLedger(store).calls_since(before)
    assert [(c.call.tokens_in, c.call.tokens_out, c.call.phase) for c in calls] == [(900, 120, "summarize")]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (Answer({"summary": "s", "impact": "i", "cause": "the database [E99]"}), "cites E99"),
        (Answer({"summary": "s [E1]", "impact": "i", "cause": "latency hit 98765 ms [E1]"}), "98765"),
        (Answer({"summary": "s", "impact": "i", "cause": "no citation at all"}), "cites no evidence"),
        (Answer("not json"), "rejected"),
        (HttpError(503), "unavailable"),
    ],
)
async def test_unchecked_prose_never_replaces_the_template(
    store: KnowledgeStore,
    investigated: tuple[Incident, Verdict],
    fake_llm: FakeLlmApi,
    writer: ProseWriter,
    answer: Answer | HttpError,
    why: str,
) -> None:
    iid = await _recorded(store, investigated)
    record = await load_record(store, await store.investigations.resolve(iid, Viewer(user=USER)))
    fake_llm.reset(answer)
    prose, notice = await writer.write(record)
    assert prose is None and why in notice and "template draft" in notice
    assert render_markdown(record, prose, notice) == render_markdown(record, None, notice)


async def test_the_cli_writes_the_draft_whole_and_refuses_bad_ids(
    store: KnowledgeStore, db_url: str, investigated: tuple[Incident, Verdict], tmp_path: Path
) -> None:
    iid = await _recorded(store, investigated)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPASS_LLM")}
    env.update(DATABASE_URL=db_url, COMPASS_EMBEDDER="hashing", COMPASS_LLM="none")
    out = tmp_path / "pm.md"
    cli = [sys.executable, "-m", "compass_cli.main", "postmortem"]
    code, _, err = await _run([*cli, iid[:10], "--out", str(out)], env)
    assert code == 0, err
    written = await asyncio.to_thread(out.read_text)
    assert written.startswith(f"# Post-mortem (draft): {investigated[0].symptom}")
    assert sorted(p.name for p in await asyncio.to_thread(lambda: list(tmp_path.iterdir()))) == ["pm.md"]

    code, _, err = await _run([*cli, "nope!"], env)
    assert code == 2 and err.count("\n") == 1 and "not an investigation id" in err


async def _run(argv: list[str], env: dict[str, str]) -> tuple[int | None, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()

"""An mcp-grafana that crashes mid-investigation costs one retry, not the investigation: the status says
"telemetry server lost — retrying (attempt 2)", a fresh session is opened and the thread gets its verdict."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import asyncpg
import pytest
from reliability_kit import CHANNEL, eventually

from compass_lab.model import Scenario
from compass_testing import FakeSlack
from compass_worker.contracts import InvestigateRequest, SlackThread

pytestmark = pytest.mark.slow


def _our_mcp_grafana() -> list[int]:
    """mcp-grafana processes started by this test process (the in-process worker's sessions)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if comm.startswith("mcp-grafana") and ppid == os.getpid():
            found.append(int(entry.name))
    return found


async def test_a_crashed_mcp_grafana_is_retried_with_a_fresh_session(
    db_url: str, slack: FakeSlack, scenario: Scenario, running_worker: None
) -> None:
    ts = f"{scenario.at:.6f}"
    thread = SlackThread(channel=CHANNEL, thread_ts=ts)
    req = InvestigateRequest(thread=thread, text=scenario.symptom, user="UALICE", at=float(ts))
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "INSERT INTO investigation_jobs (key, payload, updated_at)"
            " VALUES ($1, $2::jsonb, now() - interval '1 minute')",
            thread.investigation_key,
            json.dumps(req.model_dump(mode="json")),
        )
    finally:
        await conn.close()
    await eventually(lambda: bool(_our_mcp_grafana()), 30, "the investigation's mcp-grafana")
    for pid in _our_mcp_grafana():
        os.kill(pid, signal.SIGKILL)
    await eventually(
        lambda: any(
            "telemetry server lost — retrying (attempt 2)" in str(c.args.get("text", ""))
            for c in slack.calls_to("chat.update")
        ),
        30,
        "the status saying the telemetry server was lost",
    )
    await eventually(
        lambda: any(
            isinstance(b, dict) and b.get("type") == "actions"
            for m in slack.thread(CHANNEL, ts)
            for b in m.blocks
        ),
        60,
        "the verdict of the retried attempt",
    )
    assert not [m for m in slack.thread(CHANNEL, ts) if "couldn't reach" in m.text]

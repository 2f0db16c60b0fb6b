"""The ledger on PostgreSQL through the knowledge store, and `compass cost` reading it."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from compass_cli.cost import add_cost_commands
from compass_worker.cost.ledger import StoreLedger
from compass_worker.cost.report import cost_report
from compass_worker.domain.models import Incident
from compass_worker.knowledge import HashingEmbedder, KnowledgeSettings, KnowledgeStore, Ownership, Trigger
from compass_worker.knowledge.database import create_pool
from compass_worker.knowledge.records import LlmCall
from compass_worker.reasoners.settings import LlmSettings

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def _seed(url: str) -> str:
    pool = await create_pool(url)
    try:
        store = KnowledgeStore(pool, HashingEmbedder())
        started = await store.investigations.start(
            idempotency_key="job-1",
            incident=Incident(symptom="checkout 5xx", at=1.0),
            trigger=Trigger.CLI,
            ownership=Ownership.team("payments"),
        )
        inv = started.record.id
        ledger = StoreLedger(store)
        for phase, usd in (("orient", Decimal("0.0031")), ("decide", None), ("summarize", Decimal("0.0012"))):
            await ledger.record(
                LlmCall(
                    investigation_id=inv,
                    phase=phase,
                    provider="anthropic",
                    model="claude-haiku-4-5",
                    tokens_in=3000,
                    tokens_out=120,
                    tokens_cached=1000,
                    usd=usd,
                    latency_ms=800,
                )
            )
        await ledger.record_avoided(inv, "orient", "known pattern")
        spend = await ledger.spend_since(EPOCH)
        assert (spend.calls, spend.tokens, spend.usd, spend.unpriced_calls) == (3, 9360, Decimal("0.0043"), 1)
        report = await cost_report(ledger, llm_configured=True)
        today = report.windows[0]
        assert today.total.calls == 3 and today.investigations == 1
        assert today.most_expensive[0].key == str(inv)
        assert today.calls_avoided == 1
        # the knowledge store's own summary agrees on the same table
        summary = await store.costs.summary(EPOCH)
        assert summary.total.calls == 3 and summary.total.unpriced_calls == 1
        return str(inv)
    finally:
        await pool.close()


async def test_store_ledger_round_trip(cost_db_url: str) -> None:
    await _seed(cost_db_url)


async def test_compass_cost_cli(cost_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    inv = await _seed(cost_db_url)
    parser = argparse.ArgumentParser(prog="compass")
    sub = parser.add_subparsers(dest="command", required=True)
    add_cost_commands(
        sub,
        settings=lambda: KnowledgeSettings(database_url=SecretStr(cost_db_url), _env_file=None),
        llm_settings=lambda: LlmSettings(llm="anthropic:claude-haiku-4-5", _env_file=None),
    )
    args = parser.parse_args(["cost", "--since", "7d", "--by", "investigation", "--json"])
    assert await asyncio.to_thread(args.func, args) == 0  # the command runs its own event loop
    data = json.loads(capsys.readouterr().out)
    (window,) = data["windows"]
    assert window["label"] == "7d" and window["total"]["calls"] == 3 and window["calls_avoided"] == 1
    assert window["by_investigation"][0]["key"] == inv
    args = parser.parse_args(["cost"])
    assert await asyncio.to_thread(args.func, args) == 0
    out = capsys.readouterr().out
    assert "today" in out and "30d" in out and "1 call at unknown price" in out
    args = parser.parse_args(["cost", "--since", "soon"])
    assert await asyncio.to_thread(args.func, args) == 2
    assert "invalid duration" in capsys.readouterr().err


def test_compass_cost_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="compass")
    sub = parser.add_subparsers(dest="command", required=True)
    add_cost_commands(
        sub,
        settings=lambda: KnowledgeSettings(
            database_url=SecretStr("postgresql://u:p@127.0.0.1:9/x"), connect_timeout_s=1, _env_file=None
        ),
        llm_settings=lambda: LlmSettings(_env_file=None),
    )
    args = parser.parse_args(["cost"])
    assert args.func(args) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "compass:" in err

"""The cost report (`compass cost`, `/compass cost`) over the in-memory ledger, and budgets by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from compass_worker.cost.budget import BudgetGuard, Budgets
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.cost.report import NO_LLM, cost_report, render_text, slack_cost_report
from compass_worker.knowledge.records import LlmCall

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def call(inv: UUID | None, phase: str, model: str, tin: int, tout: int, usd: str | None) -> LlmCall:
    return LlmCall(
        investigation_id=inv,
        phase=phase,
        provider="anthropic",
        model=model,
        tokens_in=tin,
        tokens_out=tout,
        tokens_cached=tin // 2,
        usd=None if usd is None else Decimal(usd),
        latency_ms=900,
    )


async def seeded() -> tuple[MemoryLedger, Clock, list[UUID]]:
    clock = Clock()
    ledger = MemoryLedger(clock)
    invs = [uuid4() for _ in range(7)]
    clock.now = NOW - timedelta(days=20)
    await ledger.record(call(invs[0], "orient", "claude-haiku-4-5", 9000, 300, "0.0100"))
    clock.now = NOW - timedelta(days=3)
    await ledger.record(call(invs[1], "summarize", "claude-haiku-4-5", 4000, 200, "0.0050"))
    await ledger.record_avoided(invs[1], "orient", "known pattern")
    clock.now = NOW - timedelta(hours=2)
    for i, inv in enumerate(invs[2:]):
        await ledger.record(call(inv, "orient", "claude-haiku-4-5", 3000 + i, 100, f"0.00{i + 1}"))
        await ledger.record(call(inv, "decide", "new-model", 2000, 100, None))
    await ledger.record_avoided(invs[2], "summarize", "nothing to summarise")
    clock.now = NOW
    return ledger, clock, invs


async def test_slack_view_today_7d_30d() -> None:
    ledger, clock, invs = await seeded()
    report = await slack_cost_report(ledger, llm_configured=True, clock=clock)
    today, week, month = report.windows
    assert [w.label for w in report.windows] == ["today", "7d", "30d"]
    assert (today.total.calls, week.total.calls, month.total.calls) == (10, 11, 12)
    assert today.total.usd == Decimal("0.015") and today.total.unpriced_calls == 5
    assert month.total.usd == Decimal("0.030")
    assert [b.key for b in today.by_phase] == ["decide", "orient"]
    assert {b.key: b.unpriced_calls for b in today.by_model} == {
        "anthropic:claude-haiku-4-5": 0,
        "anthropic:new-model": 5,
    }
    assert today.investigations == 5 and today.avg_usd_per_investigation == Decimal("0.003")
    assert [b.key for b in today.most_expensive] == [
        str(invs[6]),
        str(invs[5]),
        str(invs[4]),
        str(invs[3]),
        str(invs[2]),
    ]
    assert month.most_expensive[0].key == str(invs[0])
    assert (today.calls_avoided, week.calls_avoided) == (1, 2)
    assert week.avoided_by_phase == {"orient": 1, "summarize": 1}
    text = render_text(report)
    assert "5 calls at unknown price" in text and "calls avoided" in text


async def test_no_llm_configured_says_so_and_shows_zero() -> None:
    report = await cost_report(MemoryLedger(), llm_configured=False)
    assert report.note == NO_LLM
    assert all(w.total.calls == 0 and w.total.usd == 0 and w.calls_avoided == 0 for w in report.windows)
    assert render_text(report).startswith("No LLM configured")


async def test_daily_budget_counts_only_today() -> None:
    ledger, clock, _ = await seeded()
    guard = BudgetGuard(Budgets(day_tokens=30_000), ledger, clock)
    assert await guard.allows(3_990, Decimal(0))  # today: 5 × 3,100 + 10 + 5 × 2,100 = 26,010
    assert not await guard.allows(3_991, Decimal(0))
    guard = BudgetGuard(Budgets(day_usd=Decimal("0.02")), ledger, clock)
    assert await guard.allows(10, Decimal("0.005")) and not await guard.allows(10, Decimal("0.0051"))

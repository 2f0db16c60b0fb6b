"""`/compass cost`: the store's cost summary plus what the ledger alone cannot say (investigations in the
period, how many used an LLM, the most expensive). A thin read-only adapter over the store's pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from compass_worker.contracts import CostPeriod
from compass_worker.cost.ledger import StoreLedger
from compass_worker.knowledge.records import CostBucket
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.slack.cost import CostLine, CostReportView


def period_start(period: CostPeriod, now: datetime | None = None) -> datetime:
    ref = now or datetime.now(tz=UTC)
    if period == "today":
        return ref.replace(hour=0, minute=0, second=0, microsecond=0)
    return ref - timedelta(days=7 if period == "7d" else 30)


def _line(b: CostBucket) -> CostLine:
    return CostLine(
        key=b.key,
        calls=b.calls,
        tokens_in=b.tokens_in,
        tokens_out=b.tokens_out,
        usd=float(b.usd),
        unpriced_calls=b.unpriced_calls,
    )


async def cost_report(store: KnowledgeStore, period: CostPeriod, *, llm_configured: bool) -> CostReportView:
    since = period_start(period)
    summary = await store.costs.summary(since)
    async with store.pool.acquire() as conn:
        investigations = await conn.fetchval(
            "SELECT count(*) FROM investigations WHERE started_at >= $1", since
        )
        with_llm = await conn.fetchval(
            "SELECT count(DISTINCT investigation_id) FROM llm_calls WHERE created_at >= $1", since
        )
        top = await conn.fetch(
            "SELECT i.title, sum(c.usd) AS usd FROM llm_calls c"
            " JOIN investigations v ON v.id = c.investigation_id JOIN incidents i ON i.id = v.incident_id"
            " WHERE c.created_at >= $1 AND c.usd IS NOT NULL"
            " GROUP BY v.id, i.title ORDER BY usd DESC LIMIT 5",
            since,
        )
    avoided = await StoreLedger(store).avoided_since(since)
    return CostReportView(
        period=period,
        llm_configured=llm_configured,
        total=_line(summary.total),
        by_model=tuple(_line(b) for b in summary.by_model),
        by_phase=tuple(_line(b) for b in summary.by_phase),
        investigations=int(investigations or 0),
        with_llm=int(with_llm or 0),
        top=tuple((str(r["title"]), float(r["usd"])) for r in top),
        calls_avoided=len(avoided),
    )

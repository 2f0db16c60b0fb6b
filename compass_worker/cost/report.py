"""What investigations cost: the data behind `compass cost` and Slack's `/compass cost`.

Dollars are summed over calls with a known price; calls without one are counted in `unpriced_calls`
and shown as such, so a missing price never reads as "free".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from compass_worker.cost.budget import day_start
from compass_worker.cost.ledger import Clock, CostLedger, RecordedCall, utc_now
from compass_worker.knowledge.records import LlmCall

GroupBy = Literal["model", "phase", "investigation"]
NO_LLM = (
    "No LLM configured (COMPASS_LLM=none): the built-in engine investigates on its own, at no token cost."
)
TOP_N = 5


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Bucket(_Frozen):
    key: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    usd: Decimal = Decimal(0)  # over calls with a known price
    unpriced_calls: int = 0

    def plus(self, c: LlmCall) -> Bucket:
        return Bucket(
            key=self.key,
            calls=self.calls + 1,
            tokens_in=self.tokens_in + c.tokens_in,
            tokens_out=self.tokens_out + c.tokens_out,
            tokens_cached=self.tokens_cached + c.tokens_cached,
            usd=self.usd + (c.usd or Decimal(0)),
            unpriced_calls=self.unpriced_calls + (c.usd is None),
        )


class WindowReport(_Frozen):
    label: str  # "today", "7d", "30d", or the --since text
    since: datetime
    total: Bucket
    by_model: tuple[Bucket, ...]
    by_phase: tuple[Bucket, ...]
    by_investigation: tuple[Bucket, ...]  # most expensive first
    investigations: int
    avg_usd_per_investigation: Decimal | None  # None: no investigation in the window
    avg_tokens_per_investigation: float | None
    most_expensive: tuple[Bucket, ...]  # the TOP_N most expensive investigations
    calls_avoided: int
    avoided_by_phase: dict[str, int]


class CostReport(_Frozen):
    llm_configured: bool
    note: str | None = None
    windows: tuple[WindowReport, ...]


def _group(calls: Iterable[LlmCall], key: Callable[[LlmCall], str]) -> dict[str, Bucket]:
    out: dict[str, Bucket] = {}
    for c in calls:
        k = key(c)
        out[k] = out.get(k, Bucket(key=k)).plus(c)
    return out


def _expensive_first(b: Bucket) -> tuple[Decimal, int]:
    return (-b.usd, -(b.tokens_in + b.tokens_out))


async def window_report(ledger: CostLedger, since: datetime, label: str) -> WindowReport:
    rows: list[RecordedCall] = await ledger.calls_since(since)
    calls = [r.call for r in rows]
    total = Bucket(key="total")
    for c in calls:
        total = total.plus(c)
    per_inv = _group((c for c in calls if c.investigation_id is not None), lambda c: str(c.investigation_id))
    ranked = tuple(sorted(per_inv.values(), key=_expensive_first))
    n = len(ranked)
    avoided = await ledger.avoided_since(since)
    by_phase_avoided: dict[str, int] = {}
    for a in avoided:
        by_phase_avoided[a.phase] = by_phase_avoided.get(a.phase, 0) + 1
    return WindowReport(
        label=label,
        since=since,
        total=total,
        by_model=tuple(
            sorted(_group(calls, lambda c: f"{c.provider}:{c.model}").values(), key=_expensive_first)
        ),
        by_phase=tuple(sorted(_group(calls, lambda c: c.phase).values(), key=lambda b: b.key)),
        by_investigation=ranked,
        investigations=n,
        avg_usd_per_investigation=(sum((b.usd for b in ranked), Decimal(0)) / n).quantize(Decimal("0.000001"))
        if n
        else None,
        avg_tokens_per_investigation=sum(b.tokens_in + b.tokens_out for b in ranked) / n if n else None,
        most_expensive=ranked[:TOP_N],
        calls_avoided=len(avoided),
        avoided_by_phase=dict(sorted(by_phase_avoided.items())),
    )


async def cost_report(
    ledger: CostLedger,
    *,
    llm_configured: bool,
    since: datetime | None = None,
    since_label: str | None = None,
    clock: Clock = utc_now,
) -> CostReport:
    """One window from `since`, or — the `/compass cost` view — today, 7 days and 30 days."""
    now = clock()
    if since is not None:
        spans = [(since_label or since.isoformat(), since)]
    else:
        spans = [
            ("today", day_start(now)),
            ("7d", now - timedelta(days=7)),
            ("30d", now - timedelta(days=30)),
        ]
    windows = tuple([await window_report(ledger, s, label) for label, s in spans])
    return CostReport(llm_configured=llm_configured, note=None if llm_configured else NO_LLM, windows=windows)


async def slack_cost_report(
    ledger: CostLedger, *, llm_configured: bool, clock: Clock = utc_now
) -> CostReport:
    """The data behind Slack's `/compass cost`: today / 7d / 30d."""
    return await cost_report(ledger, llm_configured=llm_configured, clock=clock)


def _usd(b: Bucket) -> str:
    text = f"${b.usd:.4f}" if b.usd < 1 else f"${b.usd:.2f}"
    if b.unpriced_calls:
        text += f" + {b.unpriced_calls} call{'s' if b.unpriced_calls != 1 else ''} at unknown price"
    return text


def _line(b: Bucket) -> str:
    cached = f" ({b.tokens_cached:,} cached)" if b.tokens_cached else ""
    return (
        f"  {b.key:<40} {b.calls:>5} calls  {b.tokens_in:>10,} in{cached}  {b.tokens_out:>8,} out  {_usd(b)}"
    )


def render_text(report: CostReport, by: Iterable[GroupBy] = ("model", "phase")) -> str:
    """Plain text for a terminal or a Slack code block."""
    lines: list[str] = []
    if report.note:
        lines.append(report.note)
    wanted = tuple(by)
    for w in report.windows:
        lines.append(
            f"{w.label} (since {w.since:%Y-%m-%d %H:%M} UTC): {w.total.calls} calls, "
            f"{w.total.tokens_in + w.total.tokens_out:,} tokens, {_usd(w.total)}; "
            f"{w.calls_avoided} calls avoided"
        )
        if w.investigations and w.avg_usd_per_investigation is not None:
            lines.append(
                f"  per investigation: ${w.avg_usd_per_investigation:.4f} and "
                f"{w.avg_tokens_per_investigation or 0:,.0f} tokens on average ({w.investigations})"
            )
        groups: dict[GroupBy, tuple[Bucket, ...]] = {
            "model": w.by_model,
            "phase": w.by_phase,
            "investigation": w.by_investigation,
        }
        for g in wanted:
            if groups[g]:
                lines.append(f" by {g}:")
                lines.extend(_line(b) for b in groups[g])
        if "investigation" not in wanted and w.most_expensive:
            lines.append(f" {len(w.most_expensive)} most expensive investigations:")
            lines.extend(_line(b) for b in w.most_expensive)
    return "\n".join(lines)

"""`/compass cost`: spend and tokens by model and phase, per-investigation average, the most expensive."""

from __future__ import annotations

from dataclasses import dataclass

from compass_worker.slack.blocks import Block, context, escape, fallback_text, pack_lines, section


@dataclass(frozen=True)
class CostLine:
    key: str
    calls: int
    tokens_in: int
    tokens_out: int
    usd: float
    unpriced_calls: int = 0


@dataclass(frozen=True)
class CostReportView:
    period: str
    llm_configured: bool
    total: CostLine
    by_model: tuple[CostLine, ...] = ()
    by_phase: tuple[CostLine, ...] = ()
    investigations: int = 0  # investigations started in the period
    with_llm: int = 0  # of which used an LLM
    top: tuple[tuple[str, float], ...] = ()  # (symptom, usd), most expensive first
    calls_avoided: int = 0  # model calls not made: a known pattern or the built-in engine settled it


def _line(c: CostLine) -> str:
    unpriced = f" (+{c.unpriced_calls} calls at unknown price)" if c.unpriced_calls else ""
    return (
        f"• `{escape(c.key)}` — ${c.usd:.4f} · {c.calls} calls · {c.tokens_in:,} in / {c.tokens_out:,} out"
        f"{unpriced}"
    )


def cost_blocks(view: CostReportView) -> tuple[str, list[Block]]:
    t = view.total
    head = (
        f"*COMPASS cost — {escape(view.period)}*: ${t.usd:.4f} · {t.calls} LLM calls · "
        f"{t.tokens_in:,} tokens in / {t.tokens_out:,} out"
    )
    lines = [head]
    if not view.llm_configured and t.calls == 0:
        lines.append(
            "No LLM is configured: the built-in evidence engine investigates without tokens, so spend is $0."
        )
    avg = t.usd / view.with_llm if view.with_llm else 0.0
    lines.append(f"{view.investigations} investigations · per investigation using an LLM: ${avg:.4f}")
    lines.append(
        f"LLM calls avoided: {view.calls_avoided} (a known pattern or the evidence engine had already "
        f"settled it) · {view.investigations - view.with_llm} investigations needed no LLM at all"
    )
    if view.by_model:
        lines += ["*By model*", *(_line(c) for c in view.by_model)]
    if view.by_phase:
        lines += ["*By phase*", *(_line(c) for c in view.by_phase)]
    if view.top:
        lines.append("*Most expensive investigations*")
        lines += [f"{i}. ${usd:.4f} — {escape(s)}" for i, (s, usd) in enumerate(view.top[:5], start=1)]
    blocks: list[Block] = [section(x) for x in pack_lines(lines)][:49]
    blocks.append(context("read from the cost ledger"))
    return fallback_text(f"COMPASS cost — {view.period}: ${t.usd:.4f}"), blocks

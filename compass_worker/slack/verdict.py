"""The verdict as a Block Kit message: ranked causes with confidence and evidence (each line linking to
the same query in Grafana), what was eliminated and why, the gaps, and ✅ / ❌ buttons.

Honest failure wording comes from PRODUCT.md: no clear hypothesis → what was observed; everything
disproven → what was eliminated and the observability gap.
"""

from __future__ import annotations

from compass_worker.slack.blocks import (
    Block,
    BlockList,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    fallback_text,
    header,
    link,
    pack_lines,
    section,
)
from compass_worker.slack.views import CauseView, EvidenceLine, VerdictView

CONFIRM_ACTION = "compass_confirm"
WRONG_ACTION = "compass_wrong"
MAX_EVIDENCE_PER_CAUSE = 6
MAX_CAUSES = 5
MIN_SHOWN_CONFIDENCE = 0.05
MAX_QUERY_CHARS = 300


def _evidence_line(e: EvidenceLine) -> str:
    query = clip(e.query, MAX_QUERY_CHARS)
    opened = f" · {link(e.link, 'open in Grafana')}" if e.link else ""
    return f"• [{escape(e.source)}] {escape(e.observation)}{opened}\n    `{escape(query)}`"


def _cause_text(rank: int, cause: CauseView) -> str:
    return (
        f"*{rank}. {escape(cause.component)} · {escape(cause.fault)}* — confidence *{cause.confidence:.0%}*\n"
        f"{escape(cause.summary)}"
    )


def verdict_title(view: VerdictView) -> str:
    if view.confident and view.causes:
        top = view.causes[0]
        return f"Root cause: {top.component} · {top.fault} ({top.confidence:.0%})"
    if view.hypotheses_formed == 0 and not view.eliminated:
        return "I couldn't form a clear hypothesis — here is what I observed"
    if view.eliminated and not view.causes:
        return "All hypotheses disproven — observability gap"
    return "Inconclusive — no hypothesis survived with enough evidence"


def _first_link(view: VerdictView) -> str:
    for cause in view.causes:
        for e in cause.evidence:
            if e.link:
                return link(e.link, "open the evidence in Grafana")
    return ""


def verdict_blocks(view: VerdictView) -> tuple[str, list[Block]]:
    """(fallback text, blocks) — always within Slack's limits."""
    more = _first_link(view)
    out = BlockList(reserve=2)  # footer context + buttons always fit
    out.add(header(verdict_title(view)))
    for notice in view.notices:
        out.add(section(f":information_source: {escape(notice)}"))
    if view.narrative:
        out.add(section(escape(view.narrative)))
    causes = view.causes[:MAX_CAUSES] if view.confident else view.causes[:3]
    if view.confident:  # the runner-ups that are practically ruled out are counted, not listed
        causes = causes[:1] + tuple(c for c in causes[1:] if c.confidence >= MIN_SHOWN_CONFIDENCE)
    if causes and not view.confident:
        out.add(section("*Candidates that were not ruled out (too little evidence):*"))
    for rank, cause in enumerate(causes, start=1):
        out.add(section(_cause_text(rank, cause), more=more))
        lines = [_evidence_line(e) for e in cause.evidence[:MAX_EVIDENCE_PER_CAUSE]]
        if len(cause.evidence) > MAX_EVIDENCE_PER_CAUSE:
            lines.append(f"…and {len(cause.evidence) - MAX_EVIDENCE_PER_CAUSE} more evidence lines")
        for text in pack_lines(lines):
            out.add(section(text, more=more))
    if view.runbooks:
        lines = ["*Runbooks:*", *(f"📖 {link(url, title)}" for title, url in view.runbooks)]
        for text in pack_lines(lines):
            out.add(section(text))
    hidden = len(view.causes) - len(causes)
    if hidden > 0:
        out.add(context(f"{hidden} other candidate(s) below {MIN_SHOWN_CONFIDENCE:.0%} confidence not shown"))
    if not view.confident and view.observations:
        lines = ["*What I observed:*", *(f"• {escape(o)}" for o in view.observations[:15])]
        for text in pack_lines(lines):
            out.add(section(text))
    if view.eliminated:
        out.add(divider())
        lines = [f"*Eliminated ({len(view.eliminated)}):*"]
        lines += [
            f"✘ {escape(e.component)} · {escape(e.fault)} — {escape(e.reason)}" for e in view.eliminated
        ]
        for text in pack_lines(lines):
            out.add(section(text))
    if view.gaps:
        lines = ["*Observability gaps:*", *(f"∅ {escape(g)}" for g in view.gaps)]
        for text in pack_lines(lines):
            out.add(section(text))
    blocks = out.finish(more)
    blocks.append(context(_footer(view)))
    blocks.append(
        actions(
            button("✅ Correct", CONFIRM_ACTION, view.investigation_key, "primary"),
            button("❌ Wrong", WRONG_ACTION, view.investigation_key, "danger"),
            block_id="compass_feedback",
        )
    )
    return fallback_text(verdict_title(view)), blocks


def _footer(view: VerdictView) -> str:
    first = (
        f"first hypothesis {view.first_hypothesis_s:.1f}s · " if view.first_hypothesis_s is not None else ""
    )
    cost = "LLM: none" if view.llm_calls == 0 else f"LLM {view.llm_calls} calls"
    if view.llm_calls and view.cost_usd is not None:
        cost += f", ${view.cost_usd:.4f}"
    return (
        f"{first}verdict {view.verdict_s:.1f}s · {view.tool_calls} tool calls · {cost} · "
        "reply in this thread to correct me or ask a follow-up"
    )

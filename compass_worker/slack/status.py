"""The status message the bot posts at once and the worker keeps up to date with chat.update."""

from __future__ import annotations

from compass_worker.slack.blocks import Block, context, escape, fallback_text, section
from compass_worker.slack.views import StatusView

INITIAL_TEXT = "Investigating … 0 hypotheses"


def status_text(view: StatusView) -> str:
    if view.state == "failed":
        return f"Investigation stopped: {view.failure or 'an internal error'}"
    if view.state == "done":
        return (
            f"Investigation finished in {view.elapsed_s:.1f}s: {view.hypotheses} hypotheses, "
            f"{view.refuted} refuted, {view.supported} supported — verdict below"
        )
    alive = view.hypotheses - view.refuted
    return (
        f"Investigating … {view.hypotheses} hypotheses ({alive} alive, {view.refuted} refuted) · {view.phase}"
    )


def status_blocks(view: StatusView) -> list[Block]:
    icon = {"running": ":hourglass_flowing_sand:", "done": ":white_check_mark:", "failed": ":warning:"}
    blocks: list[Block] = [section(f"{icon.get(view.state, '')} *{escape(status_text(view))}*")]
    lines: list[str] = []
    if view.state == "running" and view.detail:
        lines.append(escape(view.detail))
    if view.leading and view.state == "running":
        lines.append("leading: " + ", ".join(escape(x) for x in view.leading[:3]))
    lines.extend(escape(n) for n in view.notes[:5])
    if view.checks:
        lines.append(f"{view.checks} checks run · {view.elapsed_s:.1f}s")
    if lines:
        blocks.append(context("\n".join(lines)))
    return blocks


def initial_status() -> tuple[str, list[Block]]:
    view = StatusView()
    return fallback_text(INITIAL_TEXT), status_blocks(view)

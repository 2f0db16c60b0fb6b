"""Short thread replies and ephemeral texts (corrections, follow-ups, failures, help, status, cost)."""

from __future__ import annotations

from dataclasses import dataclass

from compass_worker.slack.blocks import Block, context, escape, fallback_text, link, pack_lines, section
from compass_worker.slack.views import EvidenceLine

THANKS_CORRECTION = "Thanks for the correction. What actually resolved it?"
THANKS_CONFIRM = "Thanks — recorded as confirmed. I'll rank this cause higher next time."
THANKS_RESOLUTION = "Thanks — I've stored that as the resolution and will remember it for similar incidents."

HELP = "\n".join(
    [
        "*COMPASS* investigates incidents against your telemetry and reports here with evidence.",
        "• `@compass checkout p99 latency is spiking since 14:00` — start an investigation in that thread",
        "• reply in the thread: `no — it was the payments-db failover` to correct me, "
        "or ask `did the 14:02 deploy touch payments?`",
        "• `@compass write the post-mortem` in an investigation's thread, or `/compass postmortem <id>`",
        "• `@compass which incidents involved payments-db this month?`, or `/compass ask <question>`",
        "• `/compass cost [today|7d|30d]` — what investigations cost (tokens and $ by model and phase)",
        "• `/compass status` — running investigations, queue depth, integration health",
        "• `/compass help` — this text",
    ]
)


def finding_text(component: str, fault: str, observation: str, ev_link: str | None) -> str:
    opened = f" ({link(ev_link, 'Grafana')})" if ev_link else ""
    return (
        f":mag: Leading hypothesis: *{escape(component)} · {escape(fault)}* — {escape(observation)}{opened}"
    )


def failure_text(reason: str) -> str:
    return f":warning: I couldn't investigate: {reason}. Nothing was concluded."


def unreachable_text(reason: str) -> str:
    return (
        f":warning: I couldn't reach any telemetry source ({reason}), so I could not test any hypothesis. "
        "Check the MCP configuration (COMPASS_MCP_CONFIG) and try again."
    )


@dataclass(frozen=True)
class FollowUpItem:
    component: str
    fault: str
    status: str  # supported | refuted | proposed | untestable | testing
    note: str
    evidence: tuple[EvidenceLine, ...] = ()


def follow_up_blocks(
    question: str, items: list[FollowUpItem], unknown: str | None
) -> tuple[str, list[Block]]:
    if unknown is not None:
        text = f"About “{escape(question)}”: {escape(unknown)}"
        return fallback_text(text), [section(text)]
    lines = [f"*About “{escape(question)}”:*"]
    icon = {"supported": "✔", "refuted": "✘", "untestable": "∅"}
    for item in items[:10]:
        lines.append(
            f"{icon.get(item.status, '•')} *{escape(item.component)} · {escape(item.fault)}* "
            f"— {escape(item.status)}: {escape(item.note)}"
        )
        for e in item.evidence[:3]:
            opened = f" · {link(e.link, 'open in Grafana')}" if e.link else ""
            lines.append(f"    • {escape(e.observation)}{opened}")
    blocks: list[Block] = [section(t) for t in pack_lines(lines)][:48]
    blocks.append(context("answered from the evidence this investigation gathered"))
    return fallback_text(f"About “{question}”"), blocks

"""Block Kit primitives that respect Slack's limits, so a message can always be posted.

Slack rejects a message with more than 50 blocks (`invalid_blocks`), a section whose text exceeds 3,000
characters, a header over 150, a button label over 75, a link URL over 3,000; the top-level `text` fallback
over 40,000 is `msg_too_long`. Everything here truncates instead (with "…" and, when there is one, a link to
the rest), so a long investigation degrades to a shorter message, never to a failed post.
"""

from __future__ import annotations

from typing import Final

from pydantic import JsonValue

Block = dict[str, JsonValue]

MAX_BLOCKS: Final = 50
MAX_SECTION_TEXT: Final = 3000
MAX_HEADER_TEXT: Final = 150
MAX_BUTTON_TEXT: Final = 75
MAX_URL: Final = 3000
MAX_FALLBACK_TEXT: Final = 3000  # well under msg_too_long (40,000): notifications show little anyway
ELLIPSIS: Final = "…"


def escape(text: str) -> str:
    """mrkdwn control characters (Slack's own escaping rule: only &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """A mrkdwn link; `|` and `>` in the URL would end it early, so they are percent-encoded. A URL longer
    than Slack accepts is not linked (a cut URL opens the wrong query): the label stays, marked as such."""
    safe = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    if len(safe) > MAX_URL:
        return f"{escape(label)} (link too long for Slack)"
    return f"<{safe}|{escape(label)}>"


def clip(text: str, limit: int, more: str = "") -> str:
    """`text` cut to `limit` characters with "…" (and `more`, e.g. a link, appended within the limit)."""
    if len(text) <= limit:
        return text
    tail = ELLIPSIS + (f" {more}" if more else "")
    if len(tail) >= limit:  # a link longer than the room left: drop the link, keep the text
        tail = ELLIPSIS
    return text[: limit - len(tail)].rstrip() + tail


def section(text: str, *, more: str = "") -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT, more)}}


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT), "emoji": True},
    }


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, style: str | None = None) -> JsonValue:
    b: dict[str, JsonValue] = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        b["style"] = style
    return b


def actions(*elements: JsonValue, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def pack_lines(lines: list[str], *, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Join lines into as few texts of at most `limit` characters as possible (a long line is clipped)."""
    texts: list[str] = []
    current = ""
    for raw in lines:
        line = clip(raw, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            texts.append(current)
            current = line
        else:
            current = candidate
    if current:
        texts.append(current)
    return texts


class BlockList:
    """Blocks capped at Slack's 50, keeping room for a footer: what does not fit is counted, not lost
    silently — `finish()` adds one line saying how much was left out and where to see it."""

    def __init__(self, *, reserve: int = 0, limit: int = MAX_BLOCKS) -> None:
        self._blocks: list[Block] = []
        self._room = limit - reserve - 1  # one for the "… n more" notice
        self.dropped = 0

    def add(self, block: Block) -> bool:
        if len(self._blocks) >= self._room:
            self.dropped += 1
            return False
        self._blocks.append(block)
        return True

    def finish(self, more: str = "") -> list[Block]:
        blocks = list(self._blocks)
        if self.dropped:
            blocks.append(context(f"{ELLIPSIS} {self.dropped} more part(s) not shown here. {more}".rstrip()))
        return blocks


def fallback_text(text: str) -> str:
    return clip(text, MAX_FALLBACK_TEXT)

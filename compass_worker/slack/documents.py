"""Longer documents in a thread — a post-mortem draft, a list of past incidents — as Block Kit.

Markdown headings become bold lines, table rows become bullet lines (Slack has no tables), links become
Slack links; the text is packed into sections within Slack's limits, and what does not fit is counted."""

from __future__ import annotations

import re

from compass_worker.slack.blocks import (
    Block,
    BlockList,
    escape,
    fallback_text,
    header,
    link,
    pack_lines,
    section,
)

_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def _inline(text: str) -> str:
    """Markdown links → Slack links; everything else escaped."""
    out, last = [], 0
    for m in _MD_LINK.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(link(m.group(2), m.group(1)))
        last = m.end()
    out.append(escape(text[last:]))
    return "".join(out).replace("**", "*")


def _line(md: str) -> str | None:
    if md.startswith("|---"):
        return None
    if md.startswith("|"):
        cells = [c.strip() for c in md.strip("|").split(" | ")]
        return "• " + " · ".join(_inline(c) for c in cells if c)
    if md.startswith("#"):
        return f"*{_inline(md.lstrip('#').strip())}*"
    if md.startswith("> "):
        return f"_{_inline(md[2:])}_"
    return _inline(md)


def markdown_blocks(title: str, markdown: str, *, more: str = "") -> tuple[str, list[Block]]:
    """(fallback text, blocks) of a Markdown document; the first `# ` heading is the message header."""
    body = markdown.splitlines()
    if body and body[0].startswith("# "):
        body = body[1:]
    lines = [line for md in body if (line := _line(md)) is not None]
    while lines and not lines[0].strip():
        lines.pop(0)
    out = BlockList()
    out.add(header(title))
    for text in pack_lines(lines):
        if text.strip():
            out.add(section(text))
    return fallback_text(title), out.finish(more)

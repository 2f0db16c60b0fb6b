"""How values are shown to a person: percentages that never overstate, causes in rank order, links."""

from __future__ import annotations

import math
import os
import shutil
import sys
from dataclasses import dataclass

from compass_worker.domain.models import RootCause, Verdict

DEFAULT_WIDTH = 100  # for pipes and files, when neither the terminal nor COLUMNS says otherwise
SHOWN = 8  # eliminated causes / gaps listed before "and N more (see --json)"


def pct(confidence: float) -> str:
    """0.995 → "99 %": rounded down, so "100 %" means certain and nothing less is shown as certain."""
    if confidence >= 1.0:
        return "100 %"
    if 0 < confidence < 0.01:
        return "<1 %"
    return f"{math.floor(confidence * 100)} %"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ranked(v: Verdict) -> list[RootCause]:
    """Root causes by confidence, highest first (stable: the engine's order breaks ties)."""
    return sorted(v.root_causes, key=lambda rc: -rc.confidence)


def more(total: int, shown: int) -> str | None:
    return f"… and {total - shown} more (see --json)" if total > shown else None


def width() -> int:
    """The terminal's width, or COLUMNS, or DEFAULT_WIDTH for a pipe."""
    if os.environ.get("COLUMNS", "").isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


def color_off(no_color_flag: bool) -> bool:
    return no_color_flag or bool(os.environ.get("NO_COLOR"))


@dataclass(frozen=True)
class Link:
    number: int
    url: str


def evidence_links(v: Verdict) -> dict[str, Link]:
    """Every distinct evidence link of the verdict, numbered in the order they are shown."""
    links: dict[str, Link] = {}
    for rc in ranked(v):
        for e in rc.evidence:
            if e.link and e.link not in links:
                links[e.link] = Link(len(links) + 1, e.link)
    return links


def cost_text(v: Verdict) -> str:
    c = v.cost
    if not c.llm_calls:
        return "LLM: none"
    tokens = f"{c.input_tokens + c.output_tokens:,} tokens"
    usd = f"${c.usd:.4f}"
    unpriced = f" + {c.unpriced_calls} calls at unknown price" if c.unpriced_calls else ""
    return f"LLM {c.llm_calls} calls · {tokens} · {usd}{unpriced}"

"""Rendering a verdict: the boxed terminal view (links in full below the box), and the `--json` contract.

Live progress while it runs is in `sinks.py`; markdown for tickets in `markdown.py`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from compass_cli.display import SHOWN, cost_text, evidence_links, more, pct, ranked
from compass_worker.domain.models import Verdict


def verdict_json(v: Verdict, *, no_telemetry: bool = False) -> dict[str, object]:
    """The stable `--json` contract (DESIGN.md); root causes by confidence, highest first. `verdict` keeps
    its two values; `no_telemetry: true` says every telemetry query failed (exit 4)."""
    return {
        "verdict": v.verdict,
        "no_telemetry": no_telemetry,
        "root_causes": [
            {
                "component": rc.component,
                "fault": rc.fault,
                "confidence": rc.confidence,
                "summary": rc.summary,
                "evidence": [
                    {"source": e.source, "query": e.query, "observation": e.observation, "link": e.link}
                    for e in rc.evidence
                ],
            }
            for rc in ranked(v)
        ],
        "eliminated": [
            {"component": e.component, "fault": e.fault, "reason": e.reason} for e in v.eliminated
        ],
        "gaps": list(v.gaps),
        "observations": list(v.observations),
        "memory": list(v.memory),
        "notices": list(v.notices),
        "narrative": v.narrative,
        "timings": {"first_hypothesis_s": v.timings.first_hypothesis_s, "verdict_s": v.timings.verdict_s},
        "tool_calls": v.tool_calls,
        "cost": v.cost.model_dump(),
        "incident": {
            "symptom": v.incident.symptom,
            "service": v.incident.service,
            "at": datetime.fromtimestamp(v.incident.at, tz=UTC).isoformat(),
            "window_s": v.incident.window_s,
        },
    }


def dumps(v: Verdict, *, no_telemetry: bool = False) -> str:
    return json.dumps(verdict_json(v, no_telemetry=no_telemetry), ensure_ascii=False)


def _linked(number: int, url: str) -> Text:
    # A terminal hyperlink where the terminal supports them; the full URL is printed below the box.
    return Text(f"[{number}]", style=f"link {url}")


def verdict_panel(v: Verdict) -> RenderableType:
    links = evidence_links(v)
    causes = ranked(v)
    parts: list[RenderableType] = []
    if v.verdict == "root_cause" and causes:
        top = causes[0]
        parts.append(
            Text(
                f"ROOT CAUSE  {top.component} · {top.fault}  ({pct(top.confidence)} confidence)",
                style="bold green",
            )
        )
        parts.append(Text(top.summary))
        for e in top.evidence:
            item = Text(f"  • [{e.source}] {e.observation} ")
            if e.link:
                item.append_text(_linked(links[e.link].number, e.link))
            parts.append(item)
            parts.append(Text(f"      {e.query}", style="dim"))
        others = causes[1:]
    else:
        parts.append(Text("INCONCLUSIVE — no hypothesis survived with enough evidence", style="bold yellow"))
        for o in v.observations[:5]:
            parts.append(Text(f"  observed: {o}"))
        if extra := more(len(v.observations), 5):
            parts.append(Text(f"  {extra}", style="dim"))
        others = causes
    if others:
        t = Table(
            title="other candidates" if v.verdict == "root_cause" else "candidates (not enough evidence)"
        )
        for col in ("component", "fault", "confidence"):
            t.add_column(col)
        for rc in others:
            t.add_row(rc.component, rc.fault, pct(rc.confidence))
        parts.append(t)
    for line in v.memory[:3]:
        parts.append(Text(f"  memory: {line}", style="cyan"))
    for line in v.notices:
        parts.append(Text(f"  note: {line}", style="yellow"))
    if v.narrative:
        parts.append(Text(v.narrative))
    if v.eliminated:
        parts.append(Text(f"eliminated ({len(v.eliminated)}):", style="bold"))
        for el in v.eliminated[:SHOWN]:
            parts.append(Text(f"  ✘ {el.component} {el.fault}: {el.reason}", style="red"))
        if extra := more(len(v.eliminated), SHOWN):
            parts.append(Text(f"  {extra}", style="dim"))
    if v.gaps:
        parts.append(Text(f"observability gaps ({len(v.gaps)}):", style="bold"))
        for g in v.gaps[:SHOWN]:
            parts.append(Text(f"  ∅ {g}", style="magenta"))
        if extra := more(len(v.gaps), SHOWN):
            parts.append(Text(f"  {extra}", style="dim"))
    first = v.timings.first_hypothesis_s
    timing = f"first hypothesis {first:.1f} s · " if first is not None else ""
    parts.append(
        Text(
            f"{timing}verdict {v.timings.verdict_s:.1f} s · {v.tool_calls} tool calls · {cost_text(v)}",
            style="dim",
        )
    )
    return Panel(Group(*parts), title="COMPASS verdict", border_style="green" if v.confident else "yellow")


def print_verdict(console: Console, v: Verdict) -> None:
    """The box, then every evidence link in full on its own line (never cut, never wrapped by us)."""
    console.print(verdict_panel(v))
    links = evidence_links(v)
    if not links:
        return
    console.print("links:", style="bold")
    for link in links.values():
        # soft_wrap: the terminal may wrap a long URL for display, but it stays one selectable line.
        console.print(Text(f"  [{link.number}] ").append(link.url, style=f"link {link.url}"), soft_wrap=True)

"""Terminal rendering of an investigation: a live view (rich) or plain lines, and the JSON verdict."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from compass_worker.domain.events import (
    CheckStarted,
    Event,
    EvidenceFound,
    GapFound,
    HypothesisProposed,
    HypothesisRefuted,
    HypothesisSupported,
    Observed,
    PhaseStarted,
    VerdictReached,
)
from compass_worker.domain.models import Hypothesis, HypothesisStatus, Verdict

_STATUS_STYLE = {
    HypothesisStatus.PROPOSED: ("…", "dim"),
    HypothesisStatus.TESTING: ("?", "yellow"),
    HypothesisStatus.SUPPORTED: ("✔", "green"),
    HypothesisStatus.REFUTED: ("✘", "red"),
    HypothesisStatus.UNTESTABLE: ("∅", "magenta"),
}


def verdict_json(v: Verdict) -> dict[str, object]:
    """The stable `--json` contract (DESIGN.md)."""
    return {
        "verdict": v.verdict,
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
            for rc in v.root_causes
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


def dumps(v: Verdict) -> str:
    return json.dumps(verdict_json(v), ensure_ascii=False)


def verdict_panel(v: Verdict) -> RenderableType:
    parts: list[RenderableType] = []
    if v.verdict == "root_cause":
        top = v.root_causes[0]
        parts.append(
            Text(f"ROOT CAUSE  {top.component} · {top.fault}  ({top.confidence:.0%})", style="bold green")
        )
        parts.append(Text(top.summary))
        for e in top.evidence:
            parts.append(Text(f"  • [{e.source}] {e.observation}"))
            parts.append(Text(f"      {e.query}", style="dim"))
            if e.link:
                parts.append(Text(f"      {e.link[:160]}", style="dim blue"))
    else:
        parts.append(Text("INCONCLUSIVE — no hypothesis survived with enough evidence", style="bold yellow"))
        for o in v.observations[:5]:
            parts.append(Text(f"  observed: {o}"))
    if len(v.root_causes) > (1 if v.verdict == "root_cause" else 0):
        t = Table(title="other candidates", show_header=True, header_style="bold")
        for col in ("component", "fault", "confidence"):
            t.add_column(col)
        for rc in v.root_causes[1 if v.verdict == "root_cause" else 0 :]:
            t.add_row(rc.component, rc.fault, f"{rc.confidence:.0%}")
        parts.append(t)
    for line in v.memory[:3]:
        parts.append(Text(f"  memory: {line}", style="cyan"))
    for line in v.notices:
        parts.append(Text(f"  note: {line}", style="yellow"))
    if v.narrative:
        parts.append(Text(v.narrative))
    if v.eliminated:
        parts.append(Text("eliminated:", style="bold"))
        for el in v.eliminated[:8]:
            parts.append(Text(f"  ✘ {el.component} {el.fault}: {el.reason}", style="red"))
    if v.gaps:
        parts.append(Text("observability gaps:", style="bold"))
        for g in v.gaps[:8]:
            parts.append(Text(f"  ∅ {g}", style="magenta"))
    first = v.timings.first_hypothesis_s
    parts.append(
        Text(
            f"first hypothesis {first:.1f}s · verdict {v.timings.verdict_s:.1f}s · "
            f"{v.tool_calls} tool calls · LLM cost ${v.cost.usd or 0:.2f}"
            if first is not None
            else f"verdict {v.timings.verdict_s:.1f}s · {v.tool_calls} tool calls",
            style="dim",
        )
    )
    return Panel(Group(*parts), title="COMPASS verdict", border_style="green" if v.confident else "yellow")


class LiveSink:
    """A live terminal view: phase, the leading hypotheses with their state, the latest findings."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = Live(console=console, refresh_per_second=8, transient=True)
        self._phase = "starting"
        self._hyps: dict[str, Hypothesis] = {}
        self._lines: list[str] = []
        self._started = False

    def _view(self) -> RenderableType:
        t = Table(show_header=True, header_style="bold", expand=False)
        t.add_column("")
        t.add_column("component")
        t.add_column("fault")
        t.add_column("score", justify="right")
        ranked = sorted(self._hyps.values(), key=lambda h: (h.status == HypothesisStatus.REFUTED, -h.score))
        for h in ranked[:10]:
            sym, style = _STATUS_STYLE[h.status]
            t.add_row(Text(sym, style=style), h.component, h.fault, f"{h.score:.1f}")
        live = sum(1 for h in self._hyps.values() if h.status != HypothesisStatus.REFUTED)
        header = Text(
            f"phase: {self._phase} · {len(self._hyps)} hypotheses ({live} alive)", style="bold cyan"
        )
        return Group(header, t, *(Text(line, style="dim") for line in self._lines[-6:]))

    async def emit(self, event: Event) -> None:
        if not self._started:
            self._live.start()
            self._started = True
        if isinstance(event, PhaseStarted):
            self._phase = f"{event.phase} — {event.detail}"
        elif isinstance(event, HypothesisProposed | HypothesisSupported):
            self._hyps[event.hypothesis.id] = event.hypothesis
        elif isinstance(event, HypothesisRefuted):
            self._hyps[event.hypothesis.id] = event.hypothesis
            self._lines.append(f"✘ {event.hypothesis.id}: {event.reason}")
        elif isinstance(event, EvidenceFound):
            self._lines.append(f"• {event.evidence.observation}")
        elif isinstance(event, Observed | GapFound):
            self._lines.append(event.text)
        elif isinstance(event, CheckStarted):
            self._lines.append(f"check: {event.description}")
        elif isinstance(event, VerdictReached):
            self._live.stop()
            self._console.print(verdict_panel(event.verdict))
            return
        self._live.update(self._view())


class PlainSink:
    """One line per notable event, for logs and pipes (no terminal control codes)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def _say(self, t: float, text: str) -> None:
        self._out.write(f"[{t:5.1f}s] {text}\n")
        self._out.flush()

    async def emit(self, event: Event) -> None:
        if isinstance(event, PhaseStarted):
            self._say(event.t, f"{event.phase}: {event.detail}")
        elif isinstance(event, Observed):
            self._say(event.t, event.text)
        elif isinstance(event, HypothesisSupported):
            self._say(event.t, f"supported {event.hypothesis.id} (score {event.hypothesis.score:.1f})")
        elif isinstance(event, HypothesisRefuted):
            self._say(event.t, f"refuted {event.hypothesis.id}: {event.reason}")
        elif isinstance(event, GapFound):
            self._say(event.t, f"gap: {event.text}")
        elif isinstance(event, VerdictReached):
            Console(file=self._out, force_terminal=False, width=120).print(verdict_panel(event.verdict))

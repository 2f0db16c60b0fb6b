"""Progress while an investigation runs.

- `StatusSink` (a terminal): one live status line with a spinner — shown from the very start, while the
  lab and mcp-grafana start — counting hypotheses, refuted, supported, and the latest finding.
- `StreamSink` (`-v`, or a pipe): lines. Verbose prints every step; otherwise phases, supported causes and
  gaps, with the refuted ones counted in one line instead of sixty.
Both print the verdict (box + full links) when it arrives, unless the output is json/markdown.
"""

from __future__ import annotations

import textwrap
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner

from compass_cli.render import print_verdict
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


class _Tally:
    def __init__(self) -> None:
        self.proposed: set[str] = set()
        self.refuted: set[str] = set()
        self.supported: set[str] = set()

    def count(self, event: Event) -> None:
        if isinstance(event, HypothesisProposed):
            self.proposed.add(event.hypothesis.id)
        elif isinstance(event, HypothesisRefuted):
            self.proposed.add(event.hypothesis.id)
            self.refuted.add(event.hypothesis.id)
            self.supported.discard(event.hypothesis.id)
        elif isinstance(event, HypothesisSupported):
            self.proposed.add(event.hypothesis.id)
            self.supported.add(event.hypothesis.id)

    def text(self) -> str:
        return (
            f"{len(self.proposed)} hypotheses · {len(self.refuted)} refuted · {len(self.supported)} supported"
        )


class StatusSink:
    """A transient one-line status on a terminal; the verdict stays on screen when it is reached."""

    def __init__(self, console: Console, *, show_verdict: bool = True, starting: str = "starting…") -> None:
        self._console = console
        self._show_verdict = show_verdict
        self._spinner = Spinner("dots", text=starting)
        self._live = Live(self._spinner, console=console, refresh_per_second=10, transient=True)
        self._tally = _Tally()
        self._phase = ""
        self._latest = ""
        self._running = False

    def start(self, text: str | None = None) -> None:
        if text:
            self._spinner.update(text=text)
        if not self._running:
            # Drawn at once: the first line is the sign of life while mcp-grafana starts, which can be
            # quicker than the first of the ten refreshes a second.
            self._live.start(refresh=True)
            self._running = True
        elif text:
            self._live.refresh()

    def stop(self) -> None:
        if self._running:
            self._live.stop()
            self._running = False

    async def emit(self, event: Event) -> None:
        self.start()
        self._tally.count(event)
        if isinstance(event, PhaseStarted):
            self._phase = event.phase
        elif isinstance(event, EvidenceFound):
            self._latest = event.evidence.observation
        elif isinstance(event, Observed | GapFound):
            self._latest = event.text
        elif isinstance(event, VerdictReached):
            self.stop()
            if self._show_verdict:
                print_verdict(self._console, event.verdict)
            return
        width = max(20, self._console.width - 60)
        latest = self._latest if len(self._latest) <= width else self._latest[: width - 1] + "…"
        self._spinner.update(
            text=f"{self._phase or 'starting'} · {self._tally.text()} · {latest}".rstrip(" ·")
        )


class StreamSink:
    """Lines for pipes, logs and `-v` (no terminal control codes unless the console is a terminal)."""

    def __init__(self, out: TextIO, console: Console, *, verbose: bool, show_verdict: bool = True) -> None:
        self._out = out
        self._console = console
        self._verbose = verbose
        self._show_verdict = show_verdict
        self._tally = _Tally()

    def _say(self, t: float, text: str) -> None:
        # Wrapped to the width like the verdict box (progress lines carry no links to keep whole).
        line = textwrap.fill(
            f"[{t:5.1f} s] {text}",
            width=self._console.width,
            subsequent_indent=" " * 10,
            break_on_hyphens=False,
        )
        self._out.write(line + "\n")
        self._out.flush()

    async def emit(self, event: Event) -> None:
        self._tally.count(event)
        v = self._verbose
        if isinstance(event, PhaseStarted):
            self._say(event.t, f"{event.phase}: {event.detail}")
        elif isinstance(event, Observed):
            self._say(event.t, event.text)
        elif isinstance(event, HypothesisProposed) and v:
            self._say(event.t, f"proposed {event.hypothesis.id}")
        elif isinstance(event, CheckStarted) and v:
            self._say(event.t, f"check {event.hypothesis_id}: {event.description}")
        elif isinstance(event, EvidenceFound) and v:
            self._say(event.t, f"evidence for {event.hypothesis_id}: {event.evidence.observation}")
        elif isinstance(event, HypothesisSupported):
            self._say(event.t, f"supported {event.hypothesis.id} (its evidence holds so far)")
        elif isinstance(event, HypothesisRefuted) and v:
            self._say(event.t, f"refuted {event.hypothesis.id}: {event.reason}")
        elif isinstance(event, GapFound):
            self._say(event.t, f"gap: {event.text}")
        elif isinstance(event, VerdictReached):
            if not v:
                self._say(event.t, f"{self._tally.text()} (-v lists each)")
            if self._show_verdict:
                print_verdict(self._console, event.verdict)

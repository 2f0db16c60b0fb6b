"""Choosing how an investigation is shown (sink while it runs) and printing its result in the asked format."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from rich.console import Console

from compass_cli.display import color_off, width
from compass_cli.markdown import verdict_markdown
from compass_cli.render import verdict_json
from compass_cli.sinks import StatusSink, StreamSink
from compass_worker.domain.events import NullSink, Sink
from compass_worker.domain.models import Verdict
from compass_worker.engine.source import QueryRecord


@dataclass
class Output:
    """`fmt`: text | json | markdown. `sink` shows progress; `status` is the spinner, if any."""

    fmt: str
    sink: Sink
    status: StatusSink | None
    console: Console

    def starting(self, text: str) -> None:
        """A sign of life while the lab and mcp-grafana start (terminals only)."""
        if self.status is not None:
            self.status.start(text)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()


def make_output(fmt: str, *, verbose: bool, no_color: bool) -> Output:
    plain = color_off(no_color)
    if fmt != "text":
        # stdout carries exactly the document; a terminal on stderr still gets the status line.
        err = Console(stderr=True, no_color=plain, highlight=False)
        if sys.stderr.isatty() and not verbose:
            status = StatusSink(err, show_verdict=False)
            return Output(fmt, status, status, err)
        return Output(fmt, NullSink(), None, err)
    tty = sys.stdout.isatty()
    console = Console(
        width=width(),
        no_color=plain,
        highlight=False,
        force_terminal=None if tty else False,
    )
    if tty and not verbose:
        status = StatusSink(console)
        return Output(fmt, status, status, console)
    return Output(fmt, StreamSink(sys.stdout, console, verbose=verbose), None, console)


# The engine's gap when not even the datasources could be listed (then no query is ever recorded).
UNREACHABLE_GAP = "no telemetry reachable"


def no_telemetry(verdict: Verdict, queries: list[QueryRecord]) -> bool:
    """The MCP server answered, but the telemetry behind it did not: nothing listed, or every query failed."""
    if queries:
        return all(q.outcome == "failed" for q in queries)
    return any(g.startswith(UNREACHABLE_GAP) for g in verdict.gaps)


def print_document(fmt: str, verdict: Verdict, *, investigation_id: str | None, dead: bool) -> None:
    """The json/markdown document on stdout (text was printed by the sink as the verdict arrived)."""
    if fmt == "json":
        payload = verdict_json(verdict, no_telemetry=dead)
        payload["investigation_id"] = investigation_id
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(verdict_markdown(verdict, investigation_id=investigation_id, no_telemetry=dead))

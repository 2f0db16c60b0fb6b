"""Spans grouped into traces, with the per-trace facts TraceQL needs (root span, duration, children)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compass_lab.model import Span


@dataclass(frozen=True)
class Trace:
    trace_id: str
    spans: tuple[Span, ...]  # ascending start time
    root: Span | None
    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


class TraceIndex:
    def __init__(self, spans: Iterable[Span]) -> None:
        by_trace: dict[str, list[Span]] = {}
        for s in spans:
            by_trace.setdefault(s.trace_id, []).append(s)
        traces: list[Trace] = []
        for trace_id, members in by_trace.items():
            members.sort(key=lambda s: (s.start_ns, s.span_id))
            root = next((s for s in members if not s.parent_span_id), None)
            start = min(s.start_ns for s in members)
            end = max(s.start_ns + s.duration_ns for s in members)
            traces.append(Trace(trace_id, tuple(members), root, start, end))
        traces.sort(key=lambda t: (t.start_ns, t.trace_id))
        self.traces: tuple[Trace, ...] = tuple(traces)
        self.by_id: dict[str, Trace] = {t.trace_id: t for t in traces}

    def get(self, trace_id: str) -> Trace | None:
        # Tempo accepts ids with or without leading zeros and in any case.
        key = trace_id.lower().rjust(32, "0")
        return self.by_id.get(key)

    def overlapping(self, start_ns: int, end_ns: int) -> list[Trace]:
        return [t for t in self.traces if t.start_ns <= end_ns and t.end_ns >= start_ns]

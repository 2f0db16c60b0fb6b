"""An in-memory Loki: streams indexed by time, plus the label/series/stats look-ups Loki's API serves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from compass_lab.logql.ast import LineFilter, Matcher
from compass_lab.logql.pipeline import line_passes
from compass_lab.model import LogStream

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class IndexedStream:
    labels: Mapping[str, str]
    ts: IntArray  # unix ns, ascending
    lines: tuple[str, ...]
    # Which lines pass a line filter, per filter: the engine asks the same filter again and again over
    # one incident's streams (error counts per window and grouping), and a regex over every line each
    # time made the lab's Loki, not the investigation, most of a verdict's wall clock on real logs.
    _masks: dict[tuple[str, str], npt.NDArray[np.bool_]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def passing(self, filters: Sequence[LineFilter]) -> npt.NDArray[np.bool_] | None:
        """Lines that pass every filter (None: no filters)."""
        mask: npt.NDArray[np.bool_] | None = None
        for f in filters:
            key = (f.op, f.value)
            one = self._masks.get(key)
            if one is None:
                one = self._masks[key] = np.fromiter(
                    (line_passes(f, line) for line in self.lines), dtype=np.bool_, count=len(self.lines)
                )
            mask = one if mask is None else mask & one
        return mask

    def span(self, start_ns: int, end_ns: int, *, include_end: bool) -> tuple[int, int]:
        """Index range of lines in [start, end) or, with include_end, in (start, end]."""
        if include_end:
            return int(np.searchsorted(self.ts, start_ns, "right")), int(
                np.searchsorted(self.ts, end_ns, "right")
            )
        return int(np.searchsorted(self.ts, start_ns, "left")), int(np.searchsorted(self.ts, end_ns, "left"))

    def closed_span(self, start_ns: int, end_ns: int) -> tuple[int, int]:
        """Index range of lines in [start, end] (label, series and stats look-ups)."""
        return int(np.searchsorted(self.ts, start_ns, "left")), int(np.searchsorted(self.ts, end_ns, "right"))


@dataclass(frozen=True)
class IndexStats:
    streams: int
    chunks: int
    entries: int
    bytes: int


# Loki cuts a chunk per stream roughly every 1.5 MB or 2 h; the lab reports one chunk per stream-hour.
_CHUNK_NS = 3600 * 10**9


class LogIndex:
    def __init__(self, streams: Iterable[LogStream]) -> None:
        indexed: list[IndexedStream] = []
        for s in streams:
            ts = np.fromiter((ln.ts_ns for ln in s.lines), dtype=np.int64, count=len(s.lines))
            if ts.size > 1 and bool(np.any(np.diff(ts) < 0)):
                order = np.argsort(ts, kind="stable")
                ts = ts[order]
                lines = tuple(s.lines[int(i)].line for i in order)
            else:
                lines = tuple(ln.line for ln in s.lines)
            indexed.append(IndexedStream(dict(s.labels), ts, lines))
        self.streams: tuple[IndexedStream, ...] = tuple(indexed)

    def select(self, matchers: Sequence[Matcher]) -> list[IndexedStream]:
        return [s for s in self.streams if all(m.matches(s.labels.get(m.name, "")) for m in matchers)]

    def _active(
        self, matchers: Sequence[Matcher] | None, start_ns: int, end_ns: int
    ) -> Iterator[IndexedStream]:
        candidates = self.streams if matchers is None else self.select(matchers)
        for s in candidates:
            lo, hi = s.closed_span(start_ns, end_ns)
            if hi > lo:
                yield s

    def label_names(self, start_ns: int, end_ns: int, matchers: Sequence[Matcher] | None = None) -> list[str]:
        names: set[str] = set()
        for s in self._active(matchers, start_ns, end_ns):
            names.update(s.labels)
        return sorted(names)

    def label_values(
        self, name: str, start_ns: int, end_ns: int, matchers: Sequence[Matcher] | None = None
    ) -> list[str]:
        values = {s.labels[name] for s in self._active(matchers, start_ns, end_ns) if name in s.labels}
        return sorted(values)

    def series(
        self, selectors: Sequence[Sequence[Matcher]], start_ns: int, end_ns: int
    ) -> list[dict[str, str]]:
        seen: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        for matchers in selectors:
            for s in self._active(matchers, start_ns, end_ns):
                seen.setdefault(tuple(sorted(s.labels.items())), dict(s.labels))
        return [seen[k] for k in sorted(seen)]

    def stats(self, matchers: Sequence[Matcher], start_ns: int, end_ns: int) -> IndexStats:
        streams = entries = size = chunks = 0
        for s in self._active(matchers, start_ns, end_ns):
            lo, hi = s.closed_span(start_ns, end_ns)
            streams += 1
            entries += hi - lo
            size += sum(len(line.encode()) for line in s.lines[lo:hi])
            chunks += int(np.unique(s.ts[lo:hi] // _CHUNK_NS).size)
        return IndexStats(streams, chunks, entries, size)

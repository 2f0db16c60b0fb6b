"""SeriesStore: the lab's TSDB — series indexed by metric name and labels, samples in ms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from compass_lab.model import Series
from compass_lab.promql.labels import METRIC_NAME, LabelMatcher, Labels, get_label, make_labels
from compass_lab.promql.parse import parse_selector
from compass_lab.promql.values import RangeSeries

# Stored series are exactly what range functions read: labels, ms timestamps, NaN-free values.
StoredSeries = RangeSeries


def has_samples_in(st: StoredSeries, start_ms: int | None, end_ms: int | None) -> bool:
    if st.t.size == 0:
        return False
    lo = -(2**62) if start_ms is None else start_ms
    hi = 2**62 if end_ms is None else end_ms
    i = int(np.searchsorted(st.t, lo, side="left"))
    return i < st.t.size and int(st.t[i]) <= hi


def to_ms(seconds: float) -> int:
    return round(seconds * 1000.0)


class SeriesStore:
    """In-memory index over `Series`; selection follows Prometheus' matcher semantics."""

    def __init__(self, series: Iterable[Series]) -> None:
        stored: list[StoredSeries] = []
        seen: set[Labels] = set()
        for s in series:
            labels = make_labels(s.labels)
            if labels in seen:
                raise ValueError(f"duplicate series labels in SeriesStore: {dict(labels)}")
            seen.add(labels)
            ts = np.asarray(s.timestamps, dtype=np.float64)
            vs = np.asarray(s.values, dtype=np.float64)
            if ts.shape != vs.shape:
                raise ValueError(f"series {dict(labels)}: timestamps and values differ in length")
            keep = ~np.isnan(vs)
            t_ms = np.round(ts[keep] * 1000.0).astype(np.int64)
            if t_ms.size > 1 and bool(np.any(np.diff(t_ms) <= 0)):
                raise ValueError(f"series {dict(labels)}: timestamps are not strictly ascending (ms)")
            stored.append(StoredSeries(labels, t_ms, vs[keep].copy()))
        # Sorted by labels, like Prometheus' storage: selection order shows in some error messages.
        self._series: tuple[StoredSeries, ...] = tuple(sorted(stored, key=lambda st: st.labels))
        by_name: dict[str, list[int]] = {}
        for i, st in enumerate(self._series):
            by_name.setdefault(get_label(st.labels, METRIC_NAME), []).append(i)
        self._by_name = {k: tuple(v) for k, v in by_name.items()}

    def __len__(self) -> int:
        return len(self._series)

    def select(
        self, matchers: Sequence[LabelMatcher], start: float | None = None, end: float | None = None
    ) -> list[StoredSeries]:
        """Series matching all matchers; with start/end, only those with a sample in [start, end]."""
        candidates: Iterable[int]
        name_eq = [m for m in matchers if m.name == METRIC_NAME and m.op == "="]
        candidates = self._by_name.get(name_eq[0].value, ()) if name_eq else range(len(self._series))
        start_ms = None if start is None else to_ms(start)
        end_ms = None if end is None else to_ms(end)
        out: list[StoredSeries] = []
        for i in candidates:
            st = self._series[i]
            d = dict(st.labels)
            if all(m.matches(d.get(m.name, "")) for m in matchers) and (
                (start_ms is None and end_ms is None) or has_samples_in(st, start_ms, end_ms)
            ):
                out.append(st)
        return out

    def _matching(
        self, match: list[str] | None, start: float | None, end: float | None
    ) -> list[StoredSeries]:
        if not match:
            return self.select([], start, end)
        found: dict[Labels, StoredSeries] = {}
        for text in match:
            for st in self.select(parse_selector(text), start, end):
                found[st.labels] = st
        return sorted(found.values(), key=lambda s: s.labels)

    def label_names(
        self, match: list[str] | None = None, start: float | None = None, end: float | None = None
    ) -> list[str]:
        names = {k for st in self._matching(match, start, end) for k, _ in st.labels}
        return sorted(names)

    def label_values(
        self, name: str, match: list[str] | None = None, start: float | None = None, end: float | None = None
    ) -> list[str]:
        values = {v for st in self._matching(match, start, end) for k, v in st.labels if k == name}
        return sorted(values)

    def series(
        self, match: list[str], start: float | None = None, end: float | None = None
    ) -> list[dict[str, str]]:
        return [dict(st.labels) for st in self._matching(match, start, end)]

"""What real telemetry does to an investigation: gaps, missing exporters, label drift, partial faults.

Applied to rendered series, after the simulation, so the incident itself is unchanged:
- `scrape_gaps`: a Prometheus restart (every series) or one target unreachable (one job) for minutes;
- `drop_job`: an exporter that was never deployed;
- `drift`: a relabelling change mid-window (cAdvisor's legacy `pod_name`/`container_name` keys before
  an upgrade, or the service label key renamed by a collector change), splitting each series in two;
- `only_pods`: the fault hit some pods only — the others' series come from the same scenario without
  the fault (its counterfactual).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from compass_lab.model import Series


@dataclass(frozen=True)
class Gap:
    job: str  # "" = every series (the scraper itself was down)
    start: int  # sample index
    length: int


def scrape_gaps(series: Sequence[Series], gaps: Sequence[Gap]) -> tuple[Series, ...]:
    if not gaps:
        return tuple(series)
    out = []
    for s in series:
        values = s.values
        for g in gaps:
            if g.job and s.labels.get("job", "") != g.job:
                continue
            values = values.copy() if values is s.values else values
            values[g.start : g.start + g.length] = np.nan
        if values is s.values:
            out.append(s)
        elif not np.isnan(values).all():
            out.append(Series(s.labels, s.timestamps, values))
    return tuple(out)


def drop_job(series: Sequence[Series], job: str) -> tuple[Series, ...]:
    if not job:
        return tuple(series)
    return tuple(s for s in series if s.labels.get("job", "") != job)


def _split(s: Series, idx: int, before: dict[str, str], after: dict[str, str]) -> list[Series]:
    old = s.values.copy()
    old[idx:] = np.nan
    new = s.values.copy()
    new[:idx] = np.nan
    parts = [Series(before, s.timestamps, old), Series(after, s.timestamps, new)]
    return [p for p in parts if not np.isnan(p.values).all()]


def drift(series: Sequence[Series], kind: str, idx: int, key: str = "") -> tuple[Series, ...]:
    """`cadvisor_legacy`: container_* series use `pod_name`/`container_name` before `idx`;
    `service_key`: series carrying `key` carry it as `service` from `idx` on."""
    if not kind:
        return tuple(series)
    out: list[Series] = []
    for s in series:
        labels = dict(s.labels)
        if kind == "cadvisor_legacy" and labels["__name__"].startswith("container_") and "pod" in labels:
            legacy = {k: v for k, v in labels.items() if k not in ("pod", "container")}
            legacy["pod_name"] = labels["pod"]
            legacy["container_name"] = labels.get("container", "")
            out.extend(_split(s, idx, legacy, labels))
        elif kind == "service_key" and key in labels:
            moved = {k: v for k, v in labels.items() if k != key}
            moved["service"] = labels[key]
            out.extend(_split(s, idx, labels, moved))
        else:
            out.append(s)
    return tuple(out)


def only_pods(faulty: Sequence[Series], clean: Sequence[Series], spared: Sequence[str]) -> tuple[Series, ...]:
    """Series of `spared` pods (named in any label value, e.g. `pod`, `instance`) taken from `clean`."""
    if not spared:
        return tuple(faulty)
    names = set(spared)
    clean_by = {tuple(sorted(s.labels.items())): s for s in clean}
    out = []
    for s in faulty:
        if any(v in names for v in s.labels.values()):
            twin = clean_by.get(tuple(sorted(s.labels.items())))
            if twin is not None:
                out.append(twin)
                continue
        out.append(s)
    return tuple(out)

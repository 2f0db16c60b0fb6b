"""Mappings proposed from outside (an LLM reasoner): which names to offer, and what a proposal becomes.

Name tokens map most unknown metrics (`discovery.infer`); a name like `zeta_rq_seconds_bucket` says a
time unit but nothing of what is timed. For such names a configured model may say what they measure.
A proposal is only a hint: it names a listed metric and an offered signal, becomes an `InferredMapping`
trusted below every token inference (`PROPOSED_CONFIDENCE`), and then passes the same checks — labels
that name a component, values plausible for the signal (`discovery.plausible`), no running total read as
a level (`discovery.cumulative`). The query is built here from the metric's type, never taken from the
model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from compass_worker.signals.catalog import ComponentKind, SignalCatalog
from compass_worker.signals.discovery import (
    InferredMapping,
    MetricMeta,
    covered_by_catalog,
    tokens,
)

PROPOSED_CONFIDENCE = 0.5  # below the weakest name-token inference (0.55-0.6)
MAX_OFFERED = 80  # names shown to a model at most (the prompt is trimmed further to its token budget)

# Signals a proposal may name: per-component golden signals whose query follows from the type alone.
# Pool utilisation needs its max beside it, and host resources belong to the host conventions.
PROPOSABLE: tuple[str, ...] = (
    "latency",
    "client_latency",
    "requests",
    "client_requests",
    "error_ratio",
    "cpu_utilization",
    "cpu_usage",
    "memory_bytes",
    "memory_utilization",
    "restarts",
    "queue_lag",
    "available",
)
_TIME = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6}
_RATIO = frozenset({"error_ratio", "cpu_utilization", "memory_utilization", "available"})
_HOST_T = frozenset({"node", "host", "machine", "vm"})
_PARTS = ("_sum", "_count", "_created", "_info", "_max", "_min")


def offered_signals(catalog: SignalCatalog) -> list[str]:
    return [s for s in PROPOSABLE if s in catalog.signals or s == "client_requests"]


def unmapped(catalog: SignalCatalog, names: Iterable[str], mapped: Iterable[str]) -> list[str]:
    """Names neither the catalog nor name tokens speak for, worth asking about: a histogram once (its
    `_bucket`), no summary or histogram parts, at most `MAX_OFFERED` (shortest first: the plainest)."""
    all_names = frozenset(names)
    taken = set(mapped)
    stems = {m.removesuffix("_bucket") for m in taken}
    out: list[str] = []
    for name in sorted(all_names - covered_by_catalog(catalog, all_names) - taken):
        stem = name.removesuffix("_bucket")
        if stem in stems:
            continue
        if name.endswith(_PARTS) and (
            name.rsplit("_", 1)[0] + "_bucket" in all_names or name.rsplit("_", 1)[0] + "_sum" in all_names
        ):
            continue  # a part of a histogram or summary: its `_bucket` (or nothing) is asked about
        if name.endswith(("_created", "_info")):
            continue
        out.append(name)
    out.sort(key=lambda n: (len(n), n))
    return out[:MAX_OFFERED]


def from_proposal(
    metric: str,
    signal: str,
    unit: str,
    meta: MetricMeta | None = None,
    offered: Iterable[str] = PROPOSABLE,
) -> InferredMapping | None:
    """The mapping a proposal stands for, or None when its type cannot carry that signal (a counter of
    seconds is no latency, a histogram no CPU) or the signal was not offered."""
    meta = meta or MetricMeta()
    if signal not in set(offered) or signal not in PROPOSABLE:
        return None
    mtype = meta.type.lower()
    histogram = metric.endswith("_bucket") or mtype == "histogram"
    counter = mtype == "counter" or metric.endswith("_total")
    toks = frozenset(tokens(metric))
    if signal.startswith(("cpu", "memory")) and toks & _HOST_T:
        return None  # a node's resources are the host conventions' (the host is evidence, not the answer)
    edge = signal.startswith("client_")
    kind: ComponentKind = "queue" if signal == "queue_lag" else "service"
    scale = 1.0
    if signal in ("latency", "client_latency"):
        if counter:
            return None  # time summed over requests: no latency without its count
        form = "histogram" if histogram else "gauge"
        scale = _TIME.get(unit, 1.0)  # no time unit: `plausible` judges ms from the values
    elif histogram:
        return None
    elif signal in ("requests", "client_requests"):
        form = "rate" if counter else "gauge"
        scale = 1.0 / 60.0 if unit == "per_minute" and not counter else 1.0
    elif signal == "cpu_usage":
        if counter:
            form = "rate"  # CPU seconds
        elif unit == "cores":
            form = "gauge"
        else:
            return None
    elif signal == "restarts":
        form = "increase" if counter else "gauge"
    elif counter:
        return None  # a ratio, a size or a lag is a level, never a running total
    else:
        form = "gauge"
        if signal in _RATIO and unit == "percent":
            scale = 0.01
        elif signal == "memory_bytes" and unit not in ("bytes", "none"):
            return None
    return InferredMapping(
        metric,
        signal,
        kind,
        form,
        PROPOSED_CONFIDENCE,
        f"proposed by the AI reasoner ({unit}), checked against its values",
        scale,
        edge=edge,
        unit_claimed=unit in ("ratio", "percent"),
    )


def views(names: Iterable[str], meta: Mapping[str, MetricMeta]) -> list[tuple[str, MetricMeta]]:
    """Each name with its metadata (a histogram's is kept under its family name)."""
    return [(n, meta.get(n.removesuffix("_bucket")) or meta.get(n) or MetricMeta()) for n in names]

"""Baselines measured on the same scenarios in the same run, so that the engine's figures mean something.

- BARO-style: per component, the maximum robust z-score of its series after the onset against the
  pre-onset median/IQR (Pham et al., "BARO", FSE 2024 — its RobustScorer), components ranked by it.
- max-z: the same with mean/standard deviation (the classic z-score ranking).

Both read the lab's series directly (no MCP) and are handed the true onset — a generous setting:
they do not have to find the anomaly time. Counters are turned into per-second rates first;
histogram buckets are skipped. Components are named by the same generic identity labels the
engine uses, so the service-level comparison is like for like.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from compass_lab.model import Scenario, TelemetrySet
from compass_worker.signals.naming import is_ip, normalise

IDENTITY = (
    "service_name",
    "service",
    "application",
    "app",
    "job",
    "container",
    "consumergroup",
    "persistentvolumeclaim",
    "target",
    "instance",
    "server",
    "node",
    "pod",  # last: only series that name nothing else (per-pod recordings such as Nezha's)
)
EXPORTER_JOBS = frozenset(
    {
        "postgres",
        "mysql",
        "redis",
        "kafka",
        "blackbox",
        "node",
        "node-exporter",
        "kube-state-metrics",
        "cadvisor",
        "kubelet",
        "coredns",
        "memcached",
        "rabbitmq",
    }
)


def component_of(labels: dict[str, str]) -> str | None:
    for key in IDENTITY:
        raw = labels.get(key)
        if not raw or (key == "job" and raw in EXPORTER_JOBS):
            continue
        name = normalise(raw, label=key)
        if name and not is_ip(name):
            return name
    return None


def _rates(name: str, ts: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if name.endswith(("_total", "_count", "_sum")):
        dv = np.diff(v)
        dv[dv < 0] = 0.0  # counter reset
        return ts[1:], dv / np.maximum(np.diff(ts), 1e-9)
    return ts, v


def rank_components(telemetry: TelemetrySet, onset: float, *, robust: bool) -> list[tuple[str, float]]:
    best: dict[str, float] = defaultdict(float)
    for s in telemetry.series:
        name = s.labels.get("__name__", "")
        if name.endswith("_bucket"):
            continue
        comp = component_of(dict(s.labels))
        if comp is None:
            continue
        ts, v = _rates(name, s.timestamps, s.values)
        ok = np.isfinite(v)
        ts, v = ts[ok], v[ok]
        before, after = v[ts < onset], v[ts >= onset]
        if before.size < 10 or after.size < 2:
            continue
        if robust:
            q75, q25 = np.percentile(before, [75, 25])
            center, scale = float(np.median(before)), float(q75 - q25)
        else:
            center, scale = float(before.mean()), float(before.std())
        scale = max(scale, 1e-9 + 1e-3 * abs(center))
        z = float(np.max(np.abs(after - center)) / scale)
        best[comp] = max(best[comp], z)
    return sorted(best.items(), key=lambda kv: -kv[1])


def baseline_onset(scenario: Scenario) -> float:
    return scenario.onset if scenario.onset is not None else scenario.at - 900.0

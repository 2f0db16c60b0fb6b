"""Scoring one benchmark row and summarising many: AC@k, control handling, calibration, timings, tool calls.

Calibration is measured on the top-1 confidence against "the top-1 is the true (component, fault)":
a control's top-1 is never right, and an answer with no root cause claims nothing (confidence 0).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

CONFIDENT = 0.7  # "false-confident": top-1 at or above this and wrong
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Row:
    scenario_id: str
    split: str
    fault: str | None  # None: a control
    component: str | None
    verdict: str
    ranked: tuple[tuple[str, str, float], ...]  # (component, fault, confidence) best first
    first_hypothesis_s: float | None
    verdict_s: float
    tool_calls: int
    baro: tuple[str, ...] = ()
    maxz: tuple[str, ...] = ()
    error: str | None = None

    def joint_rank(self) -> int | None:
        for i, (c, f, _) in enumerate(self.ranked):
            if (c, f) == (self.component, self.fault):
                return i + 1
        return None

    def service_rank(self, ranking: tuple[str, ...] | None = None) -> int | None:
        comps = ranking if ranking is not None else tuple(dict.fromkeys(c for c, _, _ in self.ranked))
        for i, c in enumerate(comps):
            if c == self.component:
                return i + 1
        return None

    @property
    def top_conf(self) -> float:
        return self.ranked[0][2] if self.ranked else 0.0

    @property
    def top1_correct(self) -> bool:
        return self.fault is not None and self.joint_rank() == 1

    @property
    def incoherent(self) -> bool:
        """Ranks that disagree with confidences, or confidences that are not one distribution (sum > 1)."""
        confs = [c for _, _, c in self.ranked]
        out_of_order = any(b > a for a, b in itertools.pairwise(confs))
        return out_of_order or sum(confs) > 1.0 + 1e-6

    @property
    def false_confident(self) -> bool:
        if self.top_conf < CONFIDENT:
            return False
        return self.fault is None or self.joint_rank() != 1


def _at(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else float("nan")


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class Summary:
    n: int = 0
    n_faults: int = 0
    n_controls: int = 0
    joint_at1: float = 0.0
    joint_at3: float = 0.0
    service_at1: float = 0.0
    service_at3: float = 0.0
    baro_at1: float = 0.0
    baro_at3: float = 0.0
    maxz_at1: float = 0.0
    maxz_at3: float = 0.0
    controls_inconclusive: float = 0.0
    false_confident_rate: float = 0.0
    first_hypothesis_median_s: float = 0.0
    first_hypothesis_p95_s: float = 0.0
    verdict_median_s: float = 0.0
    verdict_p95_s: float = 0.0
    tool_calls_median: float = 0.0
    tool_calls_p95: float = 0.0
    errors: int = 0
    ece: float = 0.0  # expected calibration error of the top-1 confidence (10 equal-width bins)
    incoherent: int = 0  # answers whose ranks disagree with their confidences, or whose sum exceeds 1
    reliability: list[dict[str, float]] = field(
        default_factory=list
    )  # per bin: lo, hi, n, confidence, accuracy
    per_fault: dict[str, dict[str, float]] = field(default_factory=dict)


def reliability(rows: list[Row], bins: int = CALIBRATION_BINS) -> tuple[float, list[dict[str, float]]]:
    """Expected calibration error and the reliability table: per confidence bin, how often the top-1
    was right against how confident it was. ECE = Σ (n_bin / n) · |accuracy − mean confidence|."""
    table: list[dict[str, float]] = []
    if not rows:
        return float("nan"), table
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [r for r in rows if lo <= r.top_conf < hi or (b == bins - 1 and r.top_conf >= hi)]
        if not members:
            continue
        conf = sum(r.top_conf for r in members) / len(members)
        acc = sum(1 for r in members if r.top1_correct) / len(members)
        ece += len(members) / len(rows) * abs(acc - conf)
        table.append({"lo": lo, "hi": hi, "n": float(len(members)), "confidence": conf, "accuracy": acc})
    return ece, table


def summarise(rows: list[Row]) -> Summary:
    faults = [r for r in rows if r.fault is not None]
    controls = [r for r in rows if r.fault is None]
    s = Summary(n=len(rows), n_faults=len(faults), n_controls=len(controls))
    s.joint_at1 = _at([r.joint_rank() for r in faults], 1)
    s.joint_at3 = _at([r.joint_rank() for r in faults], 3)
    s.service_at1 = _at([r.service_rank() for r in faults], 1)
    s.service_at3 = _at([r.service_rank() for r in faults], 3)
    s.baro_at1 = _at([r.service_rank(r.baro) for r in faults], 1)
    s.baro_at3 = _at([r.service_rank(r.baro) for r in faults], 3)
    s.maxz_at1 = _at([r.service_rank(r.maxz) for r in faults], 1)
    s.maxz_at3 = _at([r.service_rank(r.maxz) for r in faults], 3)
    s.controls_inconclusive = (
        sum(1 for r in controls if r.verdict == "inconclusive") / len(controls) if controls else float("nan")
    )
    s.false_confident_rate = sum(1 for r in rows if r.false_confident) / len(rows) if rows else float("nan")
    fh = [r.first_hypothesis_s for r in rows if r.first_hypothesis_s is not None]
    vs = [r.verdict_s for r in rows]
    tc = [float(r.tool_calls) for r in rows]
    s.first_hypothesis_median_s, s.first_hypothesis_p95_s = _pct(fh, 50), _pct(fh, 95)
    s.verdict_median_s, s.verdict_p95_s = _pct(vs, 50), _pct(vs, 95)
    s.tool_calls_median, s.tool_calls_p95 = _pct(tc, 50), _pct(tc, 95)
    s.errors = sum(1 for r in rows if r.error)
    s.ece, s.reliability = reliability(rows)
    s.incoherent = sum(1 for r in rows if r.incoherent)
    by_fault: dict[str, list[Row]] = defaultdict(list)
    for r in faults:
        by_fault[r.fault or ""].append(r)
    for fid, rs in sorted(by_fault.items()):
        s.per_fault[fid] = {
            "n": float(len(rs)),
            "joint_at1": _at([r.joint_rank() for r in rs], 1),
            "joint_at3": _at([r.joint_rank() for r in rs], 3),
            "service_at1": _at([r.service_rank() for r in rs], 1),
            "service_at3": _at([r.service_rank() for r in rs], 3),
            "baro_at1": _at([r.service_rank(r.baro) for r in rs], 1),
        }
    return s

"""The benchmark's printed table: per fault id and overall, engine and baselines side by side."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from compass_lab.bench.metrics import Row, Summary, summarise


def _p(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:5.2f}"


def _reliability(s: Summary) -> list[str]:
    """The reliability table: per confidence bin, answers, mean confidence and how often top-1 was right."""
    if not s.reliability:
        return []
    out = [f"  {'confidence bin':15} {'n':>3} {'mean conf':>9} {'accuracy':>8}"]
    for b in s.reliability:
        out.append(
            f"  [{b['lo']:.1f}, {b['hi']:.1f}{']' if b['hi'] >= 1.0 else ')'}     {int(b['n']):3d} "
            f"{b['confidence']:9.2f} {b['accuracy']:8.2f}"
        )
    return out


def render(summaries: dict[str, Summary]) -> str:
    lines: list[str] = []
    for split, s in summaries.items():
        lines.append(
            f"\n=== split: {split} — {s.n} scenarios ({s.n_faults} faults, {s.n_controls} controls)"
            f"{f', {s.errors} errors' if s.errors else ''}"
        )
        lines.append(f"{'fault':32} {'n':>3} {'AC@1':>5} {'AC@3':>5} {'svc@1':>5} {'svc@3':>5} {'BARO@1':>6}")
        for fid, m in s.per_fault.items():
            lines.append(
                f"{fid:32} {int(m['n']):3d} {_p(m['joint_at1'])} {_p(m['joint_at3'])} "
                f"{_p(m['service_at1'])} {_p(m['service_at3'])} {_p(m['baro_at1']):>6}"
            )
        lines.append("-" * 66)
        lines.append(
            f"{'overall (faults)':32} {s.n_faults:3d} {_p(s.joint_at1)} {_p(s.joint_at3)} "
            f"{_p(s.service_at1)} {_p(s.service_at3)} {_p(s.baro_at1):>6}"
        )
        lines.append(
            f"service-level AC@1 / AC@3    engine {_p(s.service_at1)} / {_p(s.service_at3)}   "
            f"BARO-style {_p(s.baro_at1)} / {_p(s.baro_at3)}   max-z {_p(s.maxz_at1)} / {_p(s.maxz_at3)}"
        )
        lines.append(
            f"controls answered inconclusive {_p(s.controls_inconclusive)}   "
            f"false-confident rate (top-1 ≥ 0.7 and wrong) {_p(s.false_confident_rate)}"
        )
        lines.append(
            f"calibration (top-1 confidence vs joint-correct)  ECE {_p(s.ece)}   "
            f"rank/confidence disagreements {s.incoherent}"
        )
        lines.extend(_reliability(s))
        lines.append(
            f"time to first hypothesis  median {s.first_hypothesis_median_s:.2f}s  "
            f"p95 {s.first_hypothesis_p95_s:.2f}s"
        )
        lines.append(
            f"time to verdict           median {s.verdict_median_s:.2f}s  p95 {s.verdict_p95_s:.2f}s"
        )
        lines.append(
            f"tool calls                median {s.tool_calls_median:.0f}  p95 {s.tool_calls_p95:.0f}"
        )
    return "\n".join(lines)


def breakdown(rows: list[Row], key: Callable[[Row], str]) -> dict[str, Summary]:
    """Rows grouped by `key` (a scenario field: system, the dataset's fault variant), each summarised."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return {k: summarise(v) for k, v in sorted(groups.items())}


def render_breakdown(title: str, groups: dict[str, Summary]) -> str:
    """One line per group: faults scored jointly and per service, the BARO-style baseline beside them,
    the false-confident rate (FC) and the calibration error (ECE) of the group's answers."""
    lines = [
        f"\n--- {title}",
        f"{'':32} {'n':>3} {'AC@1':>5} {'AC@3':>5} {'svc@1':>5} {'svc@3':>5} {'BARO@1':>6} {'BARO@3':>6}"
        f" {'FC':>5} {'ECE':>5}",
    ]
    for name, s in groups.items():
        lines.append(
            f"{name:32} {s.n_faults:3d} {_p(s.joint_at1)} {_p(s.joint_at3)} {_p(s.service_at1)} "
            f"{_p(s.service_at3)} {_p(s.baro_at1):>6} {_p(s.baro_at3):>6} "
            f"{_p(s.false_confident_rate)} {_p(s.ece)}"
            + (f"   controls inconclusive {_p(s.controls_inconclusive)}" if s.n_controls else "")
        )
    return "\n".join(lines)

"""The benchmark's printed table: per fault id and overall, engine and baselines side by side."""

from __future__ import annotations

import math
from collections import defaultdict

from compass_lab.bench.metrics import Row, Summary, summarise


def _p(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:5.2f}"


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


def render_families(rows: list[Row], family_of: dict[str, str]) -> str:
    """One line per (split, family): a dataset whose `system` names its generator family (or system)."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.split, family_of.get(r.scenario_id, "?"))].append(r)
    lines = [
        "\n=== per family (system)",
        f"{'split':8} {'family':24} {'n':>3} {'AC@1':>5} {'AC@3':>5} {'svc@1':>5} {'BARO@1':>6} "
        f"{'ctl-inc':>7} {'f-conf':>6}",
    ]
    for (split, fam), rs in sorted(groups.items()):
        s = summarise(rs)
        lines.append(
            f"{split:8} {fam:24} {s.n:3d} {_p(s.joint_at1)} {_p(s.joint_at3)} {_p(s.service_at1)} "
            f"{_p(s.baro_at1):>6} {_p(s.controls_inconclusive):>7} {_p(s.false_confident_rate):>6}"
        )
    return "\n".join(lines)

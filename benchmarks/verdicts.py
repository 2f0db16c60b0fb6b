"""Verdict quality on every set in one run, side by side: accuracy, confidence, speed and tool calls.

    .venv/bin/python benchmarks/verdicts.py                       # the held-out sets and nezha-dev
    .venv/bin/python benchmarks/verdicts.py --set lab:dev --set random:dev --no-baselines

Each set runs through `compass lab bench` (the real mcp-grafana against the lab's Grafana-compatible API,
one investigation at a time unless --concurrency says otherwise) and prints its own tables first; the last
table puts the sets side by side beside the goals of the engine issue. Wall-clock figures of sets run in
one invocation share the machine's load, so they compare fairly with each other.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from compass_lab.bench.metrics import Summary
from compass_lab.bench.run import run_bench
from compass_lab.datasets import DATASETS
from compass_worker.reasoners.settings import load_llm_settings
from compass_worker.settings import load_settings

DEFAULT_SETS = ("lab:heldout", "random:heldout", "nezha-dev:dev")


@dataclass(frozen=True)
class SetResult:
    name: str
    summary: Summary
    max_tool_calls: int


def _p(x: float) -> str:
    return f"{x:.2f}"


# (label, how a set's figure reads, the goal)
ROWS: tuple[tuple[str, str, str], ...] = (
    ("scenarios (faults / controls)", "counts", ""),
    ("joint AC@1 / AC@3", "joint", "≥ 0.85 random, ≥ 0.70 nezha"),
    ("service AC@1 / AC@3", "service", "≥ 0.92 random, ≥ 0.85 nezha"),
    ("service AC@1 — BARO-style", "baro", ""),
    ("controls answered inconclusive", "controls", "1.00"),
    ("false-confident (top-1 ≥ 0.7, wrong)", "fc", "≤ 0.03"),
    ("ECE (top-1 confidence)", "ece", "≤ 0.08"),
    ("ranks disagreeing with confidences", "incoherent", "0"),
    ("time to verdict median / p95 (s)", "time", "p95 ≤ 20"),
    ("tool calls median / p95 / max", "calls", "≤ budget"),
)


def cell(r: SetResult, what: str, budget: int) -> str:
    s = r.summary
    match what:
        case "counts":
            return f"{s.n_faults} / {s.n_controls}"
        case "joint":
            return f"{_p(s.joint_at1)} / {_p(s.joint_at3)}"
        case "service":
            return f"{_p(s.service_at1)} / {_p(s.service_at3)}"
        case "baro":
            return _p(s.baro_at1) if s.baro_at1 or s.baro_at3 else "skipped"
        case "controls":
            return _p(s.controls_inconclusive) if s.n_controls else "–"
        case "fc":
            return _p(s.false_confident_rate)
        case "ece":
            return _p(s.ece)
        case "incoherent":
            return str(s.incoherent)
        case "time":
            return f"{s.verdict_median_s:.1f} / {s.verdict_p95_s:.1f}"
        case "calls":
            over = " OVER" if r.max_tool_calls > budget else ""
            return f"{s.tool_calls_median:.0f} / {s.tool_calls_p95:.0f} / {r.max_tool_calls}{over}"
    raise ValueError(what)


def table(results: list[SetResult], budget: int) -> str:
    first = max(len(label) for label, _, _ in ROWS)
    widths = [max(len(r.name), 18) for r in results]
    head = f"{'':{first}}  " + "  ".join(f"{r.name:>{w}}" for r, w in zip(results, widths, strict=True))
    lines = [head + "  goal", "-" * (len(head) + 30)]
    for label, what, goal in ROWS:
        cells = "  ".join(f"{cell(r, what, budget):>{w}}" for r, w in zip(results, widths, strict=True))
        lines.append(f"{label:{first}}  {cells}  {goal}")
    lines.append(f"(tool-call budget per investigation: {budget})")
    return "\n".join(lines)


def parse_set(text: str) -> tuple[str, str]:
    dataset, _, split = text.partition(":")
    if dataset not in DATASETS or split not in ("dev", "heldout"):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected DATASET:SPLIT, DATASET one of {', '.join(DATASETS)}, SPLIT dev|heldout"
        )
    return dataset, split


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        type=parse_set,
        help=f"DATASET:SPLIT, repeatable (default: {' '.join(DEFAULT_SETS)})",
    )
    parser.add_argument("--concurrency", type=int, default=1, choices=range(1, 17), metavar="1-16")
    parser.add_argument("--no-baselines", action="store_true", help="skip the BARO-style baseline")
    parser.add_argument("--only", help="only scenarios whose id contains this text (a quick look)")
    parser.add_argument("--out", default="bench-results/verdicts", help="folder for each set's JSON")
    args = parser.parse_args()
    sets: list[tuple[str, str]] = args.sets or [parse_set(s) for s in DEFAULT_SETS]
    settings, llm = load_settings(), load_llm_settings()
    results: list[SetResult] = []
    for dataset, split in sets:
        name = f"{dataset} {split}"
        print(f"\n##### {name}", flush=True)
        out = Path(args.out) / f"{dataset}-{split}"
        summaries = run_bench(
            [split],
            settings,
            out,
            args.concurrency,
            args.only,
            dataset=dataset,
            llm=llm,
            baselines=not args.no_baselines,
        )
        rows = json.loads((out / "bench-latest.json").read_text())["rows"]
        results.append(SetResult(name, summaries[split], max((r["tool_calls"] for r in rows), default=0)))
    print(f"\n=== verdicts on every set, one run (LLM: {llm.llm}) ===")
    print(table(results, settings.tool_call_budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())

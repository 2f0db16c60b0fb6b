"""Fit the shown-confidence calibration map on DEV bench rows; write compass_worker/engine/calibration.json.

Usage:
    scripts/fit_calibration.py DEV_BENCH.json [DEV_BENCH.json ...] [--out PATH] [--dry-run]
    scripts/fit_calibration.py --check BENCH.json [...]   # ECE / reliability under the packaged map

Both read benchmark rows run WITHOUT a map: move compass_worker/engine/calibration.json aside while the
benchmarks run (the engine reads it once per process), and put it back after.

Inputs are `compass lab bench --out` files of DEV splits only (lab dev, random dev, nezha-dev), run
WITHOUT a calibration file (the map is fitted on the uncalibrated shown confidences; the engine applies
it to those same values). Held-out rows are refused: they are measured, never fitted on. Rows cut by the
wall-clock budget, and rows that errored, are left out of the fit.

Candidates, compared by 5-fold cross-validation on the dev rows (expected calibration error of the top-1
confidence per set, as the benchmark computes it, with the engine's inconclusive cap re-applied; also with
each set predicted by a map fitted on the other sets only):
  - identity (no map),
  - Platt scaling on the logit of the top-1 confidence (2 parameters),
  - isotonic regression (pool-adjacent-violators) with each block's accuracy shrunk toward its mean
    confidence by SHRINK pseudo-rows, so that thin blocks stay near the identity,
  - the same on each side of the confident line (0.7), each side kept on its side.
The kept candidate has the lowest leave-one-set-out ECE (each dev set predicted by a map fitted on the
others: the map is for systems it has never seen) among those with no more false-confident answers
than the identity (a confident wrong answer is worse than an under-confident right one). Until the
third wave the 5-fold ECE chose; in two waves running the map it chose lowered ECE on the dev sets and
raised it on the randomised held-out families, which is what leave-one-set-out predicts.
The winner is refitted on all dev rows and written as knots of a strictly increasing piecewise-linear map.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compass_lab.bench.metrics import CONFIDENT, reliability
from compass_lab.bench.metrics import Row as BenchRow
from compass_worker.engine.calibration import Calibration, load_calibration
from compass_worker.engine.verdict import INCONCLUSIVE_SHOWN

OUT = Path(__file__).resolve().parent.parent / "compass_worker" / "engine" / "calibration.json"
BUDGET_S = 60.0  # the engine's default wall-clock budget; a row this slow was cut
CUT_MARGIN_S = 1.0
SHRINK = 5.0  # pseudo-rows pulling an isotonic block toward the identity
FOLDS = 5
MIN_ROWS = 100  # fewer dev rows than this: too few to fit a map that holds


@dataclass(frozen=True)
class Answer:
    """One benchmark row as the calibration sees it."""

    scenario: str
    source: str
    confs: tuple[float, ...]  # shown confidences, best first
    inconclusive: bool
    correct: bool
    is_control: bool

    def bench_row(self, confs: tuple[float, ...]) -> BenchRow:
        # Only what `reliability` reads: the top-1 confidence and whether the top-1 is right.
        fault = None if self.is_control else "f"
        ranked = tuple(("c" if i == 0 and self.correct else f"x{i}", "f", c) for i, c in enumerate(confs))
        return BenchRow(self.scenario, "", fault, "c", "", ranked, None, 0.0, 0)


def read_rows(paths: list[Path], allow_heldout: bool = False) -> tuple[list[Answer], dict[str, int]]:
    answers: list[Answer] = []
    left_out = {"cut": 0, "error": 0}
    for p in paths:
        try:
            data = json.loads(p.read_text("utf-8"))
            rows = data["rows"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            sys.exit(f"{p}: not a benchmark JSON ({type(exc).__name__})")
        for r in rows:
            if r["split"] != "dev" and not allow_heldout:
                sys.exit(f"{p}: row {r['scenario_id']} is from split {r['split']!r}: fit on dev rows only")
            if r.get("error"):
                left_out["error"] += 1
                continue
            if float(r.get("verdict_s") or 0.0) >= BUDGET_S - CUT_MARGIN_S:
                left_out["cut"] += 1
                continue
            ranked = r["ranked"]
            top = ranked[0] if ranked else None
            answers.append(
                Answer(
                    scenario=r["scenario_id"],
                    source=p.parent.name or p.name,
                    confs=tuple(float(c) for _, _, c in ranked),
                    inconclusive=r["verdict"] != "root_cause",
                    correct=r["fault"] is not None
                    and top is not None
                    and (top[0], top[1]) == (r["component"], r["fault"]),
                    is_control=r["fault"] is None,
                )
            )
    return answers, left_out


def shown(a: Answer, cal: Calibration) -> tuple[float, ...]:
    """What the engine would show with this map: the same steps as `verdict.shown`."""
    confs = list(a.confs)
    if not confs:
        return ()
    if cal.knots:
        confs = cal.distribution(confs)
        if a.inconclusive:
            cap = max(INCONCLUSIVE_SHOWN, confs[1] if len(confs) > 1 else 0.0)
            confs[0] = min(confs[0], cap)
    return tuple(math.floor(c * 1000.0) / 1000.0 for c in confs)


def evaluate(answers: list[Answer], cal: Calibration) -> dict[str, float]:
    rows = [a.bench_row(shown(a, cal)) for a in answers]
    ece, _ = reliability(rows)
    ll, brier = 0.0, 0.0
    for r in rows:
        p = min(max(r.top_conf, 1e-3), 1 - 1e-3)
        y = 1.0 if r.top1_correct else 0.0
        ll -= y * math.log(p) + (1 - y) * math.log(1 - p)
        brier += (p - y) ** 2
    n = max(len(rows), 1)
    false_conf = sum(1 for r in rows if r.top_conf >= CONFIDENT and not r.top1_correct)
    return {"ece": ece, "log_loss": ll / n, "brier": brier / n, "false_confident": false_conf / n}


def _points(answers: list[Answer]) -> tuple[np.ndarray, np.ndarray]:
    pts = [(a.confs[0], 1.0 if a.correct else 0.0) for a in answers if a.confs]
    arr = np.array(pts, dtype=float).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def _strict(knots: list[tuple[float, float]]) -> Calibration:
    """Knots made strictly increasing (a tiny slope where a block is flat), so that no two different
    confidences collapse into one and ranks stay visible."""
    out: list[tuple[float, float]] = []
    for x, y in knots:
        y = min(max(y, 0.0), 1.0)
        x = round(x, 4)
        if out:
            if x <= out[-1][0]:
                continue
            y = max(y, out[-1][1] + 0.01 * (x - out[-1][0]))
        # Rounded to the 4 decimals the file keeps, and still above the previous knot: a slope too small
        # to survive the rounding would merge two confidences into one.
        y = round(min(y, 1.0), 4)
        if out and y <= out[-1][1]:
            if out[-1][1] >= 1.0:
                continue
            y = round(out[-1][1] + 0.0001, 4)
        out.append((x, y))
    return Calibration(tuple(out))


def _pav(x: np.ndarray, y: np.ndarray, shrink: float) -> list[tuple[float, float]]:
    """Isotonic regression by pool-adjacent-violators; each block at its mean confidence, its accuracy
    shrunk toward that confidence by `shrink` pseudo-rows, then made non-decreasing again."""
    blocks: list[list[float]] = []  # sum x, sum y, n; accuracies never decrease
    # Equal confidences are one block from the start (their order among themselves means nothing).
    for xi in np.unique(x):
        same = x == xi
        blocks.append([float(xi) * int(same.sum()), float(y[same].sum()), float(same.sum())])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            sx, sy, n = blocks.pop()
            blocks[-1][0] += sx
            blocks[-1][1] += sy
            blocks[-1][2] += n
    out, running = [], 0.0
    for sx, sy, n in blocks:
        mx = sx / n
        running = max(running, (sy + shrink * mx) / (n + shrink))
        out.append((mx, running))
    return out


def _flat_end(blocks: list[tuple[float, float]]) -> tuple[float, float]:
    # Past the last block the map stays (almost) flat: no data says a higher raw confidence is right
    # more often, so it is not pulled up to 1 (`_strict` adds the slope that keeps ranks visible).
    return (1.0, blocks[-1][1] if blocks else 1.0)


def fit_isotonic(answers: list[Answer], shrink: float = SHRINK) -> Calibration:
    x, y = _points(answers)
    blocks = _pav(x, y, shrink)
    return _strict([(0.0, 0.0), *blocks, _flat_end(blocks)])


LINE_GAP = 0.01  # below the confident line, the map stays this far under it


def fit_isotonic_line(answers: list[Answer], shrink: float = SHRINK) -> Calibration:
    """Isotonic on each side of the confident line (0.7), each side kept on its side: no answer is moved
    across the line, so calibration alone can neither make a wrong answer confident nor a control."""
    x, y = _points(answers)
    below, above = x < CONFIDENT, x >= CONFIDENT
    edge = CONFIDENT - 1e-4
    low = [(kx, min(ky, CONFIDENT - LINE_GAP)) for kx, ky in _pav(x[below], y[below], shrink)]
    high = [(kx, max(ky, CONFIDENT)) for kx, ky in _pav(x[above], y[above], shrink) if kx > CONFIDENT]
    return _strict(
        [
            (0.0, 0.0),
            *low,
            (edge, max([edge - LINE_GAP, *(k[1] for k in low)])),
            (CONFIDENT, CONFIDENT),
            *high,
            _flat_end(high or [(CONFIDENT, CONFIDENT)]),
        ]
    )


def fit_platt(answers: list[Answer]) -> Calibration:
    x, y = _points(answers)
    z = np.log(np.clip(x, 1e-3, 1 - 1e-3) / (1 - np.clip(x, 1e-3, 1 - 1e-3)))
    a, b = 1.0, 0.0
    for _ in range(50):  # Newton's method on the log-loss, lightly regularised toward the identity
        p = 1 / (1 + np.exp(-(a * z + b)))
        w = p * (1 - p)
        g = np.array([np.sum((p - y) * z) + 0.1 * (a - 1), np.sum(p - y) + 0.1 * b])
        h = np.array([[np.sum(w * z * z) + 0.1, np.sum(w * z)], [np.sum(w * z), np.sum(w) + 0.1]])
        step = np.linalg.solve(h, g)
        a, b = a - float(step[0]), b - float(step[1])
        if float(np.abs(step).max()) < 1e-8:
            break
    if a <= 0:  # a decreasing map would reverse ranks: no calibration rather than that
        return Calibration()
    grid = [i / 40 for i in range(41)]
    knots = [(0.0, 0.0)]
    for g_ in grid[1:-1]:
        knots.append((g_, 1 / (1 + math.exp(-(a * math.log(g_ / (1 - g_)) + b)))))
    knots.append((1.0, 1.0))
    return _strict(knots)


FITTERS = {
    "identity": lambda rows: Calibration(),
    "platt": fit_platt,
    "isotonic": fit_isotonic,
    "isotonic-line": fit_isotonic_line,
}


def cross_validate(answers: list[Answer]) -> dict[str, dict[str, float]]:
    """Each method fitted on 4/5 of the dev rows, measured on the fifth (folds by scenario id)."""
    ids = sorted({a.scenario + "@" + a.source for a in answers})
    fold_of = {k: i % FOLDS for i, k in enumerate(ids)}
    out: dict[str, dict[str, float]] = {}
    for name, fit in FITTERS.items():
        held: list[tuple[Answer, Calibration]] = []
        for f in range(FOLDS):
            train = [a for a in answers if fold_of[a.scenario + "@" + a.source] != f]
            cal = fit(train)
            held.extend((a, cal) for a in answers if fold_of[a.scenario + "@" + a.source] == f)
        rows = [a.bench_row(shown(a, cal)) for a, cal in held]
        n = max(len(rows), 1)
        fc = sum(1 for r in rows if r.top_conf >= CONFIDENT and not r.top1_correct) / n
        # ECE as the benchmark reports it: per set, then averaged (pooling sets would blur their bins).
        sources = sorted({a.source for a in answers})
        per_set = [
            reliability([a.bench_row(shown(a, c)) for a, c in held if a.source == s])[0] for s in sources
        ]
        # And each set predicted by a map fitted on the other sets only: how it holds on data unlike its own.
        unseen = (
            [
                reliability(
                    [
                        a.bench_row(shown(a, fit([b for b in answers if b.source != s])))
                        for a in answers
                        if a.source == s
                    ]
                )[0]
                for s in sources
            ]
            if len(sources) > 1
            else per_set
        )
        out[name] = {
            "ece": float(np.mean(per_set)),
            "ece_unseen_set": float(np.mean(unseen)),
            "false_confident": fc,
        }
    return out


def table(answers: list[Answer], cal: Calibration) -> str:
    _, rel = reliability([a.bench_row(shown(a, cal)) for a in answers])
    lines = ["    bin        n   conf   acc"]
    for b in rel:
        lines.append(
            f"    {b['lo']:.1f}-{b['hi']:.1f}  {int(b['n']):4d}  {b['confidence']:.3f}  {b['accuracy']:.3f}"
        )
    return "\n".join(lines)


def report(title: str, answers: list[Answer], cal: Calibration) -> None:
    by_source: dict[str, list[Answer]] = {}
    for a in answers:
        by_source.setdefault(a.source, []).append(a)
    for src, rows in sorted(by_source.items()):
        before, after = evaluate(rows, Calibration()), evaluate(rows, cal)
        print(
            f"{title} {src:24} n={len(rows):3d}  ECE {before['ece']:.3f} → {after['ece']:.3f}   "
            f"false-confident {before['false_confident']:.3f} → {after['false_confident']:.3f}"
        )


def _render(about: dict[str, object], knots: tuple[tuple[float, float], ...]) -> str:
    # One knot per line: the map is meant to be read in review.
    head = json.dumps(about, indent=1)
    rows = ",\n".join(f"  {json.dumps(list(k))}" for k in knots)
    return head[:-2] + ',\n "knots": [\n' + rows + "\n ]\n}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bench", nargs="+", type=Path, help="compass lab bench JSON files (dev splits)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    ap.add_argument(
        "--check", action="store_true", help="only measure these rows (any split) under the packaged map"
    )
    args = ap.parse_args()
    if args.check:
        answers, left_out = read_rows(args.bench, allow_heldout=True)
        cal = load_calibration(args.out)
        report("check", answers, cal)
        print("reliability before:\n" + table(answers, Calibration()))
        print("reliability after:\n" + table(answers, cal))
        return
    answers, left_out = read_rows(args.bench)
    if len(answers) < MIN_ROWS:
        sys.exit(f"only {len(answers)} usable dev rows (need {MIN_ROWS}): run more dev benchmarks")
    cv = cross_validate(answers)
    for name, m in cv.items():
        print(
            f"cross-validated {name:13} ECE per set {m['ece']:.3f}"
            f"  leave-one-set-out {m['ece_unseen_set']:.3f}  false-confident {m['false_confident']:.3f}"
        )
    # The best-calibrated candidate that makes no more confidently-wrong answers than showing the raw
    # confidences does: a confident wrong answer is worse than an under-confident right one.
    allowed = [k for k in cv if cv[k]["false_confident"] <= cv["identity"]["false_confident"] + 1e-9]
    best = min(allowed, key=lambda k: (cv[k]["ece_unseen_set"], k != "identity"))
    cal = FITTERS[best](answers)
    report(f"in-sample ({best})", answers, cal)
    print("reliability, dev, after:\n" + table(answers, cal))
    fit = {
        "method": best,
        "shrink": SHRINK if best.startswith("isotonic") else None,
        "rule": "lowest leave-one-set-out ECE among maps with no more false-confident answers than identity",
        "sets": sorted({a.source for a in answers}),
        "n": len(answers),
        "left_out_cut_by_budget": left_out["cut"],
        "left_out_errors": left_out["error"],
        "cv_ece_per_set": {k: round(v["ece"], 4) for k, v in cv.items()},
        "cv_ece_leave_one_set_out": {k: round(v["ece_unseen_set"], 4) for k, v in cv.items()},
        "cv_false_confident": {k: round(v["false_confident"], 4) for k, v in cv.items()},
        "date": dt.date.today().isoformat(),
    }
    about: dict[str, object] = {
        "about": "shown-confidence calibration map, fitted on dev outputs only by scripts/fit_calibration.py",
        "fit": fit,
    }
    if best == "identity":
        print("no map beats the identity in cross-validation: writing none")
        if not args.dry_run and args.out.exists():
            args.out.unlink()
        return
    if not args.dry_run:
        args.out.write_text(_render(about, cal.knots))
        print(f"written {args.out}")


if __name__ == "__main__":
    main()

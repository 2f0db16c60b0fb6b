"""Benchmark: does COMPASS learn from one correction, without disturbing unrelated incidents?

Goal (issue 5): after one correction, the next similar incident ranks the corrected cause first in ≥ 95 %
of cases, and accuracy on unrelated scenarios moves by less than 1 point.

    .venv/bin/python benchmarks/learning.py [--split dev] [--only SUBSTRING] [--concurrency 2]

1. before   every scenario of the split, memory off (its signature is still captured) → baseline ranks.
2. teach    every fault scenario whose top-1 was wrong, plus every fault scenario in a look-alike group:
            its investigation and signature are recorded (as `compass investigate` records them) and ONE
            correction with the true cause is applied (`store.feedback.correct`, author "@bench").
3. recur    the taught scenarios are investigated again with memory on — the same incident recurring —
            → the share ranking the corrected cause first.
4. others   every scenario that was not taught, again with memory on → accuracy before vs after.
            Look-alike partners are taught too, so interference between look-alikes shows up in (3).

A fresh embedded PostgreSQL (temporary directory) and the local MiniLM embedder, as on a laptop; the lab
is served in-process. Prints a before/after table and writes bench-results/learning-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compass_cli.memory import CliMemory
from compass_lab.harness import incident_for, investigate_scenario, lab_server
from compass_lab.model import Scenario, Split
from compass_lab.scenarios import all_scenarios
from compass_worker.domain.events import NullSink
from compass_worker.domain.models import Verdict
from compass_worker.errors import CompassError
from compass_worker.knowledge import Cause, FeedbackChannel, KnowledgeSettings, KnowledgeStore
from compass_worker.runner import Catalogs
from compass_worker.settings import Settings, load_settings

USER = "bench"
AUTHOR = "@bench"
OUT = Path(__file__).resolve().parents[1] / "bench-results" / "learning-latest.json"
RECUR_TARGET = 0.95
UNRELATED_MAX_POINTS = 1.0


@dataclass
class Outcome:
    """One investigation of one scenario, reduced to what the benchmark scores."""

    scenario_id: str
    truth: str | None  # "component/fault"; None for a control
    verdict: str
    ranked: list[str] = field(default_factory=list)  # "component/fault", best first
    confidence: list[float] = field(default_factory=list)  # beside `ranked`
    eliminated: list[str] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)  # "component/fault" -> score added by memory
    error: str | None = None

    @property
    def rank(self) -> int | None:
        return self.ranked.index(self.truth) + 1 if self.truth in self.ranked else None

    @property
    def correct(self) -> bool:
        """Top-1 is the truth; a control is correct when the verdict is inconclusive."""
        if self.truth is None:
            return self.verdict == "inconclusive"
        return self.rank == 1


def _truth(s: Scenario) -> str | None:
    return f"{s.truth_component}/{s.truth_fault}" if s.truth_fault else None


def _outcome(s: Scenario, verdict: Verdict | None, memory: CliMemory, error: str | None = None) -> Outcome:
    if verdict is None:
        return Outcome(s.id, _truth(s), "error", error=error)
    return Outcome(
        s.id,
        _truth(s),
        verdict.verdict,
        [f"{rc.component}/{rc.fault}" for rc in verdict.root_causes],
        [rc.confidence for rc in verdict.root_causes],
        [f"{e.component}/{e.fault}" for e in verdict.eliminated],
        list(memory.citations),
        {f"{a.component}/{a.fault}": round(a.weight, 3) for a in memory.adjustments},
    )


class Bench:
    def __init__(self, lab_url: str, store: KnowledgeStore, settings: Settings, concurrency: int) -> None:
        self.lab_url = lab_url
        self.store = store
        self.settings = settings
        self.catalogs = Catalogs.load(settings)
        self.sem = asyncio.Semaphore(concurrency)

    async def one(self, s: Scenario, *, recall: bool) -> tuple[Outcome, Verdict | None, CliMemory]:
        memory = CliMemory(self.store, USER, recall=recall)
        async with self.sem:
            try:
                result = await investigate_scenario(
                    self.lab_url, s, self.settings, NullSink(), catalogs=self.catalogs, memory=memory.priors
                )
            except CompassError as exc:
                return _outcome(s, None, memory, str(exc)), None, memory
        return _outcome(s, result.verdict, memory), result.verdict, memory

    async def many(
        self, label: str, scenarios: Sequence[Scenario], *, recall: bool
    ) -> list[tuple[Outcome, Verdict | None, CliMemory]]:
        done = 0

        async def tracked(s: Scenario) -> tuple[Outcome, Verdict | None, CliMemory]:
            nonlocal done
            out = await self.one(s, recall=recall)
            done += 1
            mark = "✓" if out[0].correct else "·"
            print(f"  {label} [{done}/{len(scenarios)}] {mark} {s.id}", file=sys.stderr, flush=True)
            return out

        return list(await asyncio.gather(*(tracked(s) for s in scenarios)))

    async def teach(self, s: Scenario, verdict: Verdict, memory: CliMemory) -> None:
        """Record the investigation as the CLI would, then one correction with the true cause."""
        incident = incident_for(s)
        investigation_id = await memory.record(incident, verdict)
        if investigation_id is None:
            raise CompassError(f"recording {s.id} failed: {memory.notice}")
        assert s.truth_component is not None and s.truth_fault is not None
        await self.store.feedback.correct(
            investigation_id,
            Cause(component=s.truth_component, fault=s.truth_fault),
            author=AUTHOR,
            channel=FeedbackChannel.CLI,
        )


def _share(outcomes: Sequence[Outcome]) -> float:
    return sum(o.correct for o in outcomes) / len(outcomes) if outcomes else float("nan")


def _joint(outcomes: Sequence[Outcome]) -> float:
    faults = [o for o in outcomes if o.truth is not None]
    return _share(faults)


def _pct(x: float) -> str:
    return "  n/a" if x != x else f"{100 * x:5.1f}%"


@dataclass
class Pair:
    """One scenario before (memory off) and after (memory on)."""

    before: Outcome
    after: Outcome
    rank_before: int | None
    rank_after: int | None


@dataclass
class Summary:
    split: str
    scenarios: int
    taught: int
    taught_wrong_before: int
    taught_lookalike: int
    recur_before_top1: float
    recur_after_top1: float
    unrelated: int
    unrelated_before_correct: float
    unrelated_after_correct: float
    unrelated_before_joint_at1: float
    unrelated_after_joint_at1: float
    unrelated_changed: list[str]
    unrelated_with_citations: int
    seconds: float
    recur_target: float = RECUR_TARGET
    unrelated_max_points: float = UNRELATED_MAX_POINTS

    @property
    def unrelated_moved_points(self) -> float:
        return 100 * abs(self.unrelated_after_correct - self.unrelated_before_correct)

    @property
    def recur_ok(self) -> bool:
        return self.recur_after_top1 >= self.recur_target

    @property
    def unrelated_ok(self) -> bool:
        return self.unrelated_moved_points < self.unrelated_max_points


@dataclass
class LearningResult:
    summary: Summary
    recur: list[Pair]
    unrelated: list[Pair]

    def to_json(self) -> dict[str, object]:
        summary = asdict(self.summary)
        summary.update(
            unrelated_moved_points=round(self.summary.unrelated_moved_points, 2),
            recur_ok=self.summary.recur_ok,
            unrelated_ok=self.summary.unrelated_ok,
        )
        return {
            "summary": summary,
            "recur": [asdict(p) for p in self.recur],
            "unrelated": [asdict(p) for p in self.unrelated],
        }


async def run(scenarios: list[Scenario], settings: Settings, concurrency: int) -> LearningResult:
    t0 = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="compass-learning-"))
    knowledge = KnowledgeSettings.model_validate({"DATABASE_URL": None, "data_dir": str(root)})
    try:
        async with lab_server(scenarios) as lab, KnowledgeStore.open(knowledge) as store:
            bench = Bench(lab.url, store, settings, concurrency)
            before = await bench.many("before", scenarios, recall=False)
            by_id = {o.scenario_id: (o, v, m) for o, v, m in before}

            lookalike = {s.id for s in scenarios if s.lookalike_group and s.truth_fault}
            taught = [
                s
                for s in scenarios
                if s.truth_fault
                and by_id[s.id][1] is not None
                and (not by_id[s.id][0].correct or s.id in lookalike)
            ]
            for s in taught:
                _, verdict, memory = by_id[s.id]
                assert verdict is not None
                await bench.teach(s, verdict, memory)
            taught_ids = {s.id for s in taught}

            recur = await bench.many("recur", taught, recall=True)
            others = [s for s in scenarios if s.id not in taught_ids]
            after = await bench.many("others", others, recall=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    first = {o.scenario_id: o for o, _, _ in before}

    def pair(o: Outcome) -> Pair:
        b = first[o.scenario_id]
        return Pair(b, o, b.rank, o.rank)

    recur_p = [pair(o) for o, _, _ in recur]
    after_p = [pair(o) for o, _, _ in after]
    summary = Summary(
        split=scenarios[0].split.value,
        scenarios=len(scenarios),
        taught=len(recur_p),
        taught_wrong_before=sum(1 for s in taught if not first[s.id].correct),
        taught_lookalike=sum(1 for s in taught if s.id in lookalike),
        recur_before_top1=_share([p.before for p in recur_p]),
        recur_after_top1=_share([p.after for p in recur_p]),
        unrelated=len(after_p),
        unrelated_before_correct=_share([p.before for p in after_p]),
        unrelated_after_correct=_share([p.after for p in after_p]),
        unrelated_before_joint_at1=_joint([p.before for p in after_p]),
        unrelated_after_joint_at1=_joint([p.after for p in after_p]),
        unrelated_changed=sorted(p.after.scenario_id for p in after_p if p.after.correct != p.before.correct),
        unrelated_with_citations=sum(1 for p in after_p if p.after.citations),
        seconds=round(time.monotonic() - t0, 1),
    )
    return LearningResult(summary, recur_p, after_p)


def render(result: LearningResult) -> str:
    s = result.summary
    verdict = {True: "PASS", False: "FAIL"}
    lines = [
        f"learning benchmark — split {s.split}, {s.scenarios} scenarios, {s.seconds} s",
        f"taught (one correction each): {s.taught} "
        f"({s.taught_wrong_before} wrong before, {s.taught_lookalike} in look-alike groups)",
        "",
        f"{'':36} {'before':>8} {'after':>8}  goal",
        f"{'recurrence: corrected cause top-1':36} {_pct(s.recur_before_top1):>8} "
        f"{_pct(s.recur_after_top1):>8}  ≥ {100 * s.recur_target:.0f}%  {verdict[s.recur_ok]}",
        f"{'unrelated: correct (faults+controls)':36} {_pct(s.unrelated_before_correct):>8} "
        f"{_pct(s.unrelated_after_correct):>8}  moves < {s.unrelated_max_points:.0f} pt  "
        f"{verdict[s.unrelated_ok]} ({s.unrelated_moved_points:.1f} pt)",
        f"{'unrelated: joint@1 (faults only)':36} {_pct(s.unrelated_before_joint_at1):>8} "
        f"{_pct(s.unrelated_after_joint_at1):>8}",
        f"unrelated investigations citing memory: {s.unrelated_with_citations}/{s.unrelated}; "
        f"changed: {', '.join(s.unrelated_changed) or 'none'}",
    ]
    for p in result.recur:
        if p.rank_after != 1:
            a = p.after
            lines.append(
                f"  miss {a.scenario_id}: truth {a.truth} rank {p.rank_before} → {p.rank_after}, "
                f"top {a.ranked[:1]}, refuted={a.truth in a.eliminated}, memory {a.memory}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", default="dev", choices=[s.value for s in Split])
    parser.add_argument("--only", help="only scenarios whose id contains this (repeatable)", action="append")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    scenarios = [
        s
        for s in all_scenarios(Split(args.split))
        if not args.only or any(part in s.id for part in args.only)
    ]
    if not scenarios:
        print("learning: no scenario matches", file=sys.stderr)
        return 2
    result = asyncio.run(run(scenarios, load_settings(), args.concurrency))
    print(render(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result.to_json(), indent=1))
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`compass lab bench`: the engine over lab splits through the real mcp-grafana, beside the baselines.

The lab is served from a separate process (as a real Grafana would be), so that the engine's timings
are not distorted by the simulator sharing its interpreter. Investigations run one at a time by
default: the figures are per-investigation latencies on this machine, not throughput.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import httpx

from compass_lab.bench.baselines import baseline_onset, rank_components
from compass_lab.bench.metrics import Row, Summary, summarise
from compass_lab.bench.report import breakdown, render, render_breakdown
from compass_lab.datasets import DEFAULT_DATASET, TelemetryBuilder, load_dataset
from compass_lab.model import Scenario, Split
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.domain.events import NullSink
from compass_worker.errors import CompassError, ConfigError
from compass_worker.reasoners.factory import ReasonerFactory, build_reasoner_factory
from compass_worker.reasoners.settings import LlmSettings
from compass_worker.runner import Catalogs
from compass_worker.settings import Settings


class LabProcess:
    """`compass lab serve` in a child process on a free loopback port."""

    def __init__(self, dataset: str = DEFAULT_DATASET) -> None:
        self.dataset = dataset
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LabProcess:
        self._proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "compass_lab.cli", "lab", "serve"),
                *("--port", str(self.port), "--dataset", self.dataset),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ConfigError("the lab server exited at start")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise ConfigError("the lab server did not start within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


async def _one(
    url: str, s: Scenario, settings: Settings, catalogs: Catalogs, reasoners: ReasonerFactory | None
) -> Row:
    from compass_lab.harness import investigate_scenario

    reasoner = reasoners.for_investigation() if reasoners is not None else None
    try:
        result = await investigate_scenario(
            url, s, settings, NullSink(), catalogs=catalogs, reasoner=reasoner
        )
    except CompassError as exc:
        return Row(
            s.id, s.split.value, s.truth_fault, s.truth_component, "error", (), None, 0.0, 0, error=str(exc)
        )
    v = result.verdict
    return Row(
        s.id,
        s.split.value,
        s.truth_fault,
        s.truth_component,
        v.verdict,
        tuple((rc.component, rc.fault, rc.confidence) for rc in v.root_causes),
        v.timings.first_hypothesis_s,
        v.timings.verdict_s,
        v.tool_calls,
    )


async def _engine_rows(
    url: str, scenarios: list[Scenario], settings: Settings, concurrency: int, llm: LlmSettings | None = None
) -> list[Row]:
    # COMPASS_LLM: the worker's reasoner factory, one model pool for the whole run (closed at the end).
    reasoners = build_reasoner_factory(llm, MemoryLedger()) if llm is not None else None
    try:
        return await _rows(url, scenarios, settings, concurrency, reasoners)
    finally:
        if reasoners is not None:
            await reasoners.aclose()


async def _rows(
    url: str,
    scenarios: list[Scenario],
    settings: Settings,
    concurrency: int,
    reasoners: ReasonerFactory | None,
) -> list[Row]:
    catalogs = Catalogs.load(settings)
    sem = asyncio.Semaphore(concurrency)
    done = 0

    async def guarded(s: Scenario) -> Row:
        nonlocal done
        async with sem:
            row = await _one(url, s, settings, catalogs, reasoners)
            done += 1
            mark = (
                "✓" if row.joint_rank() == 1 or (row.fault is None and row.verdict == "inconclusive") else "·"
            )
            print(f"  [{done}/{len(scenarios)}] {mark} {s.id}", file=sys.stderr, flush=True)
            return row

    return list(await asyncio.gather(*(guarded(s) for s in scenarios)))


def _with_baselines(
    rows: list[Row], scenarios: dict[str, Scenario], build_telemetry: TelemetryBuilder
) -> list[Row]:
    from dataclasses import replace

    out = []
    for r in rows:
        s = scenarios[r.scenario_id]
        tel = build_telemetry(s)
        onset = baseline_onset(s)
        baro = tuple(c for c, _ in rank_components(tel, onset, robust=True))
        maxz = tuple(c for c, _ in rank_components(tel, onset, robust=False))
        out.append(replace(r, baro=baro, maxz=maxz))
    return out


def _breakdowns(rows: list[Row], scenarios: dict[str, Scenario]) -> dict[str, dict[str, Summary]]:
    """Per system when a split spans several, and per the dataset's own fault variant when it has them."""
    out: dict[str, dict[str, Summary]] = {}
    for split in sorted({r.split for r in rows}):
        in_split = [r for r in rows if r.split == split]
        if len({scenarios[r.scenario_id].system for r in in_split}) > 1:
            out[f"split {split}, per system"] = breakdown(in_split, lambda r: scenarios[r.scenario_id].system)
        if any(scenarios[r.scenario_id].variant for r in in_split):
            out[f"split {split}, per system and fault variant"] = breakdown(
                in_split,
                lambda r: (
                    f"{scenarios[r.scenario_id].system}/{scenarios[r.scenario_id].variant or 'control'}"
                ),
            )
    return out


def run_bench(
    splits: Sequence[str],
    settings: Settings,
    out_dir: Path | None,
    concurrency: int = 1,
    only: str | None = None,
    dataset: str = DEFAULT_DATASET,
    llm: LlmSettings | None = None,
    baselines: bool = True,
) -> dict[str, Summary]:
    data = load_dataset(dataset)
    wanted = {Split(s) for s in splits}
    scenarios = [s for s in data.scenarios() if s.split in wanted and (only is None or only in s.id)]
    if not scenarios:
        raise ConfigError("no scenario matches")
    by_id = {s.id: s for s in scenarios}
    with LabProcess(dataset) as lab:
        rows = asyncio.run(_engine_rows(lab.url, scenarios, settings, concurrency, llm))
    if baselines:  # they rebuild every scenario's telemetry: minutes on the bigger datasets
        rows = _with_baselines(rows, by_id, data.build_telemetry)
    # a dataset without a split (nezha-dev has only dev) prints no empty table for it
    present = [split for split in splits if any(r.split == split for r in rows)]
    summaries = {split: summarise([r for r in rows if r.split == split]) for split in present}
    print(render(summaries))
    groups = _breakdowns(rows, by_id)
    for title, by_group in groups.items():
        print(render_breakdown(title, by_group))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        payload = {
            "summaries": {k: asdict(v) for k, v in summaries.items()},
            "rows": [asdict(r) for r in rows],
            "breakdowns": {t: {k: asdict(v) for k, v in g.items()} for t, g in groups.items()},
        }
        for name in (f"bench-{stamp}.json", "bench-latest.json"):
            (out_dir / name).write_text(json.dumps(payload, indent=1))
        print(f"results written to {out_dir / 'bench-latest.json'}")
    return summaries

"""Benchmark: LLM tokens per investigation, and accuracy with the LLM on vs off, side by side in one run.

Not a test: it prints figures. Each lab scenario is investigated twice through the real mcp-grafana — the
built-in engine alone, then with the LLM reasoner driven by a scripted model (no network, no weights) —
and the reasoner's recorded usage is summarised (median and p95 input/output tokens per investigation;
goal: median input <= 15,000). Token counts are the reasoner's estimates of what it sent (3.5 characters
per token), i.e. the size of the condensed, redacted, budget-trimmed prompts a hosted model would bill.
The scripted model answers plausibly (a hypothesis on the strongest anomaly, a PromQL check, a summary
naming the verdict's top component); accuracy with it must never fall below the engine's alone.

    .venv/bin/python benchmarks/llm_tokens.py [--n 20] [--split dev]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compass_lab.harness import incident_for, lab_server, scenario_mcp_config
from compass_lab.model import Scenario, Split
from compass_lab.scenarios import all_scenarios
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.domain.events import NullSink
from compass_worker.domain.models import Verdict
from compass_worker.reasoners.llm import LlmRequest
from compass_worker.reasoners.llm_reasoner import LlmReasoner
from compass_worker.reasoners.scripted import ScriptedModel, Step
from compass_worker.runner import Catalogs, investigate
from compass_worker.settings import Settings

_ROW = re.compile(r"^\{.*\}$")


def _rows(prompt: str, kind: str) -> list[dict[str, object]]:
    """The JSON rows of one `<data kind=...>` block of a prompt."""
    m = re.search(rf'<data [^>]*kind="{kind}"[^>]*>\n(.*?)\n</data>', prompt, re.S)
    if not m:
        return []
    return [json.loads(line) for line in m.group(1).splitlines() if _ROW.match(line)]


def respond(req: LlmRequest) -> Step:
    prompt = req.messages[0].content
    if req.tool.name == "propose_hypotheses":
        top = _rows(prompt, "anomalies")[:1]
        return {
            "hypotheses": [
                {
                    "component": str(a["component"]),
                    "fault": "other",
                    "description": f"{a['signal']} anomaly",
                    "rationale": "strongest anomaly",
                }
                for a in top
            ]
        }
    if req.tool.name == "propose_checks":
        hyps = _rows(prompt, "hypotheses")[:1]
        return {
            "checks": [
                {
                    "hypothesis_id": str(h["id"]),
                    "purpose": "a flat error rate refutes it",
                    "language": "promql",
                    "query": "sum(rate(http_requests_total[5m]))",
                }
                for h in hyps
            ]
        }
    verdict = _rows(prompt, "verdict")
    causes: object = verdict[0].get("root_causes") if verdict else None
    first = causes[0] if isinstance(causes, list) and causes else None
    if isinstance(first, dict):
        return {"summary": f"{first['component']}: {first['fault']} (confidence {first['confidence']})."}
    return {"summary": "No cause survived the checks; see the observations and gaps."}


@dataclass
class Run:
    scenario: Scenario
    off: Verdict
    on: Verdict
    input_tokens: int
    output_tokens: int
    calls: int
    avoided: int


def correct(s: Scenario, v: Verdict) -> bool:
    if s.truth_fault is None:
        return v.verdict == "inconclusive"
    return v.confident and (v.root_causes[0].component, v.root_causes[0].fault) == (
        s.truth_component,
        s.truth_fault,
    )


async def run_one(url: str, s: Scenario, settings: Settings, cats: Catalogs) -> Run:
    config = scenario_mcp_config(url, s)
    off = (await investigate(incident_for(s), config, settings, NullSink(), catalogs=cats)).verdict
    model = ScriptedModel(respond, provider="anthropic", model="claude-haiku-4-5")
    reasoner = LlmReasoner(
        {"orient": model, "decide": model, "summarize": model},
        ledger=MemoryLedger(),
        prices=PriceTable.load(),
    )
    on = (
        await investigate(incident_for(s), config, settings, NullSink(), catalogs=cats, reasoner=reasoner)
    ).verdict
    cost = reasoner.report().cost
    return Run(s, off, on, cost.input_tokens, cost.output_tokens, cost.llm_calls, reasoner.calls_avoided)


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]) if ordered else 0.0


async def main(n: int, split: str) -> None:
    scenarios = all_scenarios(Split(split))[:n]
    settings = Settings()
    cats = Catalogs.load(settings)
    runs: list[Run] = []
    started = time.monotonic()
    with lab_server(scenarios) as lab:
        for i, s in enumerate(scenarios, 1):
            r = await run_one(lab.url, s, settings, cats)
            runs.append(r)
            print(
                f"  [{i}/{len(scenarios)}] {s.id}: off {'✓' if correct(s, r.off) else '·'} "
                f"on {'✓' if correct(s, r.on) else '·'}  in {r.input_tokens:,} out {r.output_tokens:,} "
                f"({r.calls} calls, {r.avoided} avoided)",
                file=sys.stderr,
                flush=True,
            )
    ins = [r.input_tokens for r in runs]
    outs = [r.output_tokens for r in runs]
    acc_off = sum(correct(r.scenario, r.off) for r in runs)
    acc_on = sum(correct(r.scenario, r.on) for r in runs)
    lowered = [r.scenario.id for r in runs if correct(r.scenario, r.off) and not correct(r.scenario, r.on)]
    same = sum(
        [(c.component, c.fault, c.confidence) for c in r.on.root_causes]
        == [(c.component, c.fault, c.confidence) for c in r.off.root_causes]
        for r in runs
    )
    print(
        f"\nLLM tokens per investigation — {len(runs)} {split} scenarios, scripted model, "
        f"{time.monotonic() - started:.0f} s"
    )
    print(
        f"  input   median {statistics.median(ins):>8,.0f}   p95 {pct(ins, 0.95):>8,.0f}   "
        f"(goal: median <= 15,000) {'OK' if statistics.median(ins) <= 15_000 else 'OVER'}"
    )
    print(f"  output  median {statistics.median(outs):>8,.0f}   p95 {pct(outs, 0.95):>8,.0f}")
    print(f"  calls   {sum(r.calls for r in runs)} made, {sum(r.avoided for r in runs)} avoided")
    print("\nAccuracy (top-1 component+fault; controls: inconclusive), same scenarios, same run")
    print(f"  LLM off  {acc_off}/{len(runs)}  ({acc_off / len(runs):.0%})")
    print(f"  LLM on   {acc_on}/{len(runs)}  ({acc_on / len(runs):.0%})")
    print(
        f"  identical ranked root causes: {same}/{len(runs)}; "
        f"lowered by the LLM: {len(lowered)} {lowered or ''}"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--split", default="dev", choices=["dev", "heldout"])
    a = p.parse_args()
    asyncio.run(main(a.n, a.split))

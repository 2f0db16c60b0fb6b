"""`compass demo`: the lab, the real mcp-grafana and a live investigation — nothing else needed."""

from __future__ import annotations

import argparse
import asyncio
import sys

from compass_cli.investigate import choose_sink
from compass_cli.render import dumps
from compass_worker.errors import ConfigError
from compass_worker.settings import load_settings


def run_demo(args: argparse.Namespace) -> int:
    from compass_lab.harness import investigate_scenario, lab_server
    from compass_lab.scenarios import DEFAULT_SCENARIO_ID, all_scenarios

    settings = load_settings()
    scenarios = {s.id: s for s in all_scenarios()}
    sid = args.scenario or DEFAULT_SCENARIO_ID
    if sid not in scenarios:
        raise ConfigError(f"unknown scenario {sid!r} (see `compass lab list`)")
    scenario = scenarios[sid]
    if not args.json:
        print(
            f"COMPASS demo · lab scenario {scenario.id}\n  {scenario.title}\n"
            f"  on-call reports: “{scenario.symptom}”\n"
        )
    with lab_server([scenario], scenario.id) as lab:
        result = asyncio.run(investigate_scenario(lab.url, scenario, settings, choose_sink(args.json)))
    if args.json:
        sys.stdout.write(dumps(result.verdict) + "\n")
        return 0
    v = result.verdict
    truth = (
        f"{scenario.truth_component} · {scenario.truth_fault}"
        if scenario.truth_fault
        else "no fault (a control: the right answer is inconclusive)"
    )
    top = v.root_causes[0] if v.root_causes and v.verdict == "root_cause" else None
    right = (
        top is not None and (top.component, top.fault) == (scenario.truth_component, scenario.truth_fault)
    ) or (scenario.truth_fault is None and v.verdict == "inconclusive")
    print(f"lab ground truth: {truth} — COMPASS was {'right' if right else 'wrong'}")
    return 0

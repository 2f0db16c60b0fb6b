"""`compass demo`: the lab, the real mcp-grafana and a live investigation — nothing else needed.

With COMPASS_LLM set the worker's reasoner takes part (tokens and cost in the verdict; the calls go to
the knowledge store's ledger when it can be opened, else they are only reported).
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import AsyncExitStack

from compass_cli.display import ordinal, pct, ranked
from compass_cli.errors import note
from compass_cli.llm import cli_ledger, cli_reasoner, load_cli_settings
from compass_cli.options import output_format
from compass_cli.output import Output, make_output, print_document
from compass_lab.model import Scenario
from compass_worker.domain.models import Verdict
from compass_worker.errors import ConfigError
from compass_worker.reasoners.settings import LlmSettings
from compass_worker.runner import RunResult
from compass_worker.settings import Settings


def outcome_line(scenario: Scenario, v: Verdict) -> str:
    """What happened against the lab's ground truth, in words: right, wrong, or where the truth ranked."""
    if scenario.truth_fault is None:
        truth = "no fault (a control: the right answer is inconclusive)"
        said = "inconclusive — right" if v.verdict == "inconclusive" else "a root cause — wrong for a control"
        return f"lab ground truth: {truth} — COMPASS answered {said}"
    truth = f"{scenario.truth_component} · {scenario.truth_fault}"
    causes = ranked(v)
    rank = next(
        (
            i
            for i, rc in enumerate(causes, 1)
            if (rc.component, rc.fault) == (scenario.truth_component, scenario.truth_fault)
        ),
        None,
    )
    if v.verdict == "root_cause" and rank == 1:
        said = f"COMPASS was right ({pct(causes[0].confidence)} confidence)"
    elif rank is None:
        kind = "root cause" if v.verdict == "root_cause" else "inconclusive verdict"
        said = f"COMPASS was wrong: the right cause is not among the {kind}'s candidates"
    else:
        at = f"ranked {ordinal(rank)} of {len(causes)} at {pct(causes[rank - 1].confidence)}"
        said = (
            f"COMPASS was wrong: the right cause was {at}"
            if v.verdict == "root_cause"
            else f"inconclusive; the right cause was {at}"
        )
    return f"lab ground truth: {truth} — {said}"


async def _investigate(
    lab_url: str, scenario: Scenario, settings: Settings, llm: LlmSettings, out: Output
) -> RunResult:
    from compass_lab.harness import investigate_scenario

    async with AsyncExitStack() as stack:
        store = None
        if llm.configured:
            from compass_cli.memory import open_cli_memory

            memory = await stack.enter_async_context(open_cli_memory(recall=False))
            store = memory.store
            if store is None and memory.notice:
                note(f"LLM calls not written to the cost ledger: {memory.notice}")
        reasoner = cli_reasoner(llm, cli_ledger(store))
        if reasoner is not None:
            stack.push_async_callback(reasoner.aclose)
        out.starting("starting mcp-grafana…")
        try:
            return await investigate_scenario(lab_url, scenario, settings, out.sink, reasoner=reasoner)
        finally:
            out.stop()


def run_demo(args: argparse.Namespace) -> int:
    from compass_lab.harness import lab_server
    from compass_lab.scenarios import DEFAULT_SCENARIO_ID, all_scenarios

    settings, llm = load_cli_settings()
    fmt = output_format(args)
    scenarios = {s.id: s for s in all_scenarios()}
    sid = args.scenario or DEFAULT_SCENARIO_ID
    if sid not in scenarios:
        raise ConfigError(f"unknown scenario {sid!r} (see `compass lab list`)")
    scenario = scenarios[sid]
    out = make_output(fmt, verbose=args.verbose, no_color=args.no_color)
    if fmt == "text":
        out.console.print(
            f"COMPASS demo · lab scenario {scenario.id}\n  {scenario.title}\n"
            f"  on-call reports: “{scenario.symptom}”\n",
            highlight=False,
        )
    out.starting("starting the lab…")
    try:
        with lab_server([scenario], scenario.id) as lab:
            result = asyncio.run(_investigate(lab.url, scenario, settings, llm, out))
    finally:
        out.stop()
    print_document(fmt, result.verdict, investigation_id=None, dead=False)
    if fmt == "text":
        out.console.print(outcome_line(scenario, result.verdict), highlight=False, soft_wrap=True)
    return 0

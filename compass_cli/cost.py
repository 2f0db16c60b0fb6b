"""`compass cost [--since 7d] [--by model|phase|investigation] [--json]` — what investigations cost.

Reads the ledger in the knowledge store (DATABASE_URL, or the embedded server). Without --since it shows
the `/compass cost` view: today, 7 days and 30 days. Exit codes as the other commands: 0 ok, 2 bad input,
3 the database is unreachable, 1 anything unexpected (one line, never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import cast

from compass_worker.cost.ledger import StoreLedger, utc_now
from compass_worker.cost.report import GroupBy, cost_report, render_text
from compass_worker.engine.incident import parse_duration
from compass_worker.errors import ConfigError, ExternalError
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.reasoners.settings import LlmSettings, load_llm_settings

KnowledgeFactory = Callable[[], KnowledgeSettings]
LlmFactory = Callable[[], LlmSettings]


def add_cost_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: KnowledgeFactory = KnowledgeSettings,
    llm_settings: LlmFactory = load_llm_settings,
) -> None:
    p = subparsers.add_parser("cost", help="LLM spend and tokens: by model, phase, investigation")
    p.add_argument(
        "--since", metavar="AGE", help="one window back from now, e.g. 24h, 7d, 30d (default: today/7d/30d)"
    )
    p.add_argument(
        "--by",
        action="append",
        choices=["model", "phase", "investigation"],
        help="breakdown(s) to show (repeatable; default: model and phase)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=lambda args: _run(args, settings, llm_settings))


def _run(args: argparse.Namespace, settings: KnowledgeFactory, llm_settings: LlmFactory) -> int:
    try:
        return asyncio.run(_cost(args, settings(), llm_settings()))
    except ConfigError as exc:
        print(f"compass: {exc}", file=sys.stderr)
        return 2
    except (ExternalError, OSError, TimeoutError) as exc:
        print(f"compass: cost ledger unavailable: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # the last line of defence: one line, never a traceback
        print(f"compass: unexpected error ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 1


async def _cost(args: argparse.Namespace, settings: KnowledgeSettings, llm: LlmSettings) -> int:
    from compass_worker.knowledge.store import KnowledgeStore

    since = utc_now() - timedelta(seconds=parse_duration(args.since)) if args.since else None
    by = cast(list[GroupBy], args.by or ["model", "phase"])
    async with KnowledgeStore.open(settings) as store:
        report = await cost_report(
            StoreLedger(store), llm_configured=llm.configured, since=since, since_label=args.since
        )
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=1))
    else:
        print(render_text(report, by))
    return 0

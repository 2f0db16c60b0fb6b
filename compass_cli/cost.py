"""`compass cost [--since 7d] [--by model|phase|investigation] [--json]` — what investigations cost.

Reads the ledger in the knowledge store (DATABASE_URL, or the embedded server). Without --since it shows
the `/compass cost` view: today, 7 days and 30 days. Exit codes as the other commands: 0 ok, 2 bad input,
3 the database is unreachable, 1 anything unexpected (one line, never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from compass_cli.errors import EXIT_INTERNAL, EXIT_UNAVAILABLE, EXIT_USAGE, fail, note
from compass_worker.engine.incident import parse_duration
from compass_worker.errors import ConfigError, ExternalError
from compass_worker.reasoners.settings import LlmSettings, load_llm_settings

if TYPE_CHECKING:  # the store is imported when the command runs: `compass --help` stays fast
    from compass_worker.knowledge.settings import KnowledgeSettings

MAX_SINCE_DAYS = 3660
KnowledgeFactory = Callable[[], "KnowledgeSettings"]
LlmFactory = Callable[[], LlmSettings]


def add_cost_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: KnowledgeFactory | None = None,
    llm_settings: LlmFactory = load_llm_settings,
) -> None:
    p = subparsers.add_parser("cost", help="LLM spend and tokens: by model, phase, investigation")
    p.add_argument(
        "--since",
        metavar="AGE",
        help="one window back from now, e.g. 24h, 7d, 30d; a bare number is days (default: today/7d/30d)",
    )
    p.add_argument(
        "--by",
        action="append",
        choices=["model", "phase", "investigation"],
        help="breakdown(s) to show (repeatable; default: model and phase)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=lambda args: _run(args, settings, llm_settings))


def _run(args: argparse.Namespace, settings: KnowledgeFactory | None, llm_settings: LlmFactory) -> int:
    from compass_worker.knowledge.settings import KnowledgeSettings

    try:
        return asyncio.run(_cost(args, (settings or KnowledgeSettings)(), llm_settings()))
    except BrokenPipeError:
        raise  # `compass cost --json | head`: the root command ends quietly
    except ConfigError as exc:
        return fail(str(exc), EXIT_USAGE)
    except (ExternalError, OSError, TimeoutError) as exc:
        return fail(f"cost ledger unavailable: {exc}", EXIT_UNAVAILABLE)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        return fail(f"unexpected error ({type(exc).__name__}): {exc}", EXIT_INTERNAL)


def parse_since(text: str) -> tuple[int, str]:
    """`--since` → (seconds, label). A bare number is days (and said so): nobody means "7 seconds"."""
    t = text.strip().lower()
    if t.isdigit():
        days = int(t)
        note(f"--since {t} read as {days} day{'s' if days != 1 else ''} (units: m, h, d)")
        t = f"{days}d"
    try:
        seconds = parse_duration(t)
    except ConfigError as exc:
        raise ConfigError(f"invalid --since: {exc}".replace("60m, 2h, 1h30m, 90s", "24h, 7d, 30d")) from None
    if seconds > MAX_SINCE_DAYS * 86400:
        raise ConfigError(f"--since {text!r} is too far back: at most {MAX_SINCE_DAYS}d")
    return seconds, t


async def _cost(args: argparse.Namespace, settings: KnowledgeSettings, llm: LlmSettings) -> int:
    from compass_worker.cost.ledger import StoreLedger, utc_now
    from compass_worker.cost.report import GroupBy, cost_report, render_text
    from compass_worker.knowledge.store import KnowledgeStore

    seconds, label = parse_since(args.since) if args.since else (0, None)
    since = utc_now() - timedelta(seconds=seconds) if args.since else None
    by = cast(list[GroupBy], args.by or ["model", "phase"])
    async with KnowledgeStore.open(settings) as store:
        report = await cost_report(
            StoreLedger(store), llm_configured=llm.configured, since=since, since_label=label
        )
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=1))
    else:
        print(render_text(report, by))
    return 0

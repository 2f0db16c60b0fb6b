"""`compass` — the command line. Every failure a user can cause ends in one line and an exit code:

0  done (a verdict, root cause or inconclusive)
2  bad input: options, config file, time, unknown scenario
3  no telemetry reachable (every MCP server failed), with the reasons
1  an unexpected internal error (one line; details in the log file it names)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from compass_cli.ask import add_ask_command
from compass_cli.bot import add_bot_commands
from compass_cli.cost import add_cost_commands
from compass_cli.doctor import add_doctor_command
from compass_cli.knowledge import add_knowledge_commands
from compass_cli.postmortem import add_postmortem_command
from compass_cli.worker import add_worker_commands
from compass_lab.cli import add_lab_commands
from compass_worker.errors import CompassError, ConfigError, ExternalError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports misuse in one line (no usage dump) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _investigate_cmd(args: argparse.Namespace) -> int:
    from compass_cli.investigate import run_investigate

    return run_investigate(args)


def _demo_cmd(args: argparse.Namespace) -> int:
    from compass_cli.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="compass", description="COMPASS: evidence-driven incident investigation.")
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    inv = sub.add_parser("investigate", help="investigate a symptom against your telemetry (MCP)")
    inv.add_argument("symptom", help='what is wrong, e.g. "checkout p99 latency above 2s since 14:02"')
    inv.add_argument("--service", help="the component showing the symptom (as the telemetry names it)")
    inv.add_argument("--at", help="when: now (default), now-30m, RFC3339, or unix seconds")
    inv.add_argument("--window", default="60m", help="how far back to look (default 60m)")
    inv.add_argument("--mcp-config", help="MCP servers config (mcpServers JSON); or COMPASS_MCP_CONFIG")
    inv.add_argument("--json", action="store_true", help="print one JSON verdict object on stdout")
    inv.add_argument("--no-memory", action="store_true", help="neither consult nor record past incidents")
    inv.set_defaults(func=_investigate_cmd)

    demo = sub.add_parser("demo", help="investigate a lab incident end to end (no services needed)")
    demo.add_argument("--scenario", help="lab scenario id (default: the showcase scenario)")
    demo.add_argument("--json", action="store_true", help="print one JSON verdict object on stdout")
    demo.set_defaults(func=_demo_cmd)

    add_lab_commands(sub)
    add_knowledge_commands(sub)
    add_bot_commands(sub)
    add_worker_commands(sub)
    add_cost_commands(sub)
    add_postmortem_command(sub)
    add_ask_command(sub)
    add_doctor_command(sub)
    return parser


def _crash_log(exc: BaseException) -> Path:
    fd, path = tempfile.mkstemp(prefix="compass-crash-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exception(exc, file=fh)
    return Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"compass: error: {exc}", file=sys.stderr)
        return 2
    except ExternalError as exc:
        print(f"compass: error: {exc}", file=sys.stderr)
        return 3
    except CompassError as exc:
        print(f"compass: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("compass: interrupted", file=sys.stderr)
        return 130
    except (asyncio.CancelledError, Exception) as exc:
        log = _crash_log(exc)
        print(f"compass: internal error: {type(exc).__name__}: {exc} (details in {log})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

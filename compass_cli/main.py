"""`compass` — the command line. Every failure a user can cause ends in one line and an exit code:

0  done (a verdict, root cause or inconclusive)
2  bad input: options, settings, config file, time, symptom, unknown scenario or id
3  no telemetry reachable (every MCP server failed), or a service (database) unreachable, with the reasons
4  the MCP server answered but every telemetry query failed (`"no_telemetry": true` in --json)
1  an unexpected internal error (one line; details in the log file it names)
130 interrupted (Ctrl-C). A closed pipe (`compass … | head`) ends quietly.

Every message starts `compass: error: `. Settings come from flags, then the environment, then
`~/.config/compass/config.toml` (see `userconfig.py`).
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

from compass_cli.api_token import add_api_token_commands
from compass_cli.ask import add_ask_command
from compass_cli.bot import add_bot_commands
from compass_cli.completion import add_completion_command
from compass_cli.cost import add_cost_commands
from compass_cli.doctor import add_doctor_command
from compass_cli.errors import EXIT_INTERNAL, EXIT_UNAVAILABLE, EXIT_USAGE, fail
from compass_cli.faults import add_faults_command
from compass_cli.knowledge import add_knowledge_commands
from compass_cli.options import add_output_options, normalise_argv, version_text
from compass_cli.postmortem import add_postmortem_command
from compass_cli.userconfig import apply_user_config
from compass_cli.worker import add_worker_commands
from compass_lab.cli import add_lab_commands
from compass_worker.errors import CompassError, ConfigError, ExternalError
from compass_worker.reasoners.settings import load_llm_settings

Handler = Callable[[argparse.Namespace], int]
_NO_SETTINGS = frozenset({"faults", "completion"})  # static answers: the environment cannot break them


class _Parser(argparse.ArgumentParser):
    """argparse that reports misuse in one line (no usage dump) with the one prefix, and exits 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("compass").strip()
        where = f"{command}: " if command else ""
        self.exit(EXIT_USAGE, f"compass: error: {where}{message}\n")


def _investigate_cmd(args: argparse.Namespace) -> int:
    from compass_cli.investigate import run_investigate

    return run_investigate(args)


def _demo_cmd(args: argparse.Namespace) -> int:
    from compass_cli.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="compass", description="COMPASS: evidence-driven incident investigation.")
    parser.add_argument("--version", action="version", version=version_text())
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )

    inv = sub.add_parser("investigate", help="investigate a symptom against your telemetry (MCP)")
    inv.add_argument(
        "symptom",
        nargs="?",
        help='what is wrong, e.g. "checkout p99 latency above 2s since 14:02"; '
        "`-` reads it (or an Alertmanager webhook body) from stdin",
    )
    inv.add_argument(
        "--alert", metavar="FILE", help="an Alertmanager webhook body (JSON) as the incident; - = stdin"
    )
    inv.add_argument("--service", help="the component showing the symptom (as the telemetry names it)")
    inv.add_argument(
        "--at", help="when: now (default), now-30m, RFC3339, or unix seconds (not in the future)"
    )
    inv.add_argument("--window", default="60m", help="how far back to look, 1m to 7d (default 60m)")
    inv.add_argument("--mcp-config", help="MCP servers config (mcpServers JSON); or COMPASS_MCP_CONFIG")
    inv.add_argument("--no-memory", action="store_true", help="neither consult nor record past incidents")
    add_output_options(inv)
    inv.set_defaults(func=_investigate_cmd)

    demo = sub.add_parser("demo", help="investigate a lab incident end to end (no services needed)")
    demo.add_argument("--scenario", help="lab scenario id (default: the showcase scenario)")
    add_output_options(demo)
    demo.set_defaults(func=_demo_cmd)

    add_lab_commands(sub)
    add_knowledge_commands(sub)
    add_bot_commands(sub)
    add_worker_commands(sub)
    add_cost_commands(sub)
    add_faults_command(sub)
    add_completion_command(sub, build_parser)
    add_postmortem_command(sub)
    add_ask_command(sub)
    add_doctor_command(sub)
    add_api_token_commands(sub)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Every subcommand's `--help` starts with what it does: its one-line help, when it has no description."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help for a in action._choices_actions}
        for name, child in action.choices.items():
            if child.description is None and helps.get(name):
                child.description = str(helps[name])[:1].upper() + str(helps[name])[1:] + "."
            _describe(child)


def _crash_log(exc: BaseException) -> Path:
    fd, path = tempfile.mkstemp(prefix="compass-crash-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exception(exc, file=fh)
    return Path(path)


def _quiet_pipe_exit() -> int:
    """The reader went away (`| head`): say nothing, and stop Python's own flush from complaining."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a Unix tool killed by the closed pipe reports


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        apply_user_config(os.environ)
        parser = build_parser()
        args = parser.parse_args(normalise_argv(list(sys.argv[1:] if argv is None else argv)))
        if args.command not in _NO_SETTINGS:
            load_llm_settings()  # one validation, one line, whatever the command (COMPASS_LLM=bogus → exit 2)
        handler: Handler = args.func
        code = handler(args)
        sys.stdout.flush()  # a closed pipe must surface here, not in the interpreter's exit flush
        return code
    except BrokenPipeError:
        return _quiet_pipe_exit()
    except ConfigError as exc:
        return fail(str(exc), EXIT_USAGE)
    except ExternalError as exc:
        return fail(str(exc), EXIT_UNAVAILABLE)
    except CompassError as exc:
        return fail(str(exc), EXIT_INTERNAL)
    except KeyboardInterrupt:
        print("compass: interrupted", file=sys.stderr)
        return 130
    except (asyncio.CancelledError, Exception) as exc:
        log = _crash_log(exc)
        return fail(f"internal error: {type(exc).__name__}: {exc} (details in {log})", EXIT_INTERNAL)


if __name__ == "__main__":
    sys.exit(main())

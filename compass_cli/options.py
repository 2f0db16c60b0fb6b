"""Options several commands share: output format, colour, verbosity; and argv clean-up before argparse.

`-o json|markdown|text` (`--json` is `-o json`), `--no-color` (or NO_COLOR), `-v` for the full event stream.
"""

from __future__ import annotations

import argparse
from importlib import metadata

# Options whose value may legitimately start with "-" ("--window -5m" must reach our validator and be
# refused with a reason, not be mistaken by argparse for another option).
_VALUED = frozenset({"--window", "--at", "--since"})
DIST = "compass-sre"


def normalise_argv(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.extend(argv[i:])
            break
        if arg in _VALUED and i + 1 < len(argv) and argv[i + 1].startswith("-") and argv[i + 1] != "-":
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def version_text() -> str:
    try:
        version = metadata.version(DIST)
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        version = "unknown"
    return f"compass {version}"


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        choices=["text", "json", "markdown"],
        default=None,
        help="text (default, for a terminal), json (one object, the --json contract) or markdown "
        "(ready to paste into a ticket or post-mortem)",
    )
    parser.add_argument("--json", action="store_true", help="same as -o json")
    parser.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR=1)")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print every step (default: one live status line)"
    )


def output_format(args: argparse.Namespace) -> str:
    if args.json:
        if args.output not in (None, "json"):
            from compass_worker.errors import ConfigError

            raise ConfigError(f"--json and -o {args.output} disagree: choose one")
        return "json"
    return str(args.output or "text")

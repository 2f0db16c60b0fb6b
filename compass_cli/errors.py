"""Exit codes and the one error line every command prints (`compass: error: …`)."""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2  # bad input: options, settings, config file, time, symptom
EXIT_UNAVAILABLE = 3  # nothing reachable: MCP servers, the database
EXIT_NO_TELEMETRY = 4  # the MCP server answered, but every telemetry query failed (Grafana down behind it)

PREFIX = "compass: error: "


def one_line(text: str) -> str:
    """The first non-empty line of a message (validation libraries like to add more)."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def fail(message: str, code: int) -> int:
    print(PREFIX + one_line(message), file=sys.stderr)
    return code


def note(message: str) -> None:
    """A one-line remark that is not an error (e.g. how an ambiguous value was read)."""
    print(f"compass: {one_line(message)}", file=sys.stderr)

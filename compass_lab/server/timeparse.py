"""Time parameters as Loki, Tempo and Prometheus accept them: unix s / ms / ns, floats, RFC3339."""

from __future__ import annotations

import time
from datetime import datetime

from compass_lab.server.errors import BadRequestError


def now_ns() -> int:
    return time.time_ns()


def parse_time_ns(value: str | None, default_ns: int, param: str) -> int:
    """Loki's rule: an integer of ≤10 digits is seconds, longer is nanoseconds; a float is seconds;
    otherwise RFC3339. (Tempo's search API takes seconds, its metrics API nanoseconds — both fit.)"""
    if value is None or value == "":
        return default_ns
    text = value.strip()
    try:
        if text.lstrip("-").isdigit():
            n = int(text)
            if len(text.lstrip("-")) <= 10:
                return n * 10**9
            if len(text.lstrip("-")) <= 13:  # unix milliseconds
                return n * 10**6
            return n
        return int(float(text) * 1e9)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(
            f'invalid parameter "{param}": cannot parse "{value}" to a valid timestamp'
        ) from None
    return int(dt.timestamp() * 1e9)


def parse_int(value: str | None, default: int, param: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequestError(f'invalid parameter "{param}": cannot parse "{value}" as an integer') from None

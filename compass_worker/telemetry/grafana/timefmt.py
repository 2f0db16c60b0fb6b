"""Times as mcp-grafana 2.1.1 accepts them: RFC3339 in UTC with a ``Z`` (Go's time.RFC3339 parser)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(ts: float) -> str:
    """Unix seconds → ``2026-11-21T09:56:57Z`` (milliseconds kept only when present)."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(ts: float) -> str:
    """Unix seconds → milliseconds as a string, the form Grafana's Explore links use for a range."""
    return str(round(ts * 1000))

"""Turning what an engineer wrote into an `Incident`: times, window, symptom signal, candidate names.

"edge-gateway 5xx above 5% since 14:02" → signal errors, since 14:02 UTC on the day of `--at`,
candidate component tokens ["edge-gateway", ...]. Which token is a component is decided later,
against the components the telemetry actually has.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from compass_worker.domain.models import Incident
from compass_worker.errors import ConfigError

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_RELATIVE = re.compile(r"^now(?:-(\S+))?$")
_SINCE = re.compile(
    r"\b(?:since|from|started at|starting at|at)\s+(\d{1,2}):(\d{2})(?:\s*(?:utc|z))?\b", re.I
)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]")

_SIGNAL_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # A success rate "down to 89%" is failing requests, not a service that is down.
    (
        "errors",
        re.compile(
            r"\b(5xx|50[0-9]|errors?|error rate|failing|failures?|exceptions?|success (rate|ratio))\b", re.I
        ),
    ),
    ("latency", re.compile(r"\b(latency|slow|p9[05]|p99|response time|timeouts?|lagging)\b", re.I)),
    ("availability", re.compile(r"\b(down|unavailable|unreachable|outage|not responding)\b", re.I)),
    ("backlog", re.compile(r"\b(lag|behind|backlog|queue depth|falling behind)\b", re.I)),
    ("saturation", re.compile(r"\b(cpu|memory|oom|saturat\w*|throttl\w*|disk)\b", re.I)),
    ("throughput", re.compile(r"\b(traffic|requests? (spike|surge)|rps|load)\b", re.I)),
)

_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "be",
        "since",
        "from",
        "at",
        "above",
        "below",
        "over",
        "under",
        "than",
        "and",
        "or",
        "of",
        "on",
        "in",
        "to",
        "for",
        "with",
        "p99",
        "p95",
        "p90",
        "latency",
        "errors",
        "error",
        "rate",
        "spiking",
        "spike",
        "high",
        "low",
        "down",
        "slow",
        "utc",
        "percent",
        "alert",
        "firing",
        "requests",
        "request",
        "traffic",
    ]
)


def parse_duration(text: str) -> int:
    """'60m' / '2h' / '1h30m' / '90s' / '3600' → seconds. ConfigError on anything else."""
    t = text.strip().lower()
    if t.isdigit():
        return int(t)
    m = _DURATION.match(t)
    if not t or not m or not any(m.groups()):
        raise ConfigError(f"invalid duration {text!r}: use forms like 60m, 2h, 1h30m, 90s")
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    total = ((d * 24 + h) * 60 + mi) * 60 + s
    if total <= 0:
        raise ConfigError(f"invalid duration {text!r}: must be positive")
    return total


def parse_time(text: str | None, *, now: float | None = None) -> float:
    """--at value: 'now', 'now-30m', RFC3339/ISO 8601, or unix seconds → unix seconds (UTC)."""
    ref = time.time() if now is None else now
    if text is None or not text.strip():
        return ref
    t = text.strip()
    rel = _RELATIVE.match(t.lower())
    if rel:
        return ref - (parse_duration(rel.group(1)) if rel.group(1) else 0)
    try:
        return float(t)
    except ValueError:
        pass
    iso = t.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        raise ConfigError(
            f"invalid time {text!r}: use 'now', 'now-30m', RFC3339 (2026-11-02T14:10:00Z) or unix seconds"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def symptom_signal(text: str) -> str | None:
    for name, pattern in _SIGNAL_WORDS:
        if pattern.search(text):
            return name
    return None


def since_hint(text: str, at: float) -> float | None:
    """'since 14:02' → that time (UTC) on the day of `at` (the previous day if it would be after `at`)."""
    m = _SINCE.search(text)
    if not m:
        return None
    hh, mm = int(m.group(1)), int(m.group(2))
    if hh > 23 or mm > 59:
        return None
    day = datetime.fromtimestamp(at, tz=UTC)
    candidate = day.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if candidate.timestamp() > at:
        candidate -= timedelta(days=1)
    return candidate.timestamp()


def candidate_tokens(text: str) -> list[str]:
    """Words that could name a component, most specific (longest, hyphenated) first."""
    seen: dict[str, None] = {}
    for tok in _TOKEN.findall(text):
        low = tok.lower().strip(".")
        if low in _STOP or len(low) < 3:
            continue
        seen.setdefault(low, None)
    return sorted(seen, key=lambda s: (-("-" in s or "_" in s), -len(s)))


def build_incident(
    symptom: str,
    *,
    service: str | None,
    at: str | None,
    window: str | None,
    now: float | None = None,
) -> Incident:
    if not symptom.strip():
        raise ConfigError(
            'the symptom text is empty: say what is wrong, e.g. "checkout p99 latency is spiking"'
        )
    at_s = parse_time(at, now=now)
    window_s = parse_duration(window) if window else 3600
    since = since_hint(symptom, at_s)
    if since is not None and since < at_s - window_s:
        window_s = int(at_s - since) + 1800  # widen so the baseline precedes the reported start
    return Incident(
        symptom=symptom.strip(),
        service=service.strip().lower() if service else None,
        signal=symptom_signal(symptom),
        at=at_s,
        window_s=window_s,
        since=since,
    )

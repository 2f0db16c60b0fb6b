"""Questions in plain words → `Question` filters, with no LLM: time phrases, component names the store
knows, kinds of component ("database"), fault words ("outages", "deploys"), channels, teams, outcomes.

Every part is optional; what is not understood is left out, never guessed (the answer's header says
which filters were applied, so a person sees how the question was read).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from importlib import resources

from compass_worker.contracts import VERDICT_FAULT_IDS
from compass_worker.questions.query import Outcome, Question

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {"m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400, "w": 604800}
_UNITS["week"] = _UNITS["w"]
_LAST_N = re.compile(
    r"\b(?:last|past|previous|in the last)\s+(\d{1,4})\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)\b"
)
_LAST_ONE = re.compile(r"\b(?:last|past)\s+(hour|day|24\s*h(?:ours)?)\b")
_SINCE_DATE = re.compile(r"\bsince\s+(\d{4}-\d{2}-\d{2})\b")
_SINCE_DAY = re.compile(r"\bsince\s+(" + "|".join(_WEEKDAYS) + r")\b")
_CHANNEL = re.compile(r"<#(C[A-Z0-9]+)(?:\|[^>]*)?>|(?<![\w<])#([\w-]+)|\bchannel\s+(C[A-Z0-9]{6,})\b")
_TEAM = re.compile(r"\bteam\s+([\w-]+)|\b([\w-]+)\s+team\b")
_NOT_TEAMS = {"which", "what", "my", "our", "the", "a", "any", "every", "each", "this", "that", "whole", "on"}
_OUTCOMES: dict[str, Outcome] = {
    "inconclusive": "inconclusive",
    "wrong": "corrected",
    "corrected": "corrected",
    "mistake": "corrected",
    "confirmed": "confirmed",
    "failed": "failed",
}
_KIND_WORDS = {
    "database": ("database", "databases", "db", "dbs"),
    "cache": ("cache", "caches"),
    "queue": ("queue", "queues", "kafka", "topic", "topics"),
    "host": ("host", "hosts", "node", "nodes"),
}


@functools.cache
def vocabulary() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(fault words → fault ids, kind → name tokens), from vocabulary.toml."""
    text = resources.files("compass_worker.questions").joinpath("vocabulary.toml").read_text("utf-8")
    data = tomllib.loads(text)
    faults = {word: tuple(ids) for word, ids in data["faults"].items()}
    kinds = {kind: tuple(tokens) for kind, tokens in data["kinds"].items()}
    return faults, kinds


def _midnight(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _period(text: str, now: datetime) -> tuple[datetime | None, datetime | None, str | None]:
    today = _midnight(now)
    if m := _LAST_N.search(text):
        unit = m.group(2).rstrip("s")
        seconds = _UNITS.get(unit, _UNITS.get(unit[:1], 86400))
        return now - timedelta(seconds=int(m.group(1)) * seconds), None, m.group(0)
    if m := _LAST_ONE.search(text):
        span = m.group(1).replace(" ", "")
        seconds = 3600 if span == "hour" else 86400
        return now - timedelta(seconds=seconds), None, m.group(0)
    if m := _SINCE_DATE.search(text):
        return datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC), None, m.group(0)
    if m := _SINCE_DAY.search(text):
        back = (now.weekday() - _WEEKDAYS.index(m.group(1))) % 7 or 7
        return today - timedelta(days=back), None, m.group(0)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    fixed: list[tuple[str, datetime, datetime | None]] = [
        ("yesterday", today - timedelta(days=1), today),
        ("today", today, None),
        ("last week", monday - timedelta(days=7), monday),
        ("this week", monday, None),
        ("last month", (first - timedelta(days=1)).replace(day=1), first),
        ("this month", first, None),
        ("this year", today.replace(month=1, day=1), None),
    ]
    for phrase, since, until in fixed:
        if re.search(rf"\b{phrase}\b", text):
            return since, until, phrase
    return None, None, None


def _mentions(text: str, name: str) -> bool:
    """`name` appears as a whole name: not inside a longer component-like token (payments ≠ payments-db)."""
    return re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", text) is not None


def parse_question(
    text: str, now: datetime, known_components: Iterable[str] = (), teams: Iterable[str] = ()
) -> Question:
    low = " ".join(text.lower().split())
    since, until, period = _period(low, now)
    named = {a or b for a, b in _TEAM.findall(low)} - _NOT_TEAMS
    # "the payments team" names a team, not the payments service.
    components = tuple(
        sorted({c for c in known_components if c and _mentions(low, c) and c.lower() not in named})
    )
    words = set(re.findall(r"[\w-]+", low))
    kinds = tuple(k for k, ws in _KIND_WORDS.items() if words & set(ws) and not _named_kind(components, k))
    fault_words, _ = vocabulary()
    faults = {f for f in VERDICT_FAULT_IDS if f in low}
    for word, ids in fault_words.items():
        if re.search(rf"\b{re.escape(word)}", low):
            faults.update(ids)
    channels = tuple(a or b or c for a, b, c in _CHANNEL.findall(text))
    known_teams = {t.lower() for t in teams}
    team_ids = tuple(sorted(t for t in named if not known_teams or t in known_teams))
    outcomes = tuple(dict.fromkeys(o for w, o in _OUTCOMES.items() if re.search(rf"\b{w}", low)))
    return Question(
        text=text,
        since=since,
        until=until,
        period=period,
        components=components,
        kinds=kinds,
        faults=tuple(sorted(faults)),
        channels=channels,
        teams=team_ids,
        outcomes=outcomes,
    )


def _named_kind(components: tuple[str, ...], kind: str) -> bool:
    """ "payments-db" already names the database: the kind word must not widen the question."""
    _, kinds = vocabulary()
    return any(tok in c.lower() for c in components for tok in kinds[kind])

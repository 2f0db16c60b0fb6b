"""Parsing what the engineer wrote: durations, times, symptom signal, 'since' hints."""

from datetime import UTC, datetime

import pytest

from compass_worker.engine.incident import (
    build_incident,
    candidate_tokens,
    parse_duration,
    parse_time,
    since_hint,
    symptom_signal,
)
from compass_worker.errors import ConfigError

NOW = datetime(2026, 11, 2, 14, 20, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "seconds"), [("60m", 3600), ("2h", 7200), ("1h30m", 5400), ("90s", 90), ("600", 600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5 minutes", "-5m", "0m"])
def test_bad_durations_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(text)


def test_times() -> None:
    assert parse_time(None, now=NOW) == NOW
    assert parse_time("now-30m", now=NOW) == NOW - 1800
    assert parse_time("2026-11-02T14:20:00Z") == NOW
    assert parse_time("2026-11-02 14:20") == NOW
    assert parse_time(str(NOW)) == NOW
    with pytest.raises(ConfigError, match="invalid time"):
        parse_time("yesterday-ish")


def test_symptom_signal_and_since() -> None:
    text = "edge-gateway 5xx above 5% since 14:02"
    assert symptom_signal(text) == "errors"
    assert symptom_signal("checkout p99 latency above 2s") == "latency"
    assert symptom_signal("fulfillment falling behind") == "backlog"
    # a success rate going down is failing requests, not a service that is down
    assert symptom_signal("frontend success rate down to 89% (normally ~100%)") == "errors"
    assert symptom_signal("checkout is down") == "availability"
    assert since_hint(text, NOW) == datetime(2026, 11, 2, 14, 2, tzinfo=UTC).timestamp()
    # a time after --at means the previous day
    assert since_hint("errors since 23:50", NOW) == datetime(2026, 11, 1, 23, 50, tzinfo=UTC).timestamp()


def test_candidate_tokens_prefer_hyphenated_names() -> None:
    toks = candidate_tokens("edge-gateway 5xx above 5% since 14:02 on checkout")
    assert toks[0] == "edge-gateway"
    assert "checkout" in toks and "since" not in toks


def test_build_incident_widens_window_to_cover_since() -> None:
    inc = build_incident("checkout errors since 12:00", service=None, at="2026-11-02T14:20:00Z", window="60m")
    assert inc.start < datetime(2026, 11, 2, 12, 0, tzinfo=UTC).timestamp()
    with pytest.raises(ConfigError, match="empty"):
        build_incident("   ", service=None, at=None, window=None)

"""What `compass investigate` accepts, checked before anything starts: symptom, stdin, alert, time, window.

Every refusal is a ConfigError (exit 2) in one line that says what is allowed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from compass_cli.alert import AlertIncident, looks_like_alert, parse_alert
from compass_worker.domain.models import Incident
from compass_worker.engine.incident import build_incident, parse_duration, parse_time
from compass_worker.errors import ConfigError

MAX_SYMPTOM_BYTES = 4096  # a symptom is a sentence or an alert, not a log dump
MAX_STDIN_BYTES = 1 << 20  # an Alertmanager body with many alerts fits easily
MIN_WINDOW_S = 60
MAX_WINDOW_S = 7 * 86400
FUTURE_SLACK_S = 300  # clocks disagree a little; "now" on another machine is fine
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_UNIT = re.compile(r"[smhd]\s*$", re.I)


def _human(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_at(text: str | None, now: float) -> float:
    try:
        at = parse_time(text, now=now)
    except (ValueError, OverflowError, OSError):
        at = float("nan")
    if not EARLIEST <= at <= now + FUTURE_SLACK_S:
        if at > now + FUTURE_SLACK_S and at < 1e11:
            raise ConfigError(f"--at {text!r} is in the future ({_human(at)}); it must be now or earlier")
        raise ConfigError(f"--at {text!r} is out of range: use a time between 2000-01-01 and now")
    return at


def check_window(text: str) -> int:
    t = text.strip()
    if t.startswith("-"):
        raise ConfigError(f"invalid --window {text!r}: it must be positive, e.g. 60m")
    if not _UNIT.search(t):
        raise ConfigError(f"invalid --window {text!r}: give a unit (s, m, h, d), e.g. 60m or 2h")
    try:
        seconds = parse_duration(t)
    except ConfigError as exc:
        raise ConfigError(f"invalid --window: {exc}") from None
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise ConfigError(f"--window {text!r} is out of range: use 1m to 7d")
    return seconds


def check_symptom(text: str) -> str:
    size = len(text.encode("utf-8"))
    if size > MAX_SYMPTOM_BYTES:
        raise ConfigError(
            f"the symptom is {size:,} bytes; the limit is {MAX_SYMPTOM_BYTES:,} "
            "(say what is wrong in a sentence, or pass the alert with --alert FILE)"
        )
    if not text.strip():
        raise ConfigError('the symptom is empty: say what is wrong, e.g. "checkout p99 latency is spiking"')
    return text


def read_bounded(stream: TextIO, what: str) -> str:
    text = stream.read(MAX_STDIN_BYTES + 1)
    if len(text) > MAX_STDIN_BYTES:
        raise ConfigError(f"{what} is larger than {MAX_STDIN_BYTES // 1024} KB")
    return text


def _alert_from(path: str, stdin: TextIO) -> AlertIncident:
    if path == "-":
        return parse_alert(read_bounded(stdin, "stdin"), "stdin")
    try:
        p = Path(path)
        if p.stat().st_size > MAX_STDIN_BYTES:
            raise ConfigError(f"--alert {path} is larger than {MAX_STDIN_BYTES // 1024} KB")
        text = p.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read --alert {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--alert {path} is not UTF-8 text") from None
    return parse_alert(text, path)


def incident_from_args(
    args: argparse.Namespace, *, stdin: TextIO | None = None, now: float | None = None
) -> Incident:
    """The incident `compass investigate` was asked about, or ConfigError saying what is wrong."""
    source = sys.stdin if stdin is None else stdin
    ref = time.time() if now is None else now
    alert: AlertIncident | None = None
    symptom: str | None = args.symptom
    if args.alert is not None:
        if symptom is not None:
            raise ConfigError("give either a symptom or --alert FILE, not both")
        alert = _alert_from(args.alert, source)
    elif symptom == "-":
        text = read_bounded(source, "stdin")
        if looks_like_alert(text):
            alert = parse_alert(text, "stdin")
        else:
            symptom = text.strip()
    if alert is None and symptom is None:
        raise ConfigError('the symptom is missing: compass investigate "what is wrong" (or - to read stdin)')
    window_s = check_window(args.window)
    if alert is not None:
        at = check_at(args.at, ref) if args.at else min(alert.ended or ref, ref)
        return _alert_incident(alert, args.service, at, window_s)
    assert symptom is not None
    at = check_at(args.at, ref)
    return build_incident(check_symptom(symptom), service=args.service, at=str(at), window=f"{window_s}s")


def _alert_incident(alert: AlertIncident, service: str | None, at: float, window_s: int) -> Incident:
    symptom = check_symptom(alert.symptom)
    base = build_incident(symptom, service=service or alert.service, at=str(at), window=f"{window_s}s")
    if alert.since is None:
        return base
    if alert.since > at:
        raise ConfigError(f"the alert started at {_human(alert.since)}, after --at {_human(at)}")
    if at - alert.since > MAX_WINDOW_S:
        raise ConfigError(
            f"the alert started at {_human(alert.since)}, more than 7 d before {_human(at)}: "
            "pass --at near when it fired"
        )
    # The baseline must precede the onset: look back from the alert's start by half an hour at least.
    window = min(MAX_WINDOW_S, max(window_s, int(at - alert.since) + 1800))
    return base.model_copy(update={"since": alert.since, "window_s": window})

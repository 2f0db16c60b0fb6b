"""Validation before parsing: every request to /slack/events is checked here before Bolt sees it.

Order matters. The size is checked first (a 10 MB body is never hashed), then the two signing headers'
*shape*, then the v0 HMAC signature and its age, and only then is the body parsed — so an unsigned body
can cost us an HMAC at most, never a parser or a traceback. Whatever fails is a 4xx with a short reason;
the caller logs it as one rate-limited line (`RejectLog`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs

# Slack's own payloads are a few KiB (a view submission tens of KiB); 1 MiB is far beyond any of them.
MAX_BODY_BYTES = 1 << 20
# Slack refuses requests older than 5 minutes; so do we (replay protection).
MAX_AGE_S = 300
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")


@dataclass(frozen=True)
class Rejection:
    status: int
    reason: str


async def read_capped(chunks: AsyncIterator[bytes], limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None as soon as it grows past `limit`: a chunked body (no Content-Length to refuse
    up front) is never read further, let alone held in memory whole."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def check_request(
    secret: str, body: bytes, headers: dict[str, str], *, now: float | None = None
) -> Rejection | None:
    """None when the request is well-formed and signed by Slack; otherwise why not (4xx)."""
    if len(body) > MAX_BODY_BYTES:
        return Rejection(413, f"body of {len(body)} bytes (max {MAX_BODY_BYTES})")
    ts = headers.get("x-slack-request-timestamp", "")
    sig = headers.get("x-slack-signature", "")
    if not ts or not sig:
        return Rejection(401, "unsigned (no X-Slack-Signature / X-Slack-Request-Timestamp)")
    if not ts.isascii() or not ts.isdigit() or len(ts) > 12:
        return Rejection(400, "malformed X-Slack-Request-Timestamp")
    if not _SIGNATURE.match(sig):
        return Rejection(401, "malformed X-Slack-Signature")
    if abs((time.time() if now is None else now) - int(ts)) > MAX_AGE_S:
        return Rejection(401, "stale X-Slack-Request-Timestamp")
    expected = (
        "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected, sig):
        return Rejection(401, "bad signature")
    return _check_shape(body, headers.get("content-type", ""))


def _json_object(raw: str | bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, RecursionError):
        return False


def _check_shape(body: bytes, content_type: str) -> Rejection | None:
    """A signed body is still parsed defensively: Bolt expects a JSON object, or a form whose `payload`
    (interactivity) is a JSON object, or a slash-command form."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection(400, "body is not UTF-8")
    if content_type.startswith("application/json") or text.lstrip().startswith("{"):
        return None if _json_object(text) else Rejection(400, "body is not a JSON object")
    try:
        form = parse_qs(text, strict_parsing=bool(text), max_num_fields=200)
    except ValueError:
        return Rejection(400, "body is neither JSON nor a form")
    if "payload" in form:
        payload = form["payload"]
        return None if len(payload) == 1 and _json_object(payload[0]) else Rejection(400, "bad payload")
    if "command" in form:
        return None
    return Rejection(400, "body is neither an event, a command nor an interaction")


class RejectLog:
    """At most `per_window` log lines per `window_s`; the rest are counted and summarised in the next
    line, so a flood of junk can grow the log by a few lines a second at most."""

    def __init__(self, *, per_window: int = 5, window_s: float = 10.0) -> None:
        self._per_window = per_window
        self._window_s = window_s
        self._window_start = 0.0
        self._logged = 0
        self.suppressed = 0

    def line(self, reason: str, peer: str, *, now: float | None = None) -> str | None:
        """The line to log for this rejection, or None when the budget of this window is spent."""
        t = time.monotonic() if now is None else now
        if t - self._window_start >= self._window_s:
            self._window_start, self._logged = t, 0
        if self._logged >= self._per_window:
            self.suppressed += 1
            return None
        self._logged += 1
        extra = f" ({self.suppressed} more rejected since the last line)" if self.suppressed else ""
        self.suppressed = 0
        return f"rejected Slack request from {peer}: {reason}{extra}"

"""The fields of a message-like Slack event the listeners use, typed and checked (None when the event is
not a usable message: a missing or malformed channel or ts is ignored, never an error).

Text is cleaned here, at the edge (NUL and control characters removed) and kept up to `MAX_RAW_CHARS`,
so a listener can tell a message over `MAX_TEXT_CHARS` apart and say why it will not read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from compass_worker.contracts import SLACK_ID, SLACK_TS, clean_text

# Beyond this a message is refused unread (the cleaner would only clip it).
MAX_RAW_CHARS = 40_000


@dataclass(frozen=True)
class EventFields:
    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None
    from_bot: bool
    subtype: str | None


def _str(event: Mapping[str, object], key: str) -> str | None:
    value = event.get(key)
    return value if isinstance(value, str) and value else None


def event_fields(event: Mapping[str, object]) -> EventFields | None:
    channel, ts, thread_ts = _str(event, "channel"), _str(event, "ts"), _str(event, "thread_ts")
    if channel is None or ts is None or not SLACK_ID.match(channel) or not SLACK_TS.match(ts):
        return None
    if event.get("thread_ts") is not None and (thread_ts is None or not SLACK_TS.match(thread_ts)):
        return None
    raw = _str(event, "text") or ""
    return EventFields(
        channel=channel,
        ts=ts,
        user=clean_text(_str(event, "user") or "", 64),
        text=clean_text(raw[:MAX_RAW_CHARS], MAX_RAW_CHARS),
        thread_ts=thread_ts,
        from_bot=bool(event.get("bot_id")) or event.get("subtype") == "bot_message",
        subtype=_str(event, "subtype"),
    )

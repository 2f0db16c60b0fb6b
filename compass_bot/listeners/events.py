"""The fields of a message-like Slack event the listeners use, typed (None when not a usable message)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


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
    channel, ts = _str(event, "channel"), _str(event, "ts")
    if channel is None or ts is None:
        return None
    return EventFields(
        channel=channel,
        ts=ts,
        user=_str(event, "user") or "",
        text=_str(event, "text") or "",
        thread_ts=_str(event, "thread_ts"),
        from_bot=bool(event.get("bot_id")) or event.get("subtype") == "bot_message",
        subtype=_str(event, "subtype"),
    )

"""Building Slack requests the way Slack sends them: v0 HMAC-SHA256 signatures over `v0:<ts>:<body>`,
Events API envelopes, slash-command and interactivity form bodies."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode

from pydantic import JsonValue

from compass_testing.fake_slack import TEAM_ID

Request = tuple[bytes, dict[str, str]]


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_request(
    secret: str, event: dict[str, JsonValue], *, event_id: str | None = None, retry_num: int | None = None
) -> Request:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "ACOMPASS",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "event": event,
        }
    ).encode()
    headers = {"Content-Type": "application/json", **sign(secret, body)}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return body, headers


def mention_event(
    channel: str, ts: str, text: str, *, user: str = "UALICE", thread_ts: str | None = None
) -> dict[str, JsonValue]:
    event: dict[str, JsonValue] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UCOMPASS> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_event(
    channel: str,
    ts: str,
    text: str,
    *,
    user: str | None = "UALICE",
    thread_ts: str | None = None,
    bot_id: str | None = None,
) -> dict[str, JsonValue]:
    event: dict[str, JsonValue] = {
        "type": "message",
        "channel_type": "channel",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if user:
        event["user"] = user
    if thread_ts:
        event["thread_ts"] = thread_ts
    if bot_id:
        event["bot_id"] = bot_id
        event["subtype"] = "bot_message"
    return event


def _form(secret: str, fields: dict[str, str]) -> Request:
    body = urlencode(fields).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body)}


def slash_request(secret: str, text: str, *, user: str = "UALICE", channel: str = "CINCIDENT") -> Request:
    return _form(
        secret,
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "user_id": user,
            "command": "/compass",
            "text": text,
            "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": f"trig.{uuid.uuid4().hex[:12]}",
        },
    )


def action_request(secret: str, action_id: str, value: str, *, user: str = "UALICE", channel: str) -> Request:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user},
        "api_app_id": "ACOMPASS",
        "trigger_id": f"trig.{uuid.uuid4().hex[:12]}",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "compass_feedback",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return _form(secret, {"payload": json.dumps(payload)})


def view_submission_request(
    secret: str, callback_id: str, private_metadata: str, values: dict[str, str], *, user: str = "UALICE"
) -> Request:
    state: dict[str, JsonValue] = {}
    for block, value in values.items():
        if block == "fault":
            state[block] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            state[block] = {"value": {"type": "plain_text_input", "value": value}}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID},
        "user": {"id": user},
        "api_app_id": "ACOMPASS",
        "view": {
            "id": f"V{uuid.uuid4().hex[:8].upper()}",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": state},
        },
    }
    return _form(secret, {"payload": json.dumps(payload)})

"""A local fake of Slack's Web API (no emulator exists): records every call and behaves like Slack where
COMPASS depends on it, driven through the real `slack_sdk` via `base_url`.

- chat.postMessage returns a fresh `ts`; chat.update needs an existing message (`message_not_found`);
  auth.test, chat.postEphemeral, views.open, reactions.add, conversations.replies answer like Slack.
- Block Kit limits are enforced as Slack does: more than 50 blocks, a section text over 3,000 characters,
  a header over 150 or a button label over 75 → `invalid_blocks`; a `text` over 40,000 → `msg_too_long`.
- Message metadata is kept and returned by conversations.replies with `include_all_metadata`; reactions
  are recorded (`reactions`), a repeated one answers `already_reacted`.
- On demand: `rate_limit(method, times, retry_after)` answers 429 `ratelimited` with `Retry-After`;
  `server_error(method, times)` answers an HTTP 5xx; `fail(method, error)` answers
  `{"ok": false, "error": error}`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import JsonValue

BOT_USER_ID = "UCOMPASS"
BOT_ID = "BCOMPASS"
TEAM_ID = "T0000001"

JsonDict = dict[str, JsonValue]
# What Slack reports in `X-OAuth-Scopes` for a bot token installed from slack-app-manifest.yaml.
MANIFEST_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "chat:write",
    "commands",
    "reactions:write",
)


@dataclass
class SlackCall:
    method: str
    args: JsonDict
    at: float  # time.monotonic()
    status: int
    error: str | None


@dataclass
class SlackMessage:
    channel: str
    ts: str
    thread_ts: str | None
    text: str
    blocks: list[JsonValue] = field(default_factory=list)
    updates: int = 0
    metadata: JsonValue = None  # Slack's message metadata ({"event_type", "event_payload"}), when sent


def block_errors(blocks: list[JsonValue]) -> list[str]:
    """Why Slack would reject these blocks (empty when it would accept them)."""
    errors: list[str] = []
    if len(blocks) > 50:
        errors.append(f"{len(blocks)} blocks (max 50)")
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            errors.append(f"block {i} is not an object")
            continue
        kind = block.get("type")
        text = block.get("text")
        text_value = text.get("text") if isinstance(text, dict) else None
        if kind == "section" and isinstance(text_value, str) and len(text_value) > 3000:
            errors.append(f"block {i}: section text {len(text_value)} chars (max 3000)")
        elif kind == "header" and isinstance(text_value, str) and len(text_value) > 150:
            errors.append(f"block {i}: header text {len(text_value)} chars (max 150)")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                errors.append(f"block {i}: context needs 1-10 elements")
        elif kind == "actions":
            elements = block.get("elements")
            for el in elements if isinstance(elements, list) else []:
                label = el.get("text") if isinstance(el, dict) else None
                label_text = label.get("text") if isinstance(label, dict) else None
                if isinstance(label_text, str) and len(label_text) > 75:
                    errors.append(f"block {i}: button text {len(label_text)} chars (max 75)")
        elif kind not in {
            "section",
            "header",
            "context",
            "actions",
            "divider",
            "image",
            "rich_text",
            "input",
        }:
            errors.append(f"block {i}: unknown type {kind!r}")
    return errors


class FakeSlack:
    def __init__(self, token: str = "xoxb-test-token") -> None:
        self.token = token
        self.calls: list[SlackCall] = []
        self.messages: dict[tuple[str, str], SlackMessage] = {}
        self.ephemeral: list[JsonDict] = []
        self.views: list[JsonDict] = []
        self.reactions: list[tuple[str, str, str]] = []  # (channel, ts, name)
        self._server_errors: dict[str, list[int]] = {}
        self._rate_limits: dict[str, list[int]] = {}
        self._failures: dict[str, list[str]] = {}
        self._clock = itertools.count(1)
        self.scopes: list[str] = list(MANIFEST_SCOPES)  # granted to the token (X-OAuth-Scopes)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.base_url = f"http://127.0.0.1:{port}/api/"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset(self) -> None:
        self.calls.clear()
        self.messages.clear()
        self.ephemeral.clear()
        self.views.clear()
        self.reactions.clear()
        self._server_errors.clear()
        self._rate_limits.clear()
        self._failures.clear()
        self.scopes = list(MANIFEST_SCOPES)

    # -- behaviour on demand -------------------------------------------------------------------------
    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def server_error(self, method: str, *, times: int = 1, status: int = 503) -> None:
        """Answer the next `times` calls of `method` with an HTTP 5xx (Slack having a bad minute)."""
        self._server_errors.setdefault(method, []).extend([status] * times)

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        self._failures.setdefault(method, []).extend([error] * times)

    # -- inspection ----------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        found = [m for m in self.messages.values() if m.channel == channel and m.thread_ts == thread_ts]
        return sorted(found, key=lambda m: float(m.ts))

    async def wait_for(self, predicate: Callable[[], bool], within_s: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + within_s
        while not predicate():
            if time.monotonic() > deadline:
                methods = [(c.method, c.error) for c in self.calls][-15:]
                raise AssertionError(f"timed out waiting for {what or 'a condition'}; last calls: {methods}")
            await asyncio.sleep(0.02)

    # -- the API -------------------------------------------------------------------------------------
    async def _args(self, request: web.Request) -> JsonDict:
        args: JsonDict = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif request.can_read_body:
            for k, v in (await request.post()).items():
                if isinstance(v, str):
                    args[k] = v
        for key in ("blocks", "view", "attachments", "metadata"):
            raw = args.get(key)
            if isinstance(raw, str) and raw.strip().startswith(("[", "{")):
                args[key] = json.loads(raw)
        return args

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        status, error = 200, None
        headers: dict[str, str] = {}
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            body: JsonDict = {"ok": False, "error": "invalid_auth"}
        elif self._rate_limits.get(method):
            status = 429
            headers["Retry-After"] = str(self._rate_limits[method].pop(0))
            body = {"ok": False, "error": "ratelimited"}
        elif self._server_errors.get(method):
            status = self._server_errors[method].pop(0)
            body = {"ok": False, "error": "fatal_error"}
        elif self._failures.get(method):
            body = {"ok": False, "error": self._failures[method].pop(0)}
        else:
            body = self._dispatch(method, args)
        if body.get("error") != "invalid_auth":
            headers["X-OAuth-Scopes"] = ",".join(self.scopes)  # Slack sends it on every authorised call
        error = None if body.get("ok") else str(body.get("error"))
        self.calls.append(SlackCall(method, args, time.monotonic(), status, error))
        return web.json_response(body, status=status, headers=headers)

    def _check_message(self, args: JsonDict) -> str | None:
        text = args.get("text")
        blocks = args.get("blocks")
        if isinstance(text, str) and len(text) > 40000:
            return "msg_too_long"
        if blocks is not None and (not isinstance(blocks, list) or block_errors(blocks)):
            return "invalid_blocks"
        if not text and not blocks:
            return "no_text"
        return None

    def _dispatch(self, method: str, args: JsonDict) -> JsonDict:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "team_id": TEAM_ID,
                "user": "compass",
            }
        if method == "chat.postMessage":
            channel = args.get("channel")
            if not isinstance(channel, str) or not channel:
                return {"ok": False, "error": "channel_not_found"}
            if (problem := self._check_message(args)) is not None:
                return {"ok": False, "error": problem}
            ts = self._ts()
            thread_ts = args.get("thread_ts")
            blocks = args.get("blocks")
            self.messages[(channel, ts)] = SlackMessage(
                channel=channel,
                ts=ts,
                thread_ts=thread_ts if isinstance(thread_ts, str) else None,
                text=str(args.get("text") or ""),
                blocks=blocks if isinstance(blocks, list) else [],
                metadata=args.get("metadata"),
            )
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}
        if method == "chat.update":
            key = (str(args.get("channel")), str(args.get("ts")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            if (problem := self._check_message(args)) is not None:
                return {"ok": False, "error": problem}
            msg = self.messages[key]
            msg.text = str(args.get("text") or "")
            blocks = args.get("blocks")
            msg.blocks = blocks if isinstance(blocks, list) else []
            msg.updates += 1
            return {"ok": True, "channel": key[0], "ts": key[1], "text": msg.text}
        if method == "chat.postEphemeral":
            if (problem := self._check_message(args)) is not None:
                return {"ok": False, "error": problem}
            self.ephemeral.append(args)
            return {"ok": True, "message_ts": self._ts()}
        if method == "views.open":
            if not args.get("trigger_id") or not isinstance(args.get("view"), dict):
                return {"ok": False, "error": "invalid_arguments"}
            self.views.append(args)
            return {"ok": True, "view": {"id": f"V{len(self.views):08d}"}}
        if method == "reactions.add":
            reaction = (str(args.get("channel")), str(args.get("timestamp")), str(args.get("name")))
            if reaction in self.reactions:
                return {"ok": False, "error": "already_reacted"}
            self.reactions.append(reaction)
            return {"ok": True}
        if method == "conversations.replies":
            thread = self.thread(str(args.get("channel")), str(args.get("ts")))
            with_metadata = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
            messages: list[JsonValue] = []
            for m in thread:
                item: JsonDict = {"ts": m.ts, "text": m.text, "thread_ts": m.thread_ts, "bot_id": BOT_ID}
                if with_metadata and m.metadata is not None:
                    item["metadata"] = m.metadata
                messages.append(item)
            return {"ok": True, "messages": messages, "has_more": False}
        return {"ok": False, "error": "unknown_method"}

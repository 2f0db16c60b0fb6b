"""The verdict's buttons: ✅ records a confirmation; ❌ opens a modal (component + fault) whose submission
is a correction, followed by "What actually resolved it?" like a correcting reply."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

from pydantic import JsonValue
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from compass_bot.listeners.deps import Deps
from compass_worker.contracts import VERDICT_FAULT_IDS, FeedbackRequest, JobName, SlackThread
from compass_worker.slack.replies import THANKS_CONFIRM, THANKS_CORRECTION
from compass_worker.slack.verdict import CONFIRM_ACTION, WRONG_ACTION

CORRECTION_VIEW = "compass_correction"
OTHER_FAULT = "other"

Ack = Callable[..., Awaitable[None]]


def _action(body: Mapping[str, object]) -> Mapping[str, object]:
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return actions[0]
    return {}


def _user(body: Mapping[str, object]) -> str:
    user = body.get("user")
    return str(user.get("id", "")) if isinstance(user, dict) else ""


def correction_modal(thread: SlackThread) -> dict[str, JsonValue]:
    options: list[JsonValue] = [
        {"text": {"type": "plain_text", "text": f}, "value": f} for f in (*VERDICT_FAULT_IDS, OTHER_FAULT)
    ]
    return {
        "type": "modal",
        "callback_id": CORRECTION_VIEW,
        "private_metadata": json.dumps({"channel": thread.channel, "thread_ts": thread.thread_ts}),
        "title": {"type": "plain_text", "text": "Correct COMPASS"},
        "submit": {"type": "plain_text", "text": "Record"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "component",
                "label": {"type": "plain_text", "text": "Component that actually failed"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "placeholder": {
                        "type": "plain_text",
                        "text": "as the telemetry names it, e.g. payments-db",
                    },
                },
            },
            {
                "type": "input",
                "block_id": "fault",
                "label": {"type": "plain_text", "text": "Fault"},
                "element": {"type": "static_select", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
        ],
    }


def _modal_values(view: Mapping[str, object]) -> tuple[str, str, str | None]:
    state = view.get("state")
    values = state.get("values", {}) if isinstance(state, dict) else {}

    def value(block: str) -> str | None:
        entry = values.get(block, {}).get("value", {}) if isinstance(values, dict) else {}
        if not isinstance(entry, dict):
            return None
        selected = entry.get("selected_option")
        raw = selected.get("value") if isinstance(selected, dict) else entry.get("value")
        return raw.strip() if isinstance(raw, str) and raw.strip() else None

    return value("component") or "", value("fault") or "", value("note")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(CONFIRM_ACTION)
    async def on_confirm(ack: Ack, body: dict[str, object], client: AsyncWebClient) -> None:
        await ack()
        thread = SlackThread.from_key(str(_action(body).get("value", "")))
        req = FeedbackRequest(thread=thread, kind="confirm", user=_user(body))
        key = f"{thread.investigation_key}:{_action(body).get('action_ts', '')}"
        if await deps.queue.enqueue(JobName.FEEDBACK, req, key):
            deps.metrics.jobs.labels(JobName.FEEDBACK).inc()
        await client.chat_postMessage(channel=thread.channel, thread_ts=thread.thread_ts, text=THANKS_CONFIRM)

    @app.action(WRONG_ACTION)
    async def on_wrong(ack: Ack, body: dict[str, object], client: AsyncWebClient) -> None:
        await ack()
        thread = SlackThread.from_key(str(_action(body).get("value", "")))
        await client.views_open(trigger_id=str(body.get("trigger_id", "")), view=correction_modal(thread))

    @app.view(CORRECTION_VIEW)
    async def on_correction(ack: Ack, body: dict[str, object], client: AsyncWebClient) -> None:
        view = body.get("view")
        view = view if isinstance(view, dict) else {}
        component, fault, note = _modal_values(view)
        if not component:
            await ack(response_action="errors", errors={"component": "Name the component"})
            return
        await ack()
        meta = json.loads(str(view.get("private_metadata") or "{}"))
        thread = SlackThread(channel=str(meta.get("channel", "")), thread_ts=str(meta.get("thread_ts", "")))
        req = FeedbackRequest(
            thread=thread,
            kind="correct",
            user=_user(body),
            component=component,
            fault=fault or None,
            text=note,
        )
        if await deps.queue.enqueue(
            JobName.FEEDBACK, req, f"{thread.investigation_key}:{view.get('id', '')}"
        ):
            deps.metrics.jobs.labels(JobName.FEEDBACK).inc()
        await deps.queue.await_resolution(thread)
        await client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.thread_ts, text=THANKS_CORRECTION
        )

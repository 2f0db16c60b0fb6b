"""Shared steps of the end-to-end tests."""

from __future__ import annotations

import httpx

from compass_lab.model import Scenario
from compass_testing import FakeSlack, SlackMessage, event_request, mention_event, message_event
from compass_worker.knowledge.settings import EmbedderKind, KnowledgeSettings
from compass_worker.service.settings import ServiceSettings, WorkerConfig
from compass_worker.settings import Settings

CHANNEL = "CINCIDENT"
SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


async def send(http: httpx.AsyncClient, request: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = request
    return await http.post("/slack/events", content=body, headers=headers)


def worker_config(redis_url: str, slack_url: str, db_url: str, **service: object) -> WorkerConfig:
    return WorkerConfig(
        service=ServiceSettings.model_validate(
            {"slack_bot_token": TOKEN, "slack_api_url": slack_url, "redis_url": redis_url, **service}
        ),
        engine=Settings(),
        knowledge=KnowledgeSettings(database_url=db_url, embedder=EmbedderKind.HASHING, auto_migrate=False),
    )


def verdicts(messages: list[SlackMessage]) -> list[SlackMessage]:
    """Verdict messages are the ones carrying the ✅ / ❌ buttons."""
    return [m for m in messages if any(isinstance(b, dict) and b.get("type") == "actions" for b in m.blocks)]


async def mention(http: httpx.AsyncClient, scenario: Scenario, *, event_id: str | None = None) -> str:
    ts = f"{scenario.at:.6f}"  # the mention is posted at the incident's time
    resp = await send(
        http, event_request(SECRET, mention_event(CHANNEL, ts, scenario.symptom), event_id=event_id)
    )
    assert resp.status_code == 200
    return ts


async def investigated(http: httpx.AsyncClient, slack: FakeSlack, scenario: Scenario) -> str:
    ts = await mention(http, scenario)
    await slack.wait_for(lambda: bool(verdicts(slack.thread(CHANNEL, ts))), 60, "a verdict in the thread")
    return ts


async def reply(http: httpx.AsyncClient, thread_ts: str, ts: str, text: str, user: str = "UBOB") -> None:
    event = message_event(CHANNEL, ts, text, thread_ts=thread_ts, user=user)
    assert (await send(http, event_request(SECRET, event))).status_code == 200

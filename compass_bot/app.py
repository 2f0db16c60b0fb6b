"""The edge as an ASGI app: Slack (events, commands, interactivity) at /slack/events, plus /healthz,
/readyz and Prometheus /metrics.

Bolt runs with `process_before_response=True`: the handler records and enqueues *before* Slack gets its
200, so an acknowledged event is never lost (if the process dies first, Slack retries). Handlers only
touch Redis and post one short message, which keeps the ack far below Slack's 3 s.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arq.connections import ArqRedis
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from compass_bot.listeners import Deps, register_all
from compass_bot.metrics import EdgeMetrics
from compass_bot.queue import EdgeQueue
from compass_bot.settings import BotSettings

if TYPE_CHECKING:
    from compass_bot.alerting import Alerting


@dataclass(frozen=True)
class Edge:
    """The pieces of a running edge (tests and the socket-mode runner use `bolt` and `queue`)."""

    api: FastAPI
    bolt: AsyncApp
    queue: EdgeQueue
    metrics: EdgeMetrics
    alerting: Alerting | None = None  # webhooks + REST API, when DATABASE_URL is set


def build_bolt(settings: BotSettings, deps: Deps) -> AsyncApp:
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=10
    )
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
    )
    register_all(bolt, deps)
    return bolt


def create_edge(settings: BotSettings) -> Edge:
    redis = ArqRedis.from_url(settings.redis_url)
    queue = EdgeQueue(redis, dedupe_ttl_s=settings.dedupe_ttl_s, thread_ttl_s=settings.thread_ttl_s)
    metrics = EdgeMetrics()
    bolt = build_bolt(settings, Deps(queue=queue, metrics=metrics))
    handler = AsyncSlackRequestHandler(bolt)

    alerting: Alerting | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            if alerting is None:
                yield
            else:
                async with alerting.running():
                    yield
        finally:
            await redis.aclose()

    api = FastAPI(title="COMPASS bot", lifespan=lifespan, docs_url=None, redoc_url=None)
    if settings.database_url is not None:
        from compass_bot.alerting import Alerting  # asyncpg is loaded only when alerts are configured

        alerting = Alerting(api, settings, redis, metrics)

    @api.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        response: Response = await handler.handle(request)
        metrics.ack_seconds.observe(time.perf_counter() - started)
        metrics.requests.labels(str(response.status_code)).inc()
        return response

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz() -> Response:
        if await queue.ping():
            return Response('{"status":"ready"}', media_type="application/json")
        return Response('{"status":"redis unreachable"}', status_code=503, media_type="application/json")

    @api.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Edge(api=api, bolt=bolt, queue=queue, metrics=metrics, alerting=alerting)


def create_app(settings: BotSettings) -> FastAPI:
    return create_edge(settings).api

"""The edge as an ASGI app: Slack (events, commands, interactivity) at /slack/events, plus /healthz,
/readyz, Prometheus /metrics and the web dashboard at /ui (compass_bot/ui).

Bolt runs with `process_before_response=True`: the handler records and enqueues *before* Slack gets its
200, so an acknowledged event is never lost (if the process dies first, Slack retries). Handlers only
touch Redis and post one short message, which keeps the ack far below Slack's 3 s.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arq.connections import ArqRedis
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.types import Message

from compass_bot.errors import ErrorResponder
from compass_bot.guard import MAX_BODY_BYTES, RejectLog, check_request, read_capped
from compass_bot.journal import Journal
from compass_bot.listeners import Deps, register_all
from compass_bot.metrics import EdgeMetrics
from compass_bot.queue import EdgeQueue
from compass_bot.settings import BotSettings
from compass_bot.ui import load_ui_settings, mount_ui

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


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, without its multi-line "Unhandled request … [Suggestion]" warning: a signed event
    of a type we do not subscribe to is answered 404 and is no news (a long `type` made each one KBs)."""
    logger = logging.getLogger("compass_bot.bolt")
    if not logger.filters:
        logger.addFilter(lambda record: not str(record.msg).startswith("Unhandled request"))
    return logger


def build_bolt(settings: BotSettings, deps: Deps, errors: ErrorResponder | None = None) -> AsyncApp:
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=10
    )
    # Inside Slack's 3 s ack there is room for one short retry of a 5xx, no more; a 429's Retry-After
    # could exceed the ack, so a rate-limited status post is left to the worker (which posts its own).
    client.retry_handlers.append(AsyncServerErrorRetryHandler(max_retry_count=1))
    bolt = AsyncApp(
        client=client,
        logger=_bolt_logger(),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
    )
    register_all(bolt, deps)
    if errors is not None:
        bolt.error(errors.bolt_handler)
    return bolt


def create_edge(settings: BotSettings) -> Edge:
    # A pooled connection that Redis closed (a restart) fails its next command: retried at once on a fresh
    # connection, so the first mention after a restart is enqueued, not journaled. Bounded timeouts keep
    # a hung Redis from eating Slack's 3 s.
    redis = ArqRedis.from_url(
        settings.redis_url,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        retry_on_error=[RedisConnectionError],
        socket_connect_timeout=1.0,
        socket_timeout=2.0,
    )
    journal = Journal(settings.database_url.get_secret_value()) if settings.database_url else None
    queue = EdgeQueue(
        redis, dedupe_ttl_s=settings.dedupe_ttl_s, thread_ttl_s=settings.thread_ttl_s, journal=journal
    )
    metrics = EdgeMetrics()
    errors = ErrorResponder(metrics, RejectLog())
    bolt = build_bolt(settings, Deps(queue=queue, metrics=metrics), errors)
    secret = settings.slack_signing_secret.get_secret_value()
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
            if journal is not None:
                await journal.close()
            await dashboard.store.aclose()

    api = FastAPI(title="COMPASS bot", lifespan=lifespan, docs_url=None, redoc_url=None)
    if settings.database_url is not None:
        from compass_bot.alerting import Alerting  # asyncpg is loaded only when alerts are configured

        alerting = Alerting(api, settings, redis, metrics)

    @api.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        response = await _guarded(request)
        metrics.ack_seconds.observe(time.perf_counter() - started)
        metrics.requests.labels(str(response.status_code)).inc()
        return response

    async def _guarded(request: Request) -> Response:
        """Validation before parsing (compass_bot.guard), then Bolt; nothing escapes as a 500."""
        peer = request.client.host if request.client else "?"
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            errors.reject(413, f"declared body of {declared} bytes", peer)
            return Response(status_code=413)
        body = await read_capped(request.stream())
        if body is None:
            errors.reject(413, f"body larger than {MAX_BODY_BYTES} bytes (chunked)", peer)
            return Response(status_code=413)
        rejection = check_request(secret, body, dict(request.headers))
        if rejection is not None:
            errors.reject(rejection.status, rejection.reason, peer)
            return Response(rejection.reason, status_code=rejection.status, media_type="text/plain")
        try:
            handled: Response = await handler.handle(_replaying(request, body))
        except Exception as exc:  # Bolt's own error handler saw listener errors; this is the last resort
            failed = errors.respond(exc, peer)
            return Response(status_code=failed.status)
        return handled

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz() -> Response:
        down = [] if await queue.ping() else ["redis unreachable"]
        if journal is not None and not await journal.ping():
            down.append("postgresql unreachable")
        if not down:
            return Response('{"status":"ready"}', media_type="application/json")
        body = json.dumps({"status": ", ".join(down)})
        return Response(body, status_code=503, media_type="application/json")

    @api.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    dashboard = mount_ui(api, settings, load_ui_settings())  # the web dashboard at /ui (compass_bot/ui)
    return Edge(api=api, bolt=bolt, queue=queue, metrics=metrics, alerting=alerting)


def _replaying(request: Request, body: bytes) -> Request:
    """The request again, for Bolt: its stream was read (and capped) by the guard already."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def create_app(settings: BotSettings) -> FastAPI:
    return create_edge(settings).api

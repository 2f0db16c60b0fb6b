"""`POST /webhooks/alertmanager` and `POST /webhooks/grafana`.

Order of work: size limit → authentication (before parsing anything) → validation → one transaction →
2xx → enqueue (or leave in the outbox). Bad input gets a 4xx problem+json naming the reason; only a
database that cannot be reached gets a 503 (the sender retries, nothing was written).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping

from arq.connections import ArqRedis
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from compass_bot.database import DB_ERRORS, LazyPool
from compass_bot.metrics import EdgeMetrics
from compass_bot.problems import ProblemError, problem_responses

from .auth import SourceAuth
from .inbox import AlertInbox
from .models import AlertSource, WebhookPayload, to_rows

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
LOG_EVERY_S = 1.0


class Accepted(BaseModel):
    model_config = ConfigDict(frozen=True)

    received: int  # alerts in the body
    accepted: int  # new alerts or status changes, now stored
    duplicates: int  # redeliveries, absorbed
    queued: int  # of the accepted, already handed to the workers (the rest wait in the outbox)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ProblemError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ProblemError(413, f"body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    return f"invalid {where}: {err['msg']}"


class Webhooks:
    def __init__(
        self, pool: LazyPool, redis: ArqRedis, auth: Mapping[str, SourceAuth], metrics: EdgeMetrics
    ) -> None:
        self._pool = pool
        self._redis = redis
        self._auth = auth
        self._metrics = metrics
        self._logged: dict[str, float] = {}

    async def receive(self, source: AlertSource, request: Request) -> Accepted:
        try:
            return await self._receive(source, request)
        except ProblemError as exc:
            self._log_refusal(source, exc)
            raise

    def _log_refusal(self, source: str, exc: ProblemError) -> None:
        """One line per refusal, at most one per second per (source, status): a flood cannot fill the log."""
        now = time.monotonic()
        key = f"{source}:{exc.status}"
        if now - self._logged.get(key, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[key] = now
            log.warning("webhook %s refused: %d %s", source, exc.status, exc.detail[:200])

    async def _receive(self, source: AlertSource, request: Request) -> Accepted:
        started = time.perf_counter()
        auth = self._auth.get(source)
        if auth is None or not auth.configured:
            raise ProblemError(404, f"the {source} webhook is not configured")
        body = await _body(request)
        if (reason := auth.refusal(request.headers, body)) is not None:
            raise ProblemError(401, reason, {"WWW-Authenticate": "Bearer"})
        try:
            payload = WebhookPayload.model_validate_json(body)
        except ValidationError as exc:
            raise ProblemError(422, _reason(exc)) from None
        rows = to_rows(payload, source)
        inbox = AlertInbox(await self._pool.get(), self._redis)
        try:
            refs = await inbox.accept(rows)
        except DB_ERRORS as exc:
            raise ProblemError(503, f"database unavailable: {type(exc).__name__}") from None
        try:
            queued = await inbox.enqueue(refs)
        except DB_ERRORS:  # stored, not marked: the drainer sends them again (same job ids, no duplicates)
            queued = 0
        self._metrics.webhook_seconds.observe(time.perf_counter() - started)
        self._metrics.alerts.labels(source).inc(len(payload.alerts))
        return Accepted(
            received=len(payload.alerts), accepted=len(refs), duplicates=len(rows) - len(refs), queued=queued
        )

    async def drain_forever(self, interval_s: float) -> None:
        """The outbox drainer: every `interval_s`, send what Redis missed. Never raises (logs, retries)."""
        while True:
            try:
                inbox = AlertInbox(await self._pool.get(), self._redis)
                while await inbox.drain() > 0:  # a backlog drains in batches, back to back
                    pass
            except ProblemError:
                pass  # the database is down; the next pass tries again
            except DB_ERRORS as exc:
                log.warning("outbox drain failed: %s", type(exc).__name__)
            await asyncio.sleep(interval_s)

    @contextlib.asynccontextmanager
    async def draining(self, interval_s: float) -> AsyncIterator[None]:
        task = asyncio.create_task(self.drain_forever(interval_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def webhook_router(hooks: Webhooks) -> APIRouter:
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])
    errors = problem_responses(401, 404, 413, 422, 503)

    @router.post("/alertmanager", status_code=202, responses=errors)
    async def alertmanager(request: Request) -> Accepted:
        """Alertmanager webhook v4 (`webhook_configs` with `http_config.authorization`)."""
        return await hooks.receive("alertmanager", request)

    @router.post("/grafana", status_code=202, responses=errors)
    async def grafana(request: Request) -> Accepted:
        """Grafana unified alerting webhook contact point (bearer token or HMAC signature)."""
        return await hooks.receive("grafana", request)

    return router

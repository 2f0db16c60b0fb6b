"""Mounts the alert webhooks and the REST API on the edge when DATABASE_URL is set.

Imported only then (from `create_edge`), so a Slack-only bot never loads asyncpg. `running()` is the
background part — the outbox drainer — and closes the database pool; the app's lifespan enters it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq.connections import ArqRedis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from compass_bot.api.app import create_api
from compass_bot.database import LazyPool
from compass_bot.metrics import EdgeMetrics
from compass_bot.problems import ProblemError, problem_response
from compass_bot.settings import BotSettings
from compass_bot.webhooks.auth import SourceAuth
from compass_bot.webhooks.inbox import AlertInbox
from compass_bot.webhooks.routes import Webhooks, webhook_router


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class Alerting:
    def __init__(self, api: FastAPI, settings: BotSettings, redis: ArqRedis, metrics: EdgeMetrics) -> None:
        assert settings.database_url is not None
        self.pool = LazyPool(settings.database_url.get_secret_value())
        self._redis = redis
        self._interval_s = settings.outbox_interval_s
        auth = {
            "alertmanager": SourceAuth(
                _secret(settings.alertmanager_token), _secret(settings.alertmanager_hmac_secret)
            ),
            "grafana": SourceAuth(_secret(settings.grafana_token), _secret(settings.grafana_hmac_secret)),
        }
        self.webhooks = Webhooks(self.pool, redis, auth, metrics)
        api.include_router(webhook_router(self.webhooks))

        @api.exception_handler(ProblemError)
        async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
            return problem_response(exc.status, exc.detail, exc.headers)

        api.mount("/api/v1", create_api(self.pool, redis))

    async def inbox(self) -> AlertInbox:
        return AlertInbox(await self.pool.get(), self._redis)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Drain the outbox in the background while the app serves; close the pool after."""
        try:
            async with self.webhooks.draining(self._interval_s):
                yield
        finally:
            await self.pool.close()

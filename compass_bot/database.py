"""The bot's PostgreSQL pool (webhooks persist alerts; the REST API reads), opened on first use.

Only imported when DATABASE_URL is set, so a Slack-only bot never loads asyncpg. A database that is down
at start-up does not stop the bot: requests that need it get a 503 until it answers.
"""

from __future__ import annotations

import asyncio

import asyncpg

from compass_bot.problems import ProblemError

DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class LazyPool:
    def __init__(self, url: str, *, max_size: int = 10, timeout_s: float = 5.0) -> None:
        self._url = url
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> asyncpg.Pool[asyncpg.Record]:
        """The pool; a ProblemError(503) when the database cannot be reached."""
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self._url, min_size=1, max_size=self._max_size, timeout=self._timeout_s
                    )
                except DB_ERRORS as exc:
                    raise ProblemError(503, f"database unavailable: {type(exc).__name__}") from None
            return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

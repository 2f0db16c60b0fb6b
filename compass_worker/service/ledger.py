"""Which Slack messages an investigation already posted (status, verdict, findings), keyed by its
investigation key in Redis — so a retried job updates those messages instead of posting them again.

Redis may have lost a ts (a restart without AOF), or never got it (the worker died between
chat.postMessage and `set`: the double-post window). A ledger built with `recover` then asks Slack
itself, once: every message COMPASS posts carries its part in its metadata (`MessageTag`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from arq.connections import ArqRedis

from compass_worker.contracts import RedisKeys

_TTL_S = 30 * 86400


class MessageLedger:
    def __init__(
        self,
        redis: ArqRedis,
        investigation_key: str,
        *,
        recover: Callable[[], Awaitable[dict[str, str]]] | None = None,
    ) -> None:
        self._redis = redis
        self._key = RedisKeys.messages(investigation_key)
        self.investigation_key = investigation_key
        self._recover = recover
        self._recovered: dict[str, str] | None = None

    async def get(self, part: str) -> str | None:
        value = await self._redis.hget(self._key, part)  # type: ignore[misc]  # redis-py's async stubs
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, str):
            return value
        if self._recover is None:
            return None
        if self._recovered is None:
            self._recovered = await self._recover()
        found = self._recovered.get(part)
        if found is not None:
            await self.set(part, found)
        return found

    async def set(self, part: str, ts: str) -> None:
        await self._redis.hset(self._key, part, ts)  # type: ignore[misc]
        await self._redis.expire(self._key, _TTL_S)

"""Which Slack messages an investigation already posted (status, verdict, findings), keyed by its
investigation key in Redis — so a retried job updates those messages instead of posting them again."""

from __future__ import annotations

from arq.connections import ArqRedis

from compass_worker.contracts import RedisKeys

_TTL_S = 30 * 86400


class MessageLedger:
    def __init__(self, redis: ArqRedis, investigation_key: str) -> None:
        self._redis = redis
        self._key = RedisKeys.messages(investigation_key)

    async def get(self, part: str) -> str | None:
        value = await self._redis.hget(self._key, part)  # type: ignore[misc]  # redis-py's async stubs
        if isinstance(value, bytes):
            return value.decode()
        return value if isinstance(value, str) else None

    async def set(self, part: str, ts: str) -> None:
        await self._redis.hset(self._key, part, ts)  # type: ignore[misc]
        await self._redis.expire(self._key, _TTL_S)

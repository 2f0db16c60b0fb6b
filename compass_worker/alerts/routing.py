"""Where an incident is announced (a label → channel map) and how fast (a per-channel rate limit).

The rate limit is a fixed one-minute window per channel in Redis, shared by every worker. A root message
over the limit is not dropped: its job is deferred to the next window, so a storm is announced at the
channel's pace and nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from arq.connections import ArqRedis


class Routes:
    def __init__(self, routes: Mapping[str, str], default: str | None) -> None:
        self._routes = [(*match.split("=", 1), channel) for match, channel in routes.items()]
        self._default = default

    def channel_for(self, labels: Mapping[str, str]) -> str | None:
        for label, wanted, channel in self._routes:
            if labels.get(label) == wanted:
                return channel
        return self._default


class ChannelRateLimit:
    def __init__(self, redis: ArqRedis, per_minute: int) -> None:
        self._redis = redis
        self._per_minute = per_minute

    async def wait_s(self, channel: str, now: float | None = None) -> float:
        """0 when a message may be posted now (and counts it); else how long until the next window."""
        now = time.time() if now is None else now
        window = int(now // 60)
        key = f"compass:alert-rate:{channel}:{window}"
        count = int(await self._redis.incr(key))
        if count == 1:
            await self._redis.expire(key, 120)
        if count <= self._per_minute:
            return 0.0
        return (window + 1) * 60 - now + 0.05

"""Riding out Redis and PostgreSQL outages: which errors mean "a dependency is down" (as opposed to a bug
or bad input), exponential back-off with jitter, and one log line when an outage starts and one when it
ends — never one per retry, never a traceback.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

import asyncpg
from redis.exceptions import RedisError

from compass_worker.knowledge.errors import DatabaseUnavailable

log = logging.getLogger("compass_worker.service")

# asyncpg raises OSError (refused), its own connection errors, CannotConnectNowError (starting up or
# shutting down: a PostgresError), and InterfaceError on a connection closed under it.
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (
    RedisError,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    DatabaseUnavailable,
)


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, DEPENDENCY_ERRORS)


@dataclass
class Backoff:
    """0.2 s, 0.4 s, 0.8 s … capped at `cap_s`, each with ±20 % jitter (so workers do not stampede)."""

    first_s: float = 0.2
    cap_s: float = 5.0
    attempt: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.first_s * 2.0**self.attempt)
        self.attempt += 1
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class Outage:
    """Tracks one dependency's outage for the log: a line when it starts, a line when it is over."""

    what: str  # e.g. "Redis (REDIS_URL=redis://127.0.0.1:6379/0)"
    backoff: Backoff = field(default_factory=Backoff)
    since: float | None = None

    def failed(self, exc: BaseException) -> float:
        """Record a failure; the delay to wait before trying again."""
        if self.since is None:
            self.since = time.monotonic()
            log.warning(
                "%s is unreachable (%s: %s); retrying with back-off", self.what, type(exc).__name__, exc
            )
        return self.backoff.next_delay()

    def recovered(self) -> None:
        if self.since is not None:
            log.warning("%s is reachable again after %.1f s", self.what, time.monotonic() - self.since)
        self.since = None
        self.backoff.reset()

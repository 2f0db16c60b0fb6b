"""What a failed Slack request is answered with, and how it is logged: one line, never a traceback.

- Our dependencies are down (Redis, the network to Slack): 503, so Slack retries the delivery later —
  nothing accepted is dropped on our side.
- Anything else that escapes a listener came from the request's content (a field of the wrong type, a
  button value that is not a thread key): 400, because retrying the same body cannot help.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from redis.exceptions import RedisError
from slack_bolt.response import BoltResponse

from compass_bot.guard import RejectLog
from compass_bot.journal import is_unavailable
from compass_bot.metrics import EdgeMetrics

log = logging.getLogger("compass_bot")

DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


def classify(error: BaseException) -> tuple[int, str]:
    if isinstance(error, DEPENDENCY_ERRORS) or is_unavailable(error):
        return 503, f"a dependency is unavailable ({type(error).__name__})"
    if isinstance(error, ValidationError):
        return 400, f"invalid content ({error.error_count()} field errors)"
    return 400, f"could not process the content ({type(error).__name__}: {str(error)[:120]})"


class ErrorResponder:
    """Bolt's global error handler (listeners and middleware alike) and the route's last resort."""

    def __init__(self, metrics: EdgeMetrics, rejects: RejectLog) -> None:
        self._metrics = metrics
        self._rejects = rejects

    def reject(self, status: int, reason: str, peer: str) -> None:
        self._metrics.rejected.labels(str(status)).inc()
        if line := self._rejects.line(reason, peer):
            log.warning(line)

    def respond(self, error: BaseException, peer: str = "slack") -> BoltResponse:
        status, reason = classify(error)
        self.reject(status, reason, peer)
        return BoltResponse(status=status, body="")

    async def bolt_handler(self, error: Exception) -> BoltResponse:
        return self.respond(error)

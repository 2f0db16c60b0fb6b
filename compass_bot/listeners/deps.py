"""What every listener needs: the queue (Redis + ARQ) and the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from compass_bot.metrics import EdgeMetrics
from compass_bot.queue import EdgeQueue


@dataclass(frozen=True)
class Deps:
    queue: EdgeQueue
    metrics: EdgeMetrics

"""A question over past incidents, as filters: a time range, components, component kinds, faults,
channels, teams and outcome filters. Built by `parse.parse_question` (no LLM), optionally widened by a
model (`widen.py`), and run by `search.search` within the asker's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["inconclusive", "corrected", "confirmed", "failed"]


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    since: datetime | None = None
    until: datetime | None = None
    period: str | None = None  # how the range was said ("this week"), for the answer's header
    components: tuple[str, ...] = ()  # exact component names the store knows
    kinds: tuple[str, ...] = ()  # database | cache | queue | host
    faults: tuple[str, ...] = ()  # FAULTS.md ids
    channels: tuple[str, ...] = ()  # Slack channel ids
    teams: tuple[str, ...] = ()  # team ids or names
    outcomes: tuple[Outcome, ...] = ()

    def describe(self) -> str:
        parts = [*self.components, *(f"any {k}" for k in self.kinds), *self.faults]
        parts += [f"#{c}" for c in self.channels] + [f"team {t}" for t in self.teams] + list(self.outcomes)
        if self.period:
            parts.append(self.period)
        return ", ".join(parts) or "all investigations"

"""LLM budgets per investigation and per day (tokens and USD), checked before every model call.

A call is refused when what was already spent plus what the call would at most add (its input estimate
and its output cap) would pass a limit: a budget is a ceiling, not a target to overshoot by one call.
The day is the UTC calendar day and is read from the ledger, so every worker shares it.
Unpriced calls count towards token budgets only (their dollars are unknown, not zero).
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from decimal import Decimal

from compass_worker.cost.ledger import Clock, CostLedger, Spend, utc_now
from compass_worker.cost.limits import Budgets

__all__ = ["BUDGET_REACHED", "BudgetGuard", "Budgets", "day_start"]

log = logging.getLogger(__name__)

BUDGET_REACHED = "LLM budget reached — continuing with the built-in engine"


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


class BudgetGuard:
    """One investigation's view of the budgets: its own spend, and the ledger's spend today."""

    def __init__(self, budgets: Budgets, ledger: CostLedger, clock: Clock = utc_now) -> None:
        self._budgets = budgets
        self._ledger = ledger
        self._clock = clock
        self.spent = Spend()

    def add(self, tokens: int, usd: Decimal | None) -> None:
        self.spent = Spend(
            calls=self.spent.calls + 1,
            tokens=self.spent.tokens + tokens,
            usd=self.spent.usd + (usd or Decimal(0)),
            unpriced_calls=self.spent.unpriced_calls + (usd is None),
        )

    async def allows(self, max_tokens: int, max_usd: Decimal | None) -> bool:
        """Whether a call of at most `max_tokens` (costing at most `max_usd`, if known) fits every budget."""
        b = self._budgets
        usd = max_usd or Decimal(0)
        if (
            self.spent.tokens + max_tokens > b.investigation_tokens
            or self.spent.usd + usd > b.investigation_usd
        ):
            return False
        try:
            today = await self._ledger.spend_since(day_start(self._clock()))
        except Exception as exc:  # a ledger outage leaves the investigation's own spend as the best estimate
            log.warning(
                "cost ledger unreachable, daily budget checked against this investigation only: %s", exc
            )
            today = self.spent
        return today.tokens + max_tokens <= b.day_tokens and today.usd + usd <= b.day_usd

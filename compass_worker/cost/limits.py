"""The budget limits as settings (tokens and USD, per investigation and per day).

Apart from `budget.py` (which checks them against the ledger) so that reading settings stays light: a
command that only validates COMPASS_LLM must not load the knowledge store to do it.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class Budgets(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    investigation_tokens: int = Field(default=100_000, ge=0)
    investigation_usd: Decimal = Field(default=Decimal("1.00"), ge=0)
    day_tokens: int = Field(default=5_000_000, ge=0)
    day_usd: Decimal = Field(default=Decimal("25.00"), ge=0)

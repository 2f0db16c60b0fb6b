"""The price table: USD per million tokens for `<provider>:<model>`, loaded from TOML data.

The bundled `prices.toml` is the default; a user file (COMPASS_LLM_PRICES) is laid over it. Lookup is
exact first, then the longest `prefix*` key, so a dated snapshot (claude-sonnet-4-5-20250929) finds its
family and `gpt-4o-mini*` wins over `gpt-4o*`. A model with no entry has no price: callers record
`usd=None` ("price unknown"), never zero.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compass_worker.cost.usage import TokenUsage
from compass_worker.errors import ConfigError

_MILLION = Decimal(1_000_000)


class ModelPrice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    cached_input: Decimal | None = Field(default=None, ge=0)
    cache_write: Decimal | None = Field(default=None, ge=0)

    def cost(self, usage: TokenUsage) -> Decimal:
        cached = min(usage.cached_tokens, usage.input_tokens)
        written = min(usage.cache_write_tokens, usage.input_tokens - cached)
        plain = usage.input_tokens - cached - written
        total = (
            plain * self.input
            + cached * (self.cached_input if self.cached_input is not None else self.input)
            + written * (self.cache_write if self.cache_write is not None else self.input)
            + usage.output_tokens * self.output
        )
        return (total / _MILLION).quantize(Decimal("0.000001"))


class PriceTable:
    def __init__(self, prices: dict[str, ModelPrice]) -> None:
        self._exact = {k: v for k, v in prices.items() if not k.endswith("*")}
        # Longest prefix first, so the most specific family wins.
        self._prefixes = sorted(
            ((k[:-1], v) for k, v in prices.items() if k.endswith("*")), key=lambda kv: -len(kv[0])
        )

    @classmethod
    def load(cls, extra: Path | None = None) -> PriceTable:
        """The bundled table, with `extra`'s entries laid over it. Raises ConfigError naming the file."""
        bundled = resources.files("compass_worker.cost").joinpath("prices.toml").read_text("utf-8")
        prices = _parse(bundled, "the bundled prices.toml")
        if extra is not None:
            try:
                text = extra.read_text("utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read price table {extra}: {exc.strerror or exc}") from None
            prices.update(_parse(text, str(extra)))
        return cls(prices)

    def price(self, provider: str, model: str) -> ModelPrice | None:
        key = f"{provider}:{model}"
        if key in self._exact:
            return self._exact[key]
        for prefix, price in self._prefixes:
            if key.startswith(prefix):
                return price
        return None

    def usd(self, provider: str, model: str, usage: TokenUsage) -> Decimal | None:
        """The call's cost, or None when the model has no price (never a silent $0)."""
        price = self.price(provider, model)
        return None if price is None else price.cost(usage)


def _parse(text: str, source: str) -> dict[str, ModelPrice]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"price table {source} is not valid TOML: {exc}") from None
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"price table {source}: [models] must be a table of '<provider>:<model>' entries")
    out: dict[str, ModelPrice] = {}
    for key, entry in models.items():
        if ":" not in key:
            raise ConfigError(f"price table {source}: key {key!r} must look like '<provider>:<model>'")
        try:
            out[key] = ModelPrice.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"price table {source}: {key}: {where or 'entry'}: {err['msg']}") from None
    return out

"""Token usage of one model call, normalised across providers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TokenUsage(BaseModel):
    """`input_tokens` counts every input token, cached ones included (Anthropic reports them apart;
    the adapters add them up so that every provider means the same thing here)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cached_tokens: int = Field(default=0, ge=0)  # read from the provider's prompt cache
    cache_write_tokens: int = Field(default=0, ge=0)  # written to it (Anthropic bills these apart)

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

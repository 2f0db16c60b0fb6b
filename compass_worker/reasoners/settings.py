"""LLM settings, read once at start-up (pydantic-settings) and passed in; nothing reads the environment later.

COMPASS_LLM                  none (default) | anthropic:<model> | openai:<model> | ollama:<model>
COMPASS_LLM_ORIENT / _DECIDE / _SUMMARIZE   per-phase override (same forms; `none` turns a phase off)
ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OPENAI_API_KEY, OPENAI_BASE_URL, OLLAMA_BASE_URL
COMPASS_LLM_TIMEOUT_S, COMPASS_LLM_MAX_RETRIES, COMPASS_LLM_STREAM, COMPASS_LLM_STRUCTURED_OUTPUT
COMPASS_LLM_MAX_INPUT_TOKENS / COMPASS_LLM_MAX_OUTPUT_TOKENS         per call
COMPASS_LLM_BUDGET_INVESTIGATION_TOKENS / _USD, COMPASS_LLM_BUDGET_DAY_TOKENS / _USD
COMPASS_LLM_PRICES           a TOML price table laid over the bundled one
COMPASS_LLM_REDACT_LOCAL     false exempts a local Ollama model from redaction (default: redact everything)
COMPASS_LLM_REDACT_PATTERNS  extra regexes (JSON list) for your own customer-id formats
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from compass_worker.cost.limits import Budgets
from compass_worker.errors import ConfigError

Provider = Literal["anthropic", "openai", "ollama"]
Phase = Literal["orient", "decide", "summarize"]
PHASES: tuple[Phase, ...] = ("orient", "decide", "summarize")
PROVIDERS: tuple[Provider, ...] = ("anthropic", "openai", "ollama")
DEFAULT_OLLAMA_URL = "http://localhost:11434/v1"


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)
    provider: Provider
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_model_spec(text: str, variable: str = "COMPASS_LLM") -> ModelSpec | None:
    """'none' → None; 'anthropic:claude-…' → ModelSpec. ConfigError (one line) on anything else."""
    t = text.strip()
    if t.lower() in ("", "none", "off"):
        return None
    provider, sep, model = t.partition(":")  # Ollama tags keep their own colon: ollama:llama3.1:8b
    if not sep or not model.strip():
        raise ConfigError(
            f"invalid setting {variable}={text!r}: use none, or <provider>:<model> "
            f"with provider one of {', '.join(PROVIDERS)}"
        )
    if provider not in PROVIDERS:
        raise ConfigError(
            f"invalid setting {variable}={text!r}: unknown provider {provider!r} "
            f"(use one of {', '.join(PROVIDERS)})"
        )
    return ModelSpec(provider=provider, model=model.strip())


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class LlmSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPASS_", extra="ignore", frozen=True, populate_by_name=True
    )

    llm: str = "none"
    llm_orient: str | None = None
    llm_decide: str | None = None
    llm_summarize: str | None = None

    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias=_env("ANTHROPIC_API_KEY"))
    anthropic_base_url: str | None = Field(default=None, validation_alias=_env("ANTHROPIC_BASE_URL"))
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=_env("OPENAI_BASE_URL"))
    ollama_base_url: str = Field(default=DEFAULT_OLLAMA_URL, validation_alias=_env("OLLAMA_BASE_URL"))

    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0, le=5)
    llm_stream: bool = False
    llm_structured_output: Literal["tools", "json_schema"] = "tools"
    llm_max_input_tokens: int = Field(default=6_000, ge=500)
    llm_max_output_tokens: int = Field(default=1_024, ge=64)

    llm_budget_investigation_tokens: int = Field(default=Budgets().investigation_tokens, ge=0)
    llm_budget_investigation_usd: Decimal = Field(default=Budgets().investigation_usd, ge=0)
    llm_budget_day_tokens: int = Field(default=Budgets().day_tokens, ge=0)
    llm_budget_day_usd: Decimal = Field(default=Budgets().day_usd, ge=0)
    llm_prices: Path | None = None

    llm_redact_local: bool = True
    llm_redact_patterns: list[str] = Field(default_factory=list)

    @field_validator("llm", "llm_orient", "llm_decide", "llm_summarize")
    @classmethod
    def _spec(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_model_spec(v)
            except ConfigError as exc:
                raise ValueError(str(exc).split(": ", 1)[-1]) from None
        return v

    def phase_spec(self, phase: Phase) -> ModelSpec | None:
        override = {"orient": self.llm_orient, "decide": self.llm_decide, "summarize": self.llm_summarize}[
            phase
        ]
        text = override if override is not None else self.llm
        return parse_model_spec(
            text, f"COMPASS_LLM_{phase.upper()}" if override is not None else "COMPASS_LLM"
        )

    @property
    def configured(self) -> bool:
        return any(self.phase_spec(p) is not None for p in PHASES)

    def budgets(self) -> Budgets:
        return Budgets(
            investigation_tokens=self.llm_budget_investigation_tokens,
            investigation_usd=self.llm_budget_investigation_usd,
            day_tokens=self.llm_budget_day_tokens,
            day_usd=self.llm_budget_day_usd,
        )


_ALIASED = {"anthropic_api_key", "anthropic_base_url", "openai_api_key", "openai_base_url", "ollama_base_url"}


def load_llm_settings() -> LlmSettings:
    """Read the environment once. A bad value → ConfigError naming the variable, in one line."""
    try:
        return LlmSettings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "*"
        name = field.upper() if field in _ALIASED else "COMPASS_" + field.upper()
        # pydantic prefixes a validator's own message with "Value error, ": the person needs only ours.
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = err.get("input")
        shown = f"={value!r}" if isinstance(value, str) and "key" not in field and len(value) < 80 else ""
        raise ConfigError(f"invalid setting {name}{shown}: {msg}") from None

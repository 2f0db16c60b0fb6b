"""Building reasoners from settings: one model per distinct `<provider>:<model>`, routed per phase.

At start-up: `factory = build_reasoner_factory(load_llm_settings(), ledger)` (None when COMPASS_LLM=none
and no phase override names a model); per investigation: `factory.for_investigation(investigation_id)`;
at shutdown: `await factory.aclose()`. `build_reasoner()` does both for a single investigation (the CLI):
the reasoner then owns its HTTP clients — close it (`async with` or `aclose()`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

from compass_worker.cost.budget import Budgets
from compass_worker.cost.ledger import CostLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.errors import ConfigError
from compass_worker.reasoners.anthropic_model import AnthropicModel
from compass_worker.reasoners.llm import LlmModel
from compass_worker.reasoners.llm_reasoner import CallLimits, LlmReasoner
from compass_worker.reasoners.openai_model import OpenAIModel
from compass_worker.reasoners.privacy import RedactionPolicy
from compass_worker.reasoners.settings import PHASES, LlmSettings, ModelSpec, Phase


def build_model(spec: ModelSpec, settings: LlmSettings) -> LlmModel:
    """An adapter for one model. ConfigError (one line) when its key or URL is missing."""
    if spec.provider == "anthropic":
        if settings.anthropic_api_key is None:
            raise ConfigError(f"{spec} needs ANTHROPIC_API_KEY")
        return AnthropicModel(
            spec.model,
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.anthropic_base_url,
            stream=settings.llm_stream,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )
    if spec.provider == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if key is None and settings.openai_base_url is None:
            raise ConfigError(f"{spec} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a server without keys)")
        return OpenAIModel(
            spec.model,
            api_key=key or "unused",  # vLLM / LM Studio without auth still need a non-empty header value
            base_url=settings.openai_base_url,
            stream=settings.llm_stream,
            structured=settings.llm_structured_output,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )
    return OpenAIModel(
        spec.model,
        api_key="ollama",
        base_url=settings.ollama_base_url,
        provider="ollama",
        hosted=False,
        stream=settings.llm_stream,
        structured=settings.llm_structured_output,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )


class ReasonerFactory:
    """Holds the models (and their connection pools) for the life of the process."""

    def __init__(
        self,
        models: dict[Phase, LlmModel],
        *,
        ledger: CostLedger,
        prices: PriceTable,
        budgets: Budgets,
        redaction: RedactionPolicy,
        limits: CallLimits,
    ) -> None:
        self.models = models
        self._ledger = ledger
        self._prices = prices
        self._budgets = budgets
        self._redaction = redaction
        self._limits = limits

    def for_investigation(
        self,
        investigation_id: UUID | None = None,
        *,
        known_pattern: str | None = None,
        owns_models: bool = False,
    ) -> LlmReasoner:
        """`known_pattern`: a memory pattern already matched this incident (orient is skipped, counted)."""
        return LlmReasoner(
            self.models,
            ledger=self._ledger,
            prices=self._prices,
            budgets=self._budgets,
            redaction=self._redaction,
            limits=self._limits,
            investigation_id=investigation_id,
            known_pattern=known_pattern,
            owns_models=owns_models,
        )

    async def aclose(self) -> None:
        for model in {id(m): m for m in self.models.values()}.values():
            await model.aclose()


def build_reasoner_factory(
    settings: LlmSettings, ledger: CostLedger, *, prices: PriceTable | None = None
) -> ReasonerFactory | None:
    models: dict[Phase, LlmModel] = {}
    built: dict[ModelSpec, LlmModel] = {}
    for phase in PHASES:
        spec = settings.phase_spec(phase)
        if spec is None:
            continue
        if spec not in built:
            built[spec] = build_model(spec, settings)
        models[phase] = built[spec]
    if not models:
        return None
    # Requests may be retried by the SDK: the wall-clock bound covers every attempt.
    timeout = settings.llm_timeout_s * (settings.llm_max_retries + 1) + 5
    return ReasonerFactory(
        models,
        ledger=ledger,
        prices=prices or PriceTable.load(settings.llm_prices),
        budgets=settings.budgets(),
        redaction=redaction_policy(settings),
        limits=CallLimits(settings.llm_max_input_tokens, settings.llm_max_output_tokens, timeout),
    )


def redaction_policy(settings: LlmSettings) -> RedactionPolicy:
    try:
        return RedactionPolicy(
            redact_local=settings.llm_redact_local, extra_patterns=settings.llm_redact_patterns
        )
    except re.error as exc:
        raise ConfigError(f"invalid setting COMPASS_LLM_REDACT_PATTERNS: {exc}") from None


def build_reasoner(
    settings: LlmSettings,
    ledger: CostLedger,
    *,
    investigation_id: UUID | None = None,
    known_pattern: str | None = None,
    prices: PriceTable | None = None,
) -> LlmReasoner | None:
    """A reasoner for one investigation, or None when no LLM is configured. Close it when done."""
    factory = build_reasoner_factory(settings, ledger, prices=prices)
    if factory is None:
        return None
    return factory.for_investigation(investigation_id, known_pattern=known_pattern, owns_models=True)


@dataclass(frozen=True)
class OneShot:
    """What one LLM call outside an investigation needs (a question's widening, an alert's class, a
    post-mortem's prose): the phase's model, what to redact, and where its tokens and cost go."""

    model: LlmModel
    redaction: RedactionPolicy
    ledger: CostLedger
    prices: PriceTable


@asynccontextmanager
async def one_shot(
    settings: LlmSettings | None, ledger: CostLedger | None, phase: Phase
) -> AsyncIterator[OneShot | None]:
    """The model configured for `phase`, closed afterwards; None when no model is set up for it (or there
    is no ledger to bill it to) — the caller then goes on without one."""
    spec = settings.phase_spec(phase) if settings is not None else None
    if settings is None or spec is None or ledger is None:
        yield None
        return
    model = build_model(spec, settings)
    try:
        yield OneShot(model, redaction_policy(settings), ledger, PriceTable.load(settings.llm_prices))
    finally:
        await model.aclose()

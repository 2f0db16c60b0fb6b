"""The LLM reasoner: one investigation's orient / decide / summarize calls, each bounded and accounted for.

Every call: redacted, labelled prompt fitted to the per-call token budget → budget check (investigation
and day, tokens and USD) → the phase's model through the forced answer tool → the call recorded in the
ledger → the answer validated. An invalid answer gets one repair attempt; a second failure, a provider
failure (down, timeout, 429, 5xx, garbage) or a reached budget makes that phase fall back to the built-in
engine ([] / None) with a notice. No exception leaves this class: the engine must always finish.

Calls are *avoided* (and counted) when the engine has already settled the question: orient when a known
pattern matched (the caller says so) or nothing was observed, decide when there is no hypothesis to check,
summarize when there is nothing to summarise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from compass_worker.cost.budget import BUDGET_REACHED, BudgetGuard, Budgets
from compass_worker.cost.ledger import Clock, CostLedger, utc_now
from compass_worker.cost.prices import PriceTable
from compass_worker.cost.usage import TokenUsage
from compass_worker.domain.models import Cost, Verdict
from compass_worker.knowledge.records import LlmCall
from compass_worker.reasoners.answers import (
    CHECKS_TOOL,
    SUMMARY_TOOL,
    InvalidAnswer,
    hypotheses_tool,
    mappings_tool,
    parse_checks,
    parse_hypotheses,
    parse_mappings,
    parse_summary,
)
from compass_worker.reasoners.llm import AnswerTool, ChatMessage, LlmModel, LlmReply, LlmRequest
from compass_worker.reasoners.privacy import RedactionPolicy
from compass_worker.reasoners.prompts import (
    Section,
    build_prompt,
    context_sections,
    metric_section,
    system_prompt,
    verdict_section,
)
from compass_worker.reasoners.protocol import (
    MetricView,
    ProposedCheck,
    ProposedHypothesis,
    ProposedMapping,
    ReasonerReport,
    ReasoningContext,
)
from compass_worker.reasoners.settings import Phase
from compass_worker.reasoners.tokens import estimate_tokens

log = logging.getLogger(__name__)

AI_UNAVAILABLE = "AI unavailable — presenting the gathered data"
_T = TypeVar("_T")


def invalid_notice(phase: str) -> str:
    return f"AI answer for {phase} was invalid twice — {phase} continues with the built-in engine"


class CallLimits:
    """Per-call bounds: input tokens (the prompt is trimmed to fit), output tokens, wall clock."""

    def __init__(
        self, max_input_tokens: int = 6_000, max_output_tokens: int = 1_024, timeout_s: float = 60.0
    ) -> None:
        self.max_input_tokens = max_input_tokens
        self.max_output_tokens = max_output_tokens
        self.timeout_s = timeout_s


class LlmReasoner:
    """Implements `Reasoner` for one investigation. Use a new one per investigation (see ReasonerFactory)."""

    def __init__(
        self,
        models: Mapping[Phase, LlmModel],
        *,
        ledger: CostLedger,
        prices: PriceTable,
        budgets: Budgets | None = None,
        redaction: RedactionPolicy | None = None,
        limits: CallLimits | None = None,
        investigation_id: UUID | None = None,
        known_pattern: str | None = None,
        clock: Clock = utc_now,
        owns_models: bool = False,
    ) -> None:
        self._models = dict(models)
        self._ledger = ledger
        self._prices = prices
        self._guard = BudgetGuard(budgets or Budgets(), ledger, clock)
        self._redaction = redaction or RedactionPolicy()
        self._limits = limits or CallLimits()
        self.investigation_id = investigation_id
        self._known_pattern = known_pattern
        self._owns_models = owns_models
        self._notices: list[str] = []
        self._usage = TokenUsage()
        self._usd = Decimal(0)  # priced calls only; unpriced ones are counted apart
        self._unpriced = 0
        self._calls = 0
        self._down: set[int] = set()  # models that failed in this investigation: not asked again
        self._budget_reached = False
        self.calls_avoided = 0

    # ------------------------------------------------------------------ the Reasoner protocol

    async def propose_mappings(self, metrics: list[MetricView], signals: list[str]) -> list[ProposedMapping]:
        """Asked with the orient phase's model: what the telemetry means is part of orienting."""
        if "orient" not in self._models:
            return []
        hosted = self._hosted("orient")
        # A name the redaction would change could not be answered back verbatim: it is not offered.
        views = [m for m in metrics if self._redaction.clean_text(m.name, hosted=hosted) == m.name]
        if not views or not signals:
            await self._avoid("orient", "every metric name follows a known convention")
            return []
        names = [m.name for m in views]
        tool = mappings_tool(signals)
        section = metric_section(views, self._redaction, hosted)
        closing = "Map the listed metric names whose meaning is clear."
        result = await self._guarded(
            "orient", tool, [section], closing, lambda r: parse_mappings(r, tool, names, signals), task="map"
        )
        return result or []

    async def propose_hypotheses(self, ctx: ReasoningContext) -> list[ProposedHypothesis]:
        if "orient" not in self._models:
            return []
        if self._known_pattern:
            await self._avoid("orient", f"known pattern matched: {self._known_pattern}")
            return []
        if not (ctx.anomalies or ctx.logs or ctx.traces):
            await self._avoid("orient", "nothing anomalous observed to reason from")
            return []
        tool = hypotheses_tool(ctx.fault_ids)
        closing = "Propose hypotheses that the engine's list above does not contain yet."
        result = await self._guarded(
            "orient",
            tool,
            self._context(ctx, "orient"),
            closing,
            lambda r: parse_hypotheses(r, tool, ctx.fault_ids),
            fault_ids=ctx.fault_ids,
        )
        return result or []

    async def propose_checks(self, ctx: ReasoningContext) -> list[ProposedCheck]:
        if "decide" not in self._models:
            return []
        if not ctx.hypotheses:
            await self._avoid("decide", "no hypothesis to check")
            return []
        closing = "Propose disproof checks for the listed hypotheses."
        result = await self._guarded(
            "decide",
            CHECKS_TOOL,
            self._context(ctx, "decide"),
            closing,
            lambda r: parse_checks(r, CHECKS_TOOL),
            fault_ids=ctx.fault_ids,
        )
        return result or []

    async def summarize(self, ctx: ReasoningContext, verdict: Verdict) -> str | None:
        if "summarize" not in self._models:
            return None
        if not (verdict.root_causes or verdict.eliminated or verdict.observations):
            await self._avoid("summarize", "nothing to summarise")
            return None
        top = verdict.root_causes[0].component if verdict.root_causes else None
        section = verdict_section(verdict, self._redaction, self._hosted("summarize"))
        closing = "Summarise the engine's verdict above."
        return await self._guarded(
            "summarize",
            SUMMARY_TOOL,
            [*self._context(ctx, "summarize"), section],
            closing,
            lambda r: parse_summary(r, SUMMARY_TOOL, top),
            fault_ids=ctx.fault_ids,
        )

    def report(self) -> ReasonerReport:
        cost = Cost(
            input_tokens=self._usage.input_tokens,
            output_tokens=self._usage.output_tokens,
            cached_tokens=self._usage.cached_tokens,
            usd=float(self._usd),
            llm_calls=self._calls,
            unpriced_calls=self._unpriced,
        )
        return ReasonerReport(cost=cost, notices=tuple(self._notices))

    async def aclose(self) -> None:
        """Close the models' HTTP clients when this reasoner owns them (built by `build_reasoner`)."""
        if self._owns_models:
            for model in {id(m): m for m in self._models.values()}.values():
                await model.aclose()

    async def __aenter__(self) -> LlmReasoner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ internals

    def _context(self, ctx: ReasoningContext, phase: Phase) -> list[Section]:
        return context_sections(ctx, self._redaction, self._hosted(phase))

    def _hosted(self, phase: Phase) -> bool:
        model = self._models.get(phase)
        return True if model is None else model.hosted

    def _notice(self, text: str) -> None:
        if text not in self._notices:
            self._notices.append(text)

    async def _avoid(self, phase: Phase, reason: str) -> None:
        self.calls_avoided += 1
        try:
            await self._ledger.record_avoided(self.investigation_id, phase, reason)
        except Exception as exc:  # the ledger is bookkeeping: its outage must not stop an investigation
            log.warning("cost ledger: could not record an avoided call: %s", exc)

    async def _guarded(
        self,
        phase: Phase,
        tool: AnswerTool,
        sections: list[Section],
        closing: str,
        parse: Callable[[LlmReply], _T],
        *,
        fault_ids: Sequence[str] = (),
        task: str | None = None,
    ) -> _T | None:
        try:
            return await self._ask(phase, tool, sections, closing, parse, list(fault_ids), task or phase)
        except Exception:  # the last line of defence: whatever went wrong, the engine goes on without AI
            log.exception("LLM %s phase failed unexpectedly", phase)
            self._notice(AI_UNAVAILABLE)
            return None

    async def _ask(
        self,
        phase: Phase,
        tool: AnswerTool,
        sections: list[Section],
        closing: str,
        parse: Callable[[LlmReply], _T],
        fault_ids: list[str],
        task: str,
    ) -> _T | None:
        model = self._models[phase]
        if self._budget_reached or id(model) in self._down:
            return None
        system = system_prompt(task, tool, fault_ids)
        fixed = estimate_tokens(system) + estimate_tokens(str(tool.parameters)) + 64
        room = max(256, self._limits.max_input_tokens - fixed)
        user = build_prompt(sections, closing, room)
        messages = [ChatMessage(role="user", content=user)]
        for attempt in range(2):
            request = LlmRequest(
                system=system,
                messages=tuple(messages),
                tool=tool,
                max_output_tokens=self._limits.max_output_tokens,
                phase=phase,
            )
            reply = await self._call(phase, model, request)
            if reply is None:
                return None
            try:
                return parse(reply)
            except InvalidAnswer as bad:
                if attempt == 1:
                    self._notice(invalid_notice(phase))
                    return None
                # The repair turn quotes the bad answer back (redacted like everything else sent).
                echo = self._redaction.clean_text(reply.raw[:2000], hosted=model.hosted)
                messages = [
                    messages[0],
                    ChatMessage(role="assistant", content=echo or "(no answer)"),
                    ChatMessage(
                        role="user",
                        content=f"That answer was invalid: {bad}. Call {tool.name} again, "
                        f"with arguments that match its schema.",
                    ),
                ]
        return None

    async def _call(self, phase: Phase, model: LlmModel, request: LlmRequest) -> LlmReply | None:
        est_in = estimate_tokens(request.system + str(request.tool.parameters)) + sum(
            estimate_tokens(m.content) for m in request.messages
        )
        worst = TokenUsage(input_tokens=est_in, output_tokens=request.max_output_tokens)
        max_usd = self._prices.usd(model.provider, model.model, worst)
        if not await self._guard.allows(worst.total, max_usd):
            self._budget_reached = True
            self._notice(BUDGET_REACHED)
            return None
        started = time.monotonic()
        try:
            reply = await asyncio.wait_for(model.complete(request), self._limits.timeout_s)
        except Exception as exc:  # down, timeout, 429, 5xx, unparseable body: the phase falls back
            log.warning("LLM %s:%s failed in %s: %s", model.provider, model.model, phase, exc)
            self._down.add(id(model))
            self._notice(AI_UNAVAILABLE)
            return None
        await self._account(phase, model, reply.usage, time.monotonic() - started)
        return reply

    async def _account(self, phase: Phase, model: LlmModel, usage: TokenUsage, latency_s: float) -> None:
        usd = self._prices.usd(model.provider, model.model, usage)
        self._calls += 1
        self._usage = TokenUsage(
            input_tokens=self._usage.input_tokens + usage.input_tokens,
            output_tokens=self._usage.output_tokens + usage.output_tokens,
            cached_tokens=self._usage.cached_tokens + usage.cached_tokens,
            cache_write_tokens=self._usage.cache_write_tokens + usage.cache_write_tokens,
        )
        if usd is None:
            self._unpriced += 1
        else:
            self._usd += usd
        self._guard.add(usage.total, usd)
        call = LlmCall(
            investigation_id=self.investigation_id,
            phase=phase,
            provider=model.provider,
            model=model.model,
            tokens_in=usage.input_tokens,
            tokens_out=usage.output_tokens,
            tokens_cached=usage.cached_tokens,
            usd=usd,
            latency_ms=int(latency_s * 1000),
        )
        try:
            await self._ledger.record(call)
        except Exception as exc:  # bookkeeping must not stop the investigation; the cost is still reported
            log.warning("cost ledger: could not record an LLM call: %s", exc)

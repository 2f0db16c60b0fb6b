"""One LLM call outside an investigation's loop (a post-mortem's prose, a question's parsing): the request
is sent once, its tokens and cost land in the same ledger as investigations', and a provider that fails
yields None — the caller then goes on without the model, as investigations do."""

from __future__ import annotations

import logging
import time
from uuid import UUID

from compass_worker.cost.ledger import CostLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.knowledge.records import LlmCall
from compass_worker.reasoners.llm import LlmModel, LlmReply, LlmRequest

log = logging.getLogger(__name__)


async def ask_once(
    model: LlmModel,
    request: LlmRequest,
    *,
    ledger: CostLedger,
    prices: PriceTable,
    investigation_id: UUID | None = None,
) -> LlmReply | None:
    started = time.monotonic()
    try:
        reply = await model.complete(request)
    except Exception as exc:  # down, timeout, 429, 5xx, garbage: the caller falls back
        log.warning("LLM %s:%s failed (%s): %s", model.provider, model.model, request.phase, exc)
        return None
    usage = reply.usage
    call = LlmCall(
        investigation_id=investigation_id,
        phase=request.phase or "other",
        provider=model.provider,
        model=model.model,
        tokens_in=usage.input_tokens,
        tokens_out=usage.output_tokens,
        tokens_cached=usage.cached_tokens,
        usd=prices.usd(model.provider, model.model, usage),
        latency_ms=int((time.monotonic() - started) * 1000),
    )
    try:
        await ledger.record(call)
    except Exception as exc:  # bookkeeping must not lose the answer
        log.warning("cost ledger: could not record an LLM call: %s", exc)
    return reply

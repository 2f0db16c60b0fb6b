"""An LLM widens a question's reading when one is configured: it may add components, kinds, faults and a
time range — but only values from the lists it is given (what the store knows, FAULTS.md ids). Anything
else it answers is dropped; the structured reading always stands, the model only adds to it."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compass_worker.contracts import VERDICT_FAULT_IDS
from compass_worker.cost.ledger import CostLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.questions.parse import vocabulary
from compass_worker.questions.query import Question
from compass_worker.reasoners.llm import AnswerTool, ChatMessage, LlmModel, LlmRequest
from compass_worker.reasoners.oneshot import ask_once
from compass_worker.reasoners.privacy import RedactionPolicy

SYSTEM = """You read an engineer's question about past incidents into search filters.
Use only values from the lists given. Leave a filter empty when the question does not ask for it."""


class _Reading(BaseModel):
    model_config = ConfigDict(extra="ignore")

    components: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    faults: list[str] = Field(default_factory=list)
    days_back: int | None = Field(default=None, ge=1, le=3660)


def _tool(components: list[str]) -> AnswerTool:
    _, kinds = vocabulary()
    return AnswerTool(
        name="search_filters",
        description="Filters for the incident search.",
        parameters={
            "type": "object",
            "properties": {
                "components": {"type": "array", "items": {"type": "string", "enum": list(components)}},
                "kinds": {"type": "array", "items": {"type": "string", "enum": sorted(kinds)}},
                "faults": {"type": "array", "items": {"type": "string", "enum": list(VERDICT_FAULT_IDS)}},
                "days_back": {"type": ["integer", "null"], "minimum": 1},
            },
        },
    )


async def widen(
    q: Question,
    now: datetime,
    components: list[str],
    *,
    model: LlmModel,
    redaction: RedactionPolicy,
    ledger: CostLedger,
    prices: PriceTable,
) -> tuple[Question, str]:
    """The question with the model's additions, and a one-line notice of what the model did."""
    text = redaction.clean_text(q.text, hosted=model.hosted)
    request = LlmRequest(
        system=SYSTEM,
        messages=(ChatMessage(role="user", content=f"Question: {text}"),),
        tool=_tool(components),
        max_output_tokens=300,
        phase="orient",
    )
    reply = await ask_once(model, request, ledger=ledger, prices=prices)
    if reply is None or reply.arguments is None:
        return q, "AI unavailable: the question was read without it"
    try:
        reading = _Reading.model_validate(reply.arguments)
    except ValidationError:
        return q, "AI answer unusable: the question was read without it"
    _, kinds = vocabulary()
    known = set(components)
    added = {
        "components": tuple(sorted({*q.components, *(c for c in reading.components if c in known)})),
        "kinds": tuple(sorted({*q.kinds, *(k for k in reading.kinds if k in kinds)})),
        "faults": tuple(sorted({*q.faults, *(f for f in reading.faults if f in VERDICT_FAULT_IDS)})),
    }
    update: dict[str, object] = dict(added)
    if q.since is None and reading.days_back is not None:
        update |= {
            "since": now - timedelta(days=reading.days_back),
            "period": f"last {reading.days_back} days",
        }
    widened = q.model_copy(update=update)
    return widened, f"read with {model.provider}:{model.model} (only known names kept)"

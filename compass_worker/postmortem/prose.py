"""An LLM writes the post-mortem's prose from the record alone; code checks it before it is used.

The model sees only the record (redacted like every prompt to a hosted model) and must answer through one
tool whose fields are the prose sections. Its answer is accepted only if every evidence id it cites exists,
the cause section cites evidence whenever the record has some, and every number it writes appears in the
record — otherwise the draft stays the deterministic template and says why. The model never decides the
cause: the record's cause (a person's correction, or the verdict) is given, and prose only explains it.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, ValidationError

from compass_worker.cost.ledger import CostLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.postmortem.record import PostmortemRecord
from compass_worker.reasoners.llm import AnswerTool, ChatMessage, LlmModel, LlmRequest
from compass_worker.reasoners.oneshot import ask_once
from compass_worker.reasoners.privacy import RedactionPolicy

PHASE = "summarize"
_CITATION = re.compile(r"\[(E\d+)\]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")

SYSTEM = """You write the prose sections of an incident post-mortem for on-call engineers.
Use ONLY facts present in the record you are given; do not add causes, numbers, times or components.
Cite the evidence behind each claim with its id in square brackets, e.g. [E2]. The cause is already
decided (by a person or by the evidence engine): explain it, do not change it. Be brief and plain."""


class Prose(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: str
    impact: str
    cause: str
    contributing: str = ""
    resolution: str = ""


TOOL = AnswerTool(
    name="write_postmortem",
    description="The post-mortem's prose sections, each citing evidence ids like [E1].",
    parameters={
        "type": "object",
        "properties": {
            "summary": {"type": "string", "description": "two or three sentences"},
            "impact": {"type": "string"},
            "cause": {"type": "string", "description": "the record's cause, explained, with citations"},
            "contributing": {"type": "string"},
            "resolution": {"type": "string"},
        },
        "required": ["summary", "impact", "cause"],
    },
)


class InvalidProse(ValueError):
    pass


def validate(prose: Prose, record: PostmortemRecord) -> None:
    """Raise InvalidProse when the prose cites unknown evidence or writes a number the record lacks."""
    known = {e.id for e in record.evidence}
    texts = [prose.summary, prose.impact, prose.cause, prose.contributing, prose.resolution]
    for text in texts:
        unknown = sorted(set(_CITATION.findall(text)) - known)
        if unknown:
            raise InvalidProse(f"cites {', '.join(unknown)}, which the record does not have")
    if record.cause is not None and record.cause.evidence and not _CITATION.search(prose.cause):
        raise InvalidProse("the cause section cites no evidence")
    facts = record.model_dump_json()
    for text in texts:
        for number in _NUMBER.findall(_CITATION.sub("", text)):
            if number not in facts:
                raise InvalidProse(f"writes the number {number}, which is not in the record")


class ProseWriter:
    """One model (the `summarize` phase's) with the same redaction and cost ledger as investigations."""

    def __init__(
        self, model: LlmModel, *, redaction: RedactionPolicy, ledger: CostLedger, prices: PriceTable
    ) -> None:
        self._model = model
        self._redaction = redaction
        self._ledger = ledger
        self._prices = prices

    async def write(
        self, record: PostmortemRecord, max_output_tokens: int = 1200
    ) -> tuple[Prose | None, str]:
        """The prose, or None and a one-line notice saying why the template stands alone."""
        payload = self._redaction.clean_text(record.model_dump_json(indent=1), hosted=self._model.hosted)
        request = LlmRequest(
            system=SYSTEM,
            messages=(ChatMessage(role="user", content=f"The record:\n{payload}"),),
            tool=TOOL,
            max_output_tokens=max_output_tokens,
            phase=PHASE,
        )
        reply = await ask_once(
            self._model,
            request,
            ledger=self._ledger,
            prices=self._prices,
            investigation_id=record.investigation_id,
        )
        if reply is None:
            return None, "AI prose unavailable (the provider failed); this is the template draft"
        try:
            prose = Prose.model_validate(reply.arguments or json.loads(reply.raw or "null"))
            validate(prose, record)
        except (ValidationError, ValueError) as exc:
            reason = str(exc).splitlines()[0]
            return None, f"AI prose rejected ({reason}); this is the template draft"
        return prose, f"prose by {self._model.provider}:{self._model.model}, checked against the record"

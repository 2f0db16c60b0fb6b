"""An LLM classifies an alert when one is configured and the alert's own words decided nothing (no category
word matched, so the category would be the bare default). The model answers through a tool whose enums are
the allowed categories and severities; anything else is ignored and the word-based class stands. A severity
label on the alert always wins over the model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from compass_worker.alerts.classify import CATEGORIES, SEVERITIES, Category, Classification, Severity
from compass_worker.alerts.store import StoredAlert
from compass_worker.cost.ledger import CostLedger
from compass_worker.cost.prices import PriceTable
from compass_worker.reasoners.llm import AnswerTool, ChatMessage, LlmModel, LlmRequest
from compass_worker.reasoners.oneshot import ask_once
from compass_worker.reasoners.privacy import RedactionPolicy

SYSTEM = """You classify one monitoring alert for an on-call engineer.
category: availability (down, unreachable, crashing), latency (slow, timeouts, lag), errors (failures,
error rates), saturation (a resource at its limit), data (integrity, replication, consistency),
security (certificates, authentication, intrusion).
severity: critical (users affected now), high, medium, low (informational)."""

TOOL = AnswerTool(
    name="alert_class",
    description="The alert's category and severity.",
    parameters={
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
        },
        "required": ["category", "severity"],
    },
)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    category: Category
    severity: Severity


def needs_model(words: Classification) -> bool:
    return words.category_from == "default"


async def classify_with_llm(
    alert: StoredAlert,
    words: Classification,
    *,
    model: LlmModel,
    redaction: RedactionPolicy,
    ledger: CostLedger,
    prices: PriceTable,
) -> Classification:
    """The model's class of `alert` when the words decided nothing; `words` otherwise or when it fails."""
    if not needs_model(words):
        return words
    labels = " ".join(f'{k}="{v}"' for k, v in sorted(alert.labels.items()))
    text = "\n".join(
        x
        for x in (
            f"alert: {alert.name}",
            f"summary: {alert.summary}",
            f"description: {alert.annotations.get('description', '')}",
            f"labels: {labels}",
            f"query: {alert.expr}" if alert.expr else "",
        )
        if x
    )
    request = LlmRequest(
        system=SYSTEM,
        messages=(ChatMessage(role="user", content=redaction.clean_text(text, hosted=model.hosted)),),
        tool=TOOL,
        max_output_tokens=60,
        phase="orient",
    )
    reply = await ask_once(model, request, ledger=ledger, prices=prices)
    if reply is None or reply.arguments is None:
        return words
    try:
        answer = _Answer.model_validate(reply.arguments)
    except ValidationError:
        return words
    labelled = words.severity_from == "label"
    return Classification(
        category=answer.category,
        category_from="llm",
        severity=words.severity if labelled else answer.severity,
        severity_from="label" if labelled else "llm",
    )

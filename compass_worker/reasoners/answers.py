"""The structured answers a model may give, as answer tools (JSON schema) and pydantic validators.

Schemas are written out by hand: small, inline (no $refs, which some OpenAI-compatible servers mishandle)
and the same for every provider. `parse_*` turn a reply into protocol proposals or raise `InvalidAnswer`
with a message that the one repair attempt shows the model.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from compass_worker.reasoners.llm import AnswerTool, LlmReply
from compass_worker.reasoners.protocol import MappingUnit, ProposedCheck, ProposedHypothesis, ProposedMapping

MAX_HYPOTHESES = 5
MAX_CHECKS = 4
MAX_MAPPINGS = 12
UNITS: tuple[str, ...] = get_args(MappingUnit)
MAX_SUMMARY_CHARS = 1500


class InvalidAnswer(Exception):
    """The reply does not fit the answer tool; the message says why (shown to the model once)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")  # extra keys are harmless, missing ones are not


class _Hypothesis(_Lenient):
    component: str = Field(min_length=1, max_length=200)
    fault: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    rationale: str = Field(default="", max_length=500)


class _Hypotheses(_Lenient):
    hypotheses: list[_Hypothesis] = Field(max_length=MAX_HYPOTHESES * 2)


class _Check(_Lenient):
    hypothesis_id: str = Field(min_length=1, max_length=300)
    purpose: str = Field(min_length=1, max_length=300)
    language: Literal["promql", "logql", "traceql"] = "promql"
    query: str = Field(min_length=1, max_length=2000)
    lookback_s: int = Field(default=3600, ge=60, le=86400)


class _Checks(_Lenient):
    checks: list[_Check] = Field(max_length=MAX_CHECKS * 2)


class _Mapping(_Lenient):
    metric: str = Field(min_length=1, max_length=300)
    signal: str = Field(min_length=1, max_length=80)
    unit: MappingUnit = "none"
    rationale: str = Field(default="", max_length=300)


class _Mappings(_Lenient):
    mappings: list[_Mapping] = Field(max_length=MAX_MAPPINGS * 2)


class _Summary(_Lenient):
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY_CHARS * 2)


def _str(description: str, max_length: int) -> dict[str, JsonValue]:
    return {"type": "string", "description": description, "maxLength": max_length}


def hypotheses_tool(fault_ids: list[str]) -> AnswerTool:
    item: dict[str, JsonValue] = {
        "type": "object",
        "properties": {
            "component": _str("a component exactly as the topology names it", 200),
            "fault": {"type": "string", "enum": [*fault_ids, "other"], "description": "a fault id, or other"},
            "description": _str("what the fault is, when fault is other", 500),
            "rationale": _str("which observations point to it", 500),
        },
        "required": ["component", "fault", "rationale"],
    }
    return AnswerTool(
        name="propose_hypotheses",
        description="Propose extra hypotheses for the engine to test. The engine validates and tests them.",
        parameters={
            "type": "object",
            "properties": {"hypotheses": {"type": "array", "items": item, "maxItems": MAX_HYPOTHESES}},
            "required": ["hypotheses"],
        },
    )


def mappings_tool(signals: list[str]) -> AnswerTool:
    item: dict[str, JsonValue] = {
        "type": "object",
        "properties": {
            "metric": _str("a metric name exactly as listed", 300),
            "signal": {"type": "string", "enum": list(signals), "description": "what the metric measures"},
            "unit": {"type": "string", "enum": list(UNITS), "description": "the unit of its values"},
            "rationale": _str("which words of the name, type or help text say so", 300),
        },
        "required": ["metric", "signal", "unit"],
    }
    return AnswerTool(
        name="map_metrics",
        description="Say what listed metrics measure; the engine queries them and checks their values.",
        parameters={
            "type": "object",
            "properties": {"mappings": {"type": "array", "items": item, "maxItems": MAX_MAPPINGS}},
            "required": ["mappings"],
        },
    )


CHECKS_TOOL = AnswerTool(
    name="propose_checks",
    description="Propose read-only queries that could refute listed hypotheses; the engine runs them.",
    parameters={
        "type": "object",
        "properties": {
            "checks": {
                "type": "array",
                "maxItems": MAX_CHECKS,
                "items": {
                    "type": "object",
                    "properties": {
                        "hypothesis_id": _str("one of the listed hypothesis ids", 300),
                        "purpose": _str("what result would refute the hypothesis", 300),
                        "language": {"type": "string", "enum": ["promql"]},
                        "query": _str("the PromQL query", 2000),
                        "lookback_s": {"type": "integer", "minimum": 60, "maximum": 86400},
                    },
                    "required": ["hypothesis_id", "purpose", "language", "query"],
                },
            }
        },
        "required": ["checks"],
    },
)

SUMMARY_TOOL = AnswerTool(
    name="write_summary",
    description="Write the human summary of the engine's verdict.",
    parameters={
        "type": "object",
        "properties": {"summary": _str("3 to 6 sentences for the on-call engineer", MAX_SUMMARY_CHARS)},
        "required": ["summary"],
    },
)


def _arguments(reply: LlmReply, tool: AnswerTool) -> dict[str, JsonValue]:
    if reply.truncated:
        raise InvalidAnswer("the answer was cut off by the output limit; answer more briefly")
    if reply.tool_name != tool.name:
        got = f"the tool {reply.tool_name!r}" if reply.tool_name else "plain text"
        raise InvalidAnswer(
            f"answer by calling the tool {tool.name!r} (you used {got}); no other tool exists"
        )
    if reply.arguments is None:
        raise InvalidAnswer(f"the arguments of {tool.name!r} must be one JSON object")
    return reply.arguments


def _validation(exc: ValidationError) -> InvalidAnswer:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "arguments"
    return InvalidAnswer(f"{where}: {err['msg']}")


def parse_hypotheses(reply: LlmReply, tool: AnswerTool, fault_ids: list[str]) -> list[ProposedHypothesis]:
    try:
        answer = _Hypotheses.model_validate(_arguments(reply, tool))
    except ValidationError as exc:
        raise _validation(exc) from None
    allowed = {*fault_ids, "other"}
    for h in answer.hypotheses:
        if h.fault not in allowed:
            raise InvalidAnswer(f"fault {h.fault!r} is not a listed fault id; use one of the list or 'other'")
    return [
        ProposedHypothesis(
            component=h.component, fault=h.fault, description=h.description, rationale=h.rationale
        )
        for h in answer.hypotheses[:MAX_HYPOTHESES]
    ]


def parse_checks(reply: LlmReply, tool: AnswerTool) -> list[ProposedCheck]:
    try:
        answer = _Checks.model_validate(_arguments(reply, tool))
    except ValidationError as exc:
        raise _validation(exc) from None
    return [
        ProposedCheck(
            hypothesis_id=c.hypothesis_id,
            purpose=c.purpose,
            language=c.language,
            query=c.query,
            lookback_s=c.lookback_s,
        )
        for c in answer.checks[:MAX_CHECKS]
    ]


def parse_mappings(
    reply: LlmReply, tool: AnswerTool, names: list[str], signals: list[str]
) -> list[ProposedMapping]:
    """Only listed names and offered signals: a mapping of an invented metric would query nothing, and
    one metric is one signal (the first proposal for it wins)."""
    try:
        answer = _Mappings.model_validate(_arguments(reply, tool))
    except ValidationError as exc:
        raise _validation(exc) from None
    listed, offered = set(names), set(signals)
    out: dict[str, ProposedMapping] = {}
    for m in answer.mappings:
        if m.metric not in listed:
            raise InvalidAnswer(f"metric {m.metric!r} is not one of the listed names; map listed names only")
        if m.signal not in offered:
            raise InvalidAnswer(f"signal {m.signal!r} is not one of the offered signals")
        out.setdefault(
            m.metric, ProposedMapping(metric=m.metric, signal=m.signal, unit=m.unit, rationale=m.rationale)
        )
    return list(out.values())[:MAX_MAPPINGS]


def parse_summary(reply: LlmReply, tool: AnswerTool, must_mention: str | None) -> str:
    """`must_mention`: the verdict's top component; a summary not naming it describes another verdict."""
    try:
        answer = _Summary.model_validate(_arguments(reply, tool))
    except ValidationError as exc:
        raise _validation(exc) from None
    text = answer.summary.strip()
    if must_mention and must_mention.lower() not in text.lower():
        raise InvalidAnswer(
            f"the summary must describe the engine's verdict, whose top cause is on {must_mention}"
        )
    return text[:MAX_SUMMARY_CHARS]

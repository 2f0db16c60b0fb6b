"""The one small LLM interface every provider adapter implements (pydantic-ai's models/providers split).

A request is a system prompt, text messages and exactly one *answer tool* whose JSON schema is the shape
of the structured answer; adapters force the model to answer through it (tool use / tool calls, or a
JSON-schema response format). The reply carries the arguments as parsed JSON (or None when the text was
not JSON), whether the answer was cut off, and the usage — validation is the caller's job.

Adapters raise `LlmUnavailable` (a ProviderError) for anything the provider did wrong or could not do:
connection refused, timeout, 429, 5xx, an unparseable response body. They never retry beyond the SDK's
configured retries.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, JsonValue

from compass_worker.cost.usage import TokenUsage
from compass_worker.errors import ProviderError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LlmUnavailable(ProviderError):
    """The provider did not give a usable response (down, timeout, rate limit, server error, garbage)."""


class ChatMessage(_Frozen):
    role: Literal["user", "assistant"]
    content: str


class AnswerTool(_Frozen):
    """The tool the model must answer through; `parameters` is a JSON schema (type: object)."""

    name: str
    description: str
    parameters: dict[str, JsonValue]


class LlmRequest(_Frozen):
    system: str  # static instructions: first in the prompt, so providers can cache it
    messages: tuple[ChatMessage, ...]
    tool: AnswerTool
    max_output_tokens: int
    phase: str = ""  # for logs and fakes only


class LlmReply(_Frozen):
    tool_name: str | None  # the tool the model called (None: it answered in text)
    arguments: dict[str, JsonValue] | None  # the call's arguments, None when not a JSON object
    raw: str  # the arguments' or the text's raw form, for a repair prompt
    truncated: bool  # stopped by the output-token cap: the answer is incomplete
    usage: TokenUsage


class LlmModel(Protocol):
    @property
    def provider(self) -> str: ...  # "anthropic" | "openai" | "ollama" | "scripted"

    @property
    def model(self) -> str: ...

    @property
    def hosted(self) -> bool: ...  # False only for a local model (redaction may be exempted)

    async def complete(self, request: LlmRequest) -> LlmReply: ...

    async def aclose(self) -> None: ...

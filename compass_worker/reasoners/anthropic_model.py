"""Anthropic Messages API adapter (the `anthropic` SDK): forced tool use, prompt caching, streaming.

The system prompt goes first as one text block marked `cache_control: ephemeral`, so repeated calls of
an investigation (and of the next one) read the static instructions from the prompt cache. Anthropic
reports `input_tokens` without the cached/cache-written parts; they are added back here so that
`TokenUsage.input_tokens` means "every input token" for every provider.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import anthropic
from pydantic import JsonValue, TypeAdapter, ValidationError

from compass_worker.cost.usage import TokenUsage
from compass_worker.reasoners.llm import LlmReply, LlmRequest, LlmUnavailable

if TYPE_CHECKING:
    from anthropic.types import Message, MessageParam, TextBlockParam, ToolParam

_JSON_OBJECT: TypeAdapter[dict[str, JsonValue]] = TypeAdapter(dict[str, JsonValue])


class AnthropicModel:
    provider = "anthropic"
    hosted = True

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 1,
        stream: bool = False,
    ) -> None:
        self._model = model
        self._stream = stream
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(self, request: LlmRequest) -> LlmReply:
        system: list[TextBlockParam] = [
            {"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}
        ]
        messages: list[MessageParam] = []
        for m in request.messages:
            if m.role == "user":
                messages.append({"role": "user", "content": m.content})
            else:
                messages.append({"role": "assistant", "content": m.content})
        tool: ToolParam = {
            "name": request.tool.name,
            "description": request.tool.description,
            "input_schema": request.tool.parameters,  # type: ignore[typeddict-item]  # a JSON schema dict
        }
        message: Message
        try:
            if self._stream:
                async with self._client.messages.stream(
                    model=self._model,
                    max_tokens=request.max_output_tokens,
                    system=system,
                    messages=messages,
                    tools=[tool],
                    tool_choice={"type": "tool", "name": request.tool.name},
                ) as stream:
                    message = await stream.get_final_message()
            else:
                message = await self._client.messages.create(
                    model=self._model,
                    max_tokens=request.max_output_tokens,
                    system=system,
                    messages=messages,
                    tools=[tool],
                    tool_choice={"type": "tool", "name": request.tool.name},
                )
        except anthropic.AnthropicError as exc:
            raise LlmUnavailable(f"anthropic:{self._model}: {_describe(exc)}") from exc
        except (ValueError, AssertionError) as exc:
            # The SDK's stream accumulator raises ValueError on an unparseable chunk and asserts when a
            # stream ends without a message (e.g. a proxy's HTML error page served with status 200).
            raise LlmUnavailable(f"anthropic:{self._model}: malformed response: {exc}") from exc
        return _reply(message)


def _describe(exc: anthropic.AnthropicError) -> str:
    if isinstance(exc, anthropic.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, anthropic.APITimeoutError):
        return "timed out"
    if isinstance(exc, anthropic.APIConnectionError):
        return "connection failed"
    return type(exc).__name__


def _reply(message: Message) -> LlmReply:
    u = message.usage
    cached = u.cache_read_input_tokens or 0
    written = u.cache_creation_input_tokens or 0
    usage = TokenUsage(
        input_tokens=u.input_tokens + cached + written,
        output_tokens=u.output_tokens,
        cached_tokens=cached,
        cache_write_tokens=written,
    )
    truncated = message.stop_reason in ("max_tokens", "model_context_window_exceeded")
    for block in message.content:
        if block.type == "tool_use":
            raw = json.dumps(block.input)
            try:
                args: dict[str, JsonValue] | None = _JSON_OBJECT.validate_python(block.input)
            except ValidationError:
                args = None
            return LlmReply(tool_name=block.name, arguments=args, raw=raw, truncated=truncated, usage=usage)
    text = "".join(b.text for b in message.content if b.type == "text")
    return LlmReply(tool_name=None, arguments=None, raw=text, truncated=truncated, usage=usage)

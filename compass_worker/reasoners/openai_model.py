"""OpenAI Chat Completions adapter (the `openai` SDK), for OpenAI and any compatible `base_url`
(Ollama, vLLM, LM Studio).

Structured output through a forced function tool call (`structured="tools"`, the default) or, for
servers whose tool calling is weak, a JSON-schema response format (`structured="json_schema"`).
Streaming accumulates the SSE chunks here (the SDK's stream helper insists on strict tools, which our
schemas do not need) and asks for the usage chunk with `stream_options.include_usage`.
OpenAI caches long prompt prefixes by itself; the static system prompt is sent first so that it can.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

import openai
from openai import Omit, omit
from pydantic import JsonValue, TypeAdapter, ValidationError

from compass_worker.cost.usage import TokenUsage
from compass_worker.reasoners.llm import LlmReply, LlmRequest, LlmUnavailable

if TYPE_CHECKING:
    from openai.types import CompletionUsage
    from openai.types.chat import (
        ChatCompletionMessageParam,
        ChatCompletionNamedToolChoiceParam,
        ChatCompletionToolParam,
    )
    from openai.types.chat.completion_create_params import ResponseFormat
    from openai.types.shared_params.response_format_json_schema import JSONSchema

Structured = Literal["tools", "json_schema"]
_JSON_OBJECT: TypeAdapter[dict[str, JsonValue]] = TypeAdapter(dict[str, JsonValue])


class OpenAIModel:
    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str | None = None,
        provider: str = "openai",
        hosted: bool = True,
        timeout_s: float = 30.0,
        max_retries: int = 1,
        stream: bool = False,
        structured: Structured = "tools",
    ) -> None:
        self._model = model
        self._provider = provider
        self._hosted = hosted
        self._stream = stream
        self._structured = structured
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )

    @property
    def provider(self) -> str:
        return self._provider

    @property
    def model(self) -> str:
        return self._model

    @property
    def hosted(self) -> bool:
        return self._hosted

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(self, request: LlmRequest) -> LlmReply:
        messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": request.system}]
        for m in request.messages:
            if m.role == "user":
                messages.append({"role": "user", "content": m.content})
            else:
                messages.append({"role": "assistant", "content": m.content})
        name = request.tool.name
        tools: list[ChatCompletionToolParam] | Omit = omit
        choice_param: ChatCompletionNamedToolChoiceParam | Omit = omit
        fmt: ResponseFormat | Omit = omit
        params: dict[str, object] = dict(request.tool.parameters)
        if self._structured == "tools":
            tools = [
                {
                    "type": "function",
                    "function": {
                        "name": name,
                        "description": request.tool.description,
                        "parameters": params,
                    },
                }
            ]
            choice_param = {"type": "function", "function": {"name": name}}
        else:
            schema: JSONSchema = {"name": name, "schema": params, "strict": False}
            fmt = {"type": "json_schema", "json_schema": schema}
        try:
            if self._stream:
                return await self._streamed(request, messages, tools, choice_param, fmt)
            completion = await self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                max_tokens=request.max_output_tokens,
                tools=tools,
                tool_choice=choice_param,
                response_format=fmt,
            )
        except openai.OpenAIError as exc:
            raise LlmUnavailable(f"{self._provider}:{self._model}: {_describe(exc)}") from exc
        except ValueError as exc:  # an SSE chunk that is not JSON
            raise LlmUnavailable(f"{self._provider}:{self._model}: malformed response: {exc}") from exc
        if not completion.choices:
            raise LlmUnavailable(f"{self._provider}:{self._model}: response without choices")
        choice = completion.choices[0]
        usage = _usage(completion.usage)
        truncated = choice.finish_reason == "length"
        calls = choice.message.tool_calls or []
        for call in calls:
            if call.type == "function":
                return _reply(call.function.name, call.function.arguments, truncated, usage)
        text = choice.message.content or ""
        if self._structured == "json_schema":
            return _reply(name, text, truncated, usage)
        return LlmReply(tool_name=None, arguments=None, raw=text, truncated=truncated, usage=usage)

    async def _streamed(
        self,
        request: LlmRequest,
        messages: list[ChatCompletionMessageParam],
        tools: list[ChatCompletionToolParam] | Omit,
        choice_param: ChatCompletionNamedToolChoiceParam | Omit,
        fmt: ResponseFormat | Omit,
    ) -> LlmReply:
        stream = await self._client.chat.completions.create(
            model=self._model,
            messages=messages,
            max_tokens=request.max_output_tokens,
            stream=True,
            stream_options={"include_usage": True},
            tools=tools,
            tool_choice=choice_param,
            response_format=fmt,
        )
        text: list[str] = []
        tool_name: str | None = None
        args: list[str] = []
        finish: str | None = None
        usage = TokenUsage()
        received = 0
        async with stream:
            async for chunk in stream:
                received += 1
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
                for choice in chunk.choices[:1]:
                    finish = choice.finish_reason or finish
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                    for tc in delta.tool_calls or []:
                        if tc.index != 0:  # one answer tool; parallel extra calls are ignored
                            continue
                        if tc.function is not None:
                            tool_name = tc.function.name or tool_name
                            args.append(tc.function.arguments or "")
        if not received:  # e.g. a proxy's HTML error page served with status 200: no SSE events at all
            raise LlmUnavailable(f"{self._provider}:{self._model}: empty or malformed stream")
        truncated = finish == "length"
        if tool_name is not None:
            return _reply(tool_name, "".join(args), truncated, usage)
        if self._structured == "json_schema":
            return _reply(request.tool.name, "".join(text), truncated, usage)
        return LlmReply(tool_name=None, arguments=None, raw="".join(text), truncated=truncated, usage=usage)


def _describe(exc: openai.OpenAIError) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "connection failed"
    return type(exc).__name__


def _usage(u: CompletionUsage | None) -> TokenUsage:
    if u is None:
        return TokenUsage()
    cached = (u.prompt_tokens_details.cached_tokens or 0) if u.prompt_tokens_details else 0
    return TokenUsage(input_tokens=u.prompt_tokens, output_tokens=u.completion_tokens, cached_tokens=cached)


def _reply(name: str, raw: str, truncated: bool, usage: TokenUsage) -> LlmReply:
    try:
        args: dict[str, JsonValue] | None = _JSON_OBJECT.validate_python(json.loads(raw))
    except (ValueError, ValidationError):  # not JSON, or JSON but not an object
        args = None
    return LlmReply(tool_name=name, arguments=args, raw=raw, truncated=truncated, usage=usage)

"""A scripted `LlmModel` for tests and benchmarks: answers from a list or a function, records requests.

Usage is estimated from the request and the answer (as a real provider would report it), so budgets,
the ledger and the token benchmark see realistic figures without a model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from pydantic import JsonValue

from compass_worker.cost.usage import TokenUsage
from compass_worker.reasoners.llm import LlmReply, LlmRequest
from compass_worker.reasoners.tokens import estimate_tokens

# One scripted step: tool arguments (answered through the requested tool), a full reply, or an exception.
Step = dict[str, JsonValue] | LlmReply | Exception
Responder = Callable[[LlmRequest], Step]


def request_tokens(request: LlmRequest) -> int:
    text = request.system + json.dumps(request.tool.parameters) + "".join(m.content for m in request.messages)
    return estimate_tokens(text)


class ScriptedModel:
    def __init__(
        self,
        script: Sequence[Step] | Responder,
        *,
        provider: str = "scripted",
        model: str = "scripted-1",
        hosted: bool = True,
    ) -> None:
        self._steps = list(script) if not callable(script) else []
        self._responder = script if callable(script) else None
        self._provider = provider
        self._model = model
        self._hosted = hosted
        self.requests: list[LlmRequest] = []
        self.closed = False

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
        self.closed = True

    async def complete(self, request: LlmRequest) -> LlmReply:
        self.requests.append(request)
        if self._responder is not None:
            step = self._responder(request)
        elif self._steps:
            step = self._steps.pop(0)
        else:
            raise AssertionError(f"scripted model: no answer left for {request.phase or 'a'} request")
        if isinstance(step, Exception):
            raise step
        if isinstance(step, LlmReply):
            return step
        raw = json.dumps(step)
        usage = TokenUsage(input_tokens=request_tokens(request), output_tokens=estimate_tokens(raw))
        return LlmReply(tool_name=request.tool.name, arguments=step, raw=raw, truncated=False, usage=usage)

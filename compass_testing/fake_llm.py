"""Local fakes of the Anthropic Messages API and the OpenAI Chat Completions API, for the real SDKs.

One Starlette app on 127.0.0.1 (a free port) serves `POST /v1/messages` (Anthropic) and
`POST /v1/chat/completions` (OpenAI, also what Ollama/vLLM speak). Each request pops the next scripted
step; every request is recorded (path, headers, JSON body) so tests assert what left the process.
Streaming (`"stream": true`) answers with the providers' SSE event sequences, usage included.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from compass_lab.server.runner import bind_socket


@dataclass(frozen=True)
class Answer:
    """A tool call (or, with tool=None, plain text). `arguments` may be raw text to send malformed JSON."""

    arguments: dict[str, Any] | str = field(default_factory=dict)
    tool: str | None = "__requested__"  # the tool the request forced, unless overridden
    text: str = ""
    input_tokens: int = 1200
    output_tokens: int = 80
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class HttpError:
    status: int
    message: str = "scripted failure"


@dataclass(frozen=True)
class Garbage:
    """HTTP 200 with a body that is not JSON."""


@dataclass(frozen=True)
class Slow:
    """The request answers with the step after this one, `seconds` late."""

    seconds: float


Step = Answer | HttpError | Garbage | Slow


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)


def _requested_tool(body: dict[str, Any], api: str) -> str:
    if api == "anthropic":
        choice = body.get("tool_choice") or {}
        return str(choice.get("name", "answer"))
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice["function"]["name"])
    fmt = body.get("response_format") or {}
    return str(fmt.get("json_schema", {}).get("name", "answer"))


def _args_text(a: Answer) -> str:
    return a.arguments if isinstance(a.arguments, str) else json.dumps(a.arguments)


def _sse(events: list[tuple[str | None, str]]) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        for name, data in events:
            head = f"event: {name}\n" if name else ""
            yield f"{head}data: {data}\n\n".encode()

    return gen()


class FakeLlmApi:
    def __init__(self) -> None:
        self.script: list[Step] = []
        self.requests: list[Recorded] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ---------------------------------------------------------------- lifecycle

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self, *steps: Step) -> None:
        self.script = list(steps)
        self.requests = []

    def start(self) -> None:
        sock = bind_socket("127.0.0.1", 0)
        self.port = int(sock.getsockname()[1])
        app = Starlette(
            routes=[
                Route("/v1/messages", self._anthropic, methods=["POST"]),
                Route("/v1/chat/completions", self._openai, methods=["POST"]),
            ]
        )
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake LLM API did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    # ---------------------------------------------------------------- handlers

    async def _next(self, request: Request) -> tuple[dict[str, Any], Step | None]:
        body = await request.json()
        self.requests.append(Recorded(request.url.path, dict(request.headers), body))
        step = self.script.pop(0) if self.script else None
        if isinstance(step, Slow):
            # Take the answer it is slow to give now: after the sleep, a timed-out test may be over and
            # the next one's script in place, and a late pop would steal that test's answer.
            late = self.script.pop(0) if self.script else None
            await asyncio.sleep(step.seconds)
            step = late
        return body, step

    @staticmethod
    def _failure(step: Step | None) -> Response | None:
        if step is None:
            return JSONResponse({"error": {"message": "no scripted answer left"}}, status_code=500)
        if isinstance(step, HttpError):
            return JSONResponse(
                {"type": "error", "error": {"type": "api_error", "message": step.message}},
                status_code=step.status,
            )
        if isinstance(step, Garbage):
            return Response("<html>502 bad gateway</html>", media_type="application/json")
        return None

    async def _anthropic(self, request: Request) -> Response:
        body, step = await self._next(request)
        failed = self._failure(step)
        if failed is not None:
            return failed
        assert isinstance(step, Answer)
        name = _requested_tool(body, "anthropic") if step.tool == "__requested__" else step.tool
        usage = {
            "input_tokens": step.input_tokens - step.cached_tokens - step.cache_write_tokens,
            "output_tokens": step.output_tokens,
            "cache_read_input_tokens": step.cached_tokens,
            "cache_creation_input_tokens": step.cache_write_tokens,
        }
        stop = "max_tokens" if step.truncated else ("tool_use" if name else "end_turn")
        block: dict[str, Any]
        if name:
            block = {"type": "tool_use", "id": "toolu_01", "name": name, "input": {}}
        else:
            block = {"type": "text", "text": ""}
        if not body.get("stream"):
            if name:
                args = step.arguments if isinstance(step.arguments, dict) else {"_raw": step.arguments}
                block["input"] = args
            else:
                block["text"] = step.text
            return JSONResponse(
                {
                    "id": "msg_01",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": [block],
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": usage,
                }
            )
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": 1},
            },
        }
        events: list[tuple[str | None, str]] = [
            ("message_start", json.dumps(start)),
            (
                "content_block_start",
                json.dumps({"type": "content_block_start", "index": 0, "content_block": block}),
            ),
        ]
        payload = _args_text(step) if name else step.text
        for i in range(0, len(payload), 40):
            piece = payload[i : i + 40]
            delta = (
                {"type": "input_json_delta", "partial_json": piece}
                if name
                else {"type": "text_delta", "text": piece}
            )
            events.append(
                (
                    "content_block_delta",
                    json.dumps({"type": "content_block_delta", "index": 0, "delta": delta}),
                )
            )
        events += [
            ("content_block_stop", json.dumps({"type": "content_block_stop", "index": 0})),
            (
                "message_delta",
                json.dumps(
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": stop, "stop_sequence": None},
                        "usage": {"output_tokens": step.output_tokens},
                    }
                ),
            ),
            ("message_stop", json.dumps({"type": "message_stop"})),
        ]
        return StreamingResponse(_sse(events), media_type="text/event-stream")

    async def _openai(self, request: Request) -> Response:
        body, step = await self._next(request)
        failed = self._failure(step)
        if failed is not None:
            return failed
        assert isinstance(step, Answer)
        forced = _requested_tool(body, "openai")
        as_tool = "tools" in body and step.tool is not None
        name = forced if step.tool == "__requested__" else step.tool
        content = step.text if step.tool is None else (None if as_tool else _args_text(step))
        finish = "length" if step.truncated else ("tool_calls" if as_tool else "stop")
        usage = {
            "prompt_tokens": step.input_tokens,
            "completion_tokens": step.output_tokens,
            "total_tokens": step.input_tokens + step.output_tokens,
            "prompt_tokens_details": {"cached_tokens": step.cached_tokens},
        }
        head = {"id": "chatcmpl-01", "created": 0, "model": body["model"]}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if as_tool:
                message["tool_calls"] = [
                    {
                        "id": "call_01",
                        "type": "function",
                        "function": {"name": name, "arguments": _args_text(step)},
                    }
                ]
            return JSONResponse(
                {
                    **head,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                }
            )

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            return json.dumps(
                {
                    **head,
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                }
            )

        events: list[tuple[str | None, str]] = []
        if as_tool:
            events.append(
                (
                    None,
                    chunk(
                        {
                            "role": "assistant",
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_01",
                                    "type": "function",
                                    "function": {"name": name, "arguments": ""},
                                }
                            ],
                        }
                    ),
                )
            )
            text = _args_text(step)
            for i in range(0, len(text), 40):
                events.append(
                    (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": text[i : i + 40]}}]}))
                )
        else:
            text = content or ""
            events.append((None, chunk({"role": "assistant", "content": ""})))
            for i in range(0, len(text), 40):
                events.append((None, chunk({"content": text[i : i + 40]})))
        events.append((None, chunk({}, finish)))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(
                (None, json.dumps({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}))
            )
        events.append((None, "[DONE]"))
        return StreamingResponse(_sse(events), media_type="text/event-stream")

"""One contract suite for every LlmModel: the Anthropic and OpenAI adapters (plain and streaming, through
the real SDKs against the local fake APIs; OpenAI also in JSON-schema mode and as Ollama)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from compass_testing.fake_llm import Answer, FakeLlmApi, Garbage, HttpError, Slow
from compass_worker.reasoners.answers import CHECKS_TOOL
from compass_worker.reasoners.anthropic_model import AnthropicModel
from compass_worker.reasoners.llm import ChatMessage, LlmModel, LlmRequest, LlmUnavailable
from compass_worker.reasoners.openai_model import OpenAIModel

Factory = Callable[[FakeLlmApi, float], LlmModel]

FACTORIES: dict[str, Factory] = {
    "anthropic": lambda api, t: AnthropicModel(
        "claude-haiku-4-5", api_key="sk-ant-x", base_url=api.anthropic_url, timeout_s=t, max_retries=0
    ),
    "anthropic-stream": lambda api, t: AnthropicModel(
        "claude-haiku-4-5",
        api_key="sk-ant-x",
        base_url=api.anthropic_url,
        timeout_s=t,
        max_retries=0,
        stream=True,
    ),
    "openai": lambda api, t: OpenAIModel(
        "gpt-4o-mini", api_key="sk-x", base_url=api.openai_url, timeout_s=t, max_retries=0
    ),
    "openai-stream": lambda api, t: OpenAIModel(
        "gpt-4o-mini", api_key="sk-x", base_url=api.openai_url, timeout_s=t, max_retries=0, stream=True
    ),
    "openai-json-schema": lambda api, t: OpenAIModel(
        "gpt-4o-mini",
        api_key="sk-x",
        base_url=api.openai_url,
        timeout_s=t,
        max_retries=0,
        structured="json_schema",
    ),
    "ollama-stream": lambda api, t: OpenAIModel(
        "llama3.1:8b",
        api_key="ollama",
        base_url=api.openai_url,
        provider="ollama",
        hosted=False,
        timeout_s=t,
        max_retries=0,
        stream=True,
    ),
}

ARGS = {
    "checks": [
        {
            "hypothesis_id": "db/db_slow_queries",
            "purpose": "p99 flat refutes it",
            "language": "promql",
            "query": "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
        }
    ]
}


def request() -> LlmRequest:
    return LlmRequest(
        system="static instructions",
        messages=(ChatMessage(role="user", content="<data>…</data> propose checks"),),
        tool=CHECKS_TOOL,
        max_output_tokens=300,
        phase="decide",
    )


@pytest.fixture(params=sorted(FACTORIES))
async def model(request: pytest.FixtureRequest, fake_llm: FakeLlmApi) -> AsyncIterator[LlmModel]:
    m = FACTORIES[request.param](fake_llm, 2.0)
    yield m
    await m.aclose()


async def test_structured_answer_and_usage(model: LlmModel, fake_llm: FakeLlmApi) -> None:
    fake_llm.reset(Answer(ARGS, input_tokens=1500, output_tokens=90, cached_tokens=1000))
    reply = await model.complete(request())
    assert reply.tool_name == "propose_checks"
    assert reply.arguments == ARGS
    assert not reply.truncated
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.cached_tokens) == (
        1500,
        90,
        1000,
    )
    sent = fake_llm.requests[0].body
    assert sent["max_tokens"] == 300
    if model.provider == "anthropic":
        assert sent["tool_choice"] == {"type": "tool", "name": "propose_checks"}
        assert sent["tools"][0]["input_schema"] == CHECKS_TOOL.parameters
        assert sent["system"][0]["cache_control"] == {
            "type": "ephemeral"
        }  # prompt caching of the static part
        assert fake_llm.requests[0].headers["authorization"] == "Bearer sk-ant-x"
    elif "tools" in sent:
        assert sent["tool_choice"] == {"type": "function", "function": {"name": "propose_checks"}}
        assert sent["tools"][0]["function"]["parameters"] == CHECKS_TOOL.parameters
        assert sent["messages"][0] == {"role": "system", "content": "static instructions"}
    else:
        assert sent["response_format"]["json_schema"]["schema"] == CHECKS_TOOL.parameters


async def test_truncated_answer_is_flagged(model: LlmModel, fake_llm: FakeLlmApi) -> None:
    fake_llm.reset(Answer('{"checks": [{"hypothesis_id": "db/db_sl', truncated=True))
    reply = await model.complete(request())
    assert reply.truncated
    assert reply.arguments is None or reply.arguments != ARGS


async def test_text_instead_of_the_tool(model: LlmModel, fake_llm: FakeLlmApi) -> None:
    fake_llm.reset(Answer(tool=None, text="I think the database is slow."))
    reply = await model.complete(request())
    assert reply.arguments is None
    assert "database" in reply.raw


@pytest.mark.parametrize("failure", [HttpError(429), HttpError(500), HttpError(503), Garbage()])
async def test_provider_failures_raise_llm_unavailable(
    model: LlmModel, fake_llm: FakeLlmApi, failure: HttpError | Garbage
) -> None:
    fake_llm.reset(failure)
    with pytest.raises(LlmUnavailable):
        await model.complete(request())


async def test_timeout_raises_llm_unavailable(fake_llm: FakeLlmApi) -> None:
    m = FACTORIES["anthropic"](fake_llm, 0.3)
    fake_llm.reset(Slow(1.0), Answer(ARGS))
    try:
        with pytest.raises(LlmUnavailable, match="timed out"):
            await m.complete(request())
    finally:
        await m.aclose()


async def test_connection_refused_raises_llm_unavailable() -> None:
    m = OpenAIModel(
        "gpt-4o-mini", api_key="sk-x", base_url="http://127.0.0.1:9/v1", timeout_s=1, max_retries=0
    )
    try:
        with pytest.raises(LlmUnavailable, match="connection failed"):
            await m.complete(request())
    finally:
        await m.aclose()

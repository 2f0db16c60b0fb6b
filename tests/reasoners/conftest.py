"""Fixtures: the fake LLM vendor APIs (one server per session, script reset per test), settings pointing
the real SDKs at it, and a small hand-built ReasoningContext."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compass_testing.fake_llm import FakeLlmApi


@pytest.fixture(scope="session")
def fake_api_server() -> Iterator[FakeLlmApi]:
    api = FakeLlmApi()
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def fake_api(fake_api_server: FakeLlmApi) -> FakeLlmApi:
    fake_api_server.reset()
    return fake_api_server

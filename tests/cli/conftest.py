"""The fake LLM vendor APIs (one server per session, script reset per test) for the CLI's black-box tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from compass_testing.fake_llm import FakeLlmApi


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLlmApi]:
    api = FakeLlmApi()
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def fake_llm(fake_llm_server: FakeLlmApi) -> FakeLlmApi:
    fake_llm_server.reset()
    return fake_llm_server

"""LLM settings: model specs, per-phase routing, one-line ConfigErrors for bad values and missing keys."""

from __future__ import annotations

import pytest
from llm_testkit import llm_settings
from pydantic import SecretStr

from compass_testing.fake_llm import FakeLlmApi
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.errors import ConfigError
from compass_worker.reasoners.factory import build_reasoner, build_reasoner_factory
from compass_worker.reasoners.settings import ModelSpec, load_llm_settings, parse_model_spec


def test_model_specs() -> None:
    assert parse_model_spec("none") is None
    assert parse_model_spec("anthropic:claude-haiku-4-5") == ModelSpec(
        provider="anthropic", model="claude-haiku-4-5"
    )
    assert parse_model_spec("ollama:llama3.1:8b") == ModelSpec(provider="ollama", model="llama3.1:8b")
    for bad in ("claude", "gemini:pro", "openai:"):
        with pytest.raises(ConfigError, match="COMPASS_LLM"):
            parse_model_spec(bad)


def test_environment_is_read_once_with_one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPASS_LLM", "openai:gpt-4o-mini")
    monkeypatch.setenv("COMPASS_LLM_SUMMARIZE", "anthropic:claude-haiku-4-5")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0000000000000000")
    s = load_llm_settings()
    assert str(s.phase_spec("orient")) == "openai:gpt-4o-mini"
    assert str(s.phase_spec("summarize")) == "anthropic:claude-haiku-4-5"
    assert s.openai_api_key == SecretStr("sk-from-env-0000000000000000")
    monkeypatch.setenv("COMPASS_LLM_DECIDE", "bard:x")
    with pytest.raises(ConfigError, match="COMPASS_LLM_DECIDE") as err:
        load_llm_settings()
    assert "\n" not in str(err.value)
    monkeypatch.delenv("COMPASS_LLM_DECIDE")
    monkeypatch.setenv("COMPASS_LLM_BUDGET_DAY_USD", "lots")
    with pytest.raises(ConfigError, match="COMPASS_LLM_BUDGET_DAY_USD"):
        load_llm_settings()


def test_missing_key_is_a_config_error(fake_llm: FakeLlmApi) -> None:
    s = llm_settings(fake_llm, llm="anthropic:claude-haiku-4-5", anthropic_api_key=None)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        build_reasoner(s, MemoryLedger())
    s = llm_settings(fake_llm, llm="openai:gpt-4o-mini", openai_api_key=None, openai_base_url=None)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_reasoner(s, MemoryLedger())


def test_bad_redaction_pattern_is_a_config_error(fake_llm: FakeLlmApi) -> None:
    with pytest.raises(ConfigError, match="COMPASS_LLM_REDACT_PATTERNS"):
        build_reasoner(llm_settings(fake_llm, llm_redact_patterns=["(unclosed"]), MemoryLedger())


async def test_phases_share_one_client_per_model(fake_llm: FakeLlmApi) -> None:
    s = llm_settings(fake_llm, llm="openai:gpt-4o-mini", llm_summarize="none")
    factory = build_reasoner_factory(s, MemoryLedger())
    assert factory is not None
    assert set(factory.models) == {"orient", "decide"}
    assert factory.models["orient"] is factory.models["decide"]
    await factory.aclose()

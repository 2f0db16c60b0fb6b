"""Issue 15 (first half), black box: `compass investigate` / `compass demo` with COMPASS_LLM set make real SDK
calls to the fake OpenAI-compatible and Anthropic servers; the verdict's tokens are what the server billed,
`compass cost` grows by exactly that, failures still end in a verdict, and planted secrets never leave."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import clean_env, compass

from compass_lab.harness import lab_server
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import LabServer, mcp_config
from compass_testing.fake_llm import Answer, FakeLlmApi, Garbage, HttpError, Step

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # real mcp-grafana runs, on a shared machine
SHOWCASE = get_scenario(DEFAULT_SCENARIO_ID)
SECRETS = {
    "email": "alice.oncall@example.com",
    "password": "hunter2-Sup3rS3cret",
    "aws": "AKIAIOSFODNN7EXAMPLE",
}
SYMPTOM = (
    f"{SHOWCASE.symptom}; reported by {SECRETS['email']}, "
    f"db password={SECRETS['password']}, key {SECRETS['aws']}"
)
# One answer every phase accepts (each reads its own key and ignores the others): nothing new proposed,
# a summary naming the engine's top cause.
UNIVERSAL = {
    "hypotheses": [],
    "checks": [],
    "summary": "payments-db ran slow queries (db_slow_queries); checkout's p99 latency followed.",
}


def _answers(n: int = 12) -> list[Step]:
    # Distinct token counts per call, so that "equal to what was billed" cannot hold by accident.
    return [Answer(UNIVERSAL, input_tokens=1_000 + 37 * i, output_tokens=40 + 3 * i) for i in range(n)]


@pytest.fixture(scope="module")
def lab() -> Iterator[LabServer]:
    with lab_server([SHOWCASE], SHOWCASE.id) as server:
        yield server


@pytest.fixture
def config(lab: LabServer, tmp_path: Path) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(mcp_config(lab.url, SHOWCASE.id)))
    return path


def _llm_env(api: FakeLlmApi, provider: str, **extra: str) -> dict[str, str]:
    model = {"openai": "openai:gpt-4o-mini", "anthropic": "anthropic:claude-haiku-4-5"}[provider]
    return {
        "COMPASS_LLM": model,
        "OPENAI_BASE_URL": api.openai_url,
        "OPENAI_API_KEY": "sk-test-openai-0000000000000000000",
        "ANTHROPIC_BASE_URL": api.anthropic_url,
        "ANTHROPIC_API_KEY": "sk-ant-test-key-000000000000000000",
        "COMPASS_LLM_MAX_RETRIES": "0",
        "COMPASS_LLM_TIMEOUT_S": "20",
        **extra,
    }


def _ledger_total(env: dict[str, str]) -> dict[str, Any]:
    proc = compass("cost", "--since", "1d", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    total: dict[str, Any] = json.loads(proc.stdout)["windows"][0]["total"]
    return total


def _investigate(config: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    proc = compass(
        "investigate", SYMPTOM, "--at", str(int(SHOWCASE.at)), "--mcp-config", str(config), "--json", *extra,
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def _billed(script: list[Step], requests: int) -> tuple[int, int]:
    answered = [s for s in script[:requests] if isinstance(s, Answer)]
    return sum(a.input_tokens for a in answered), sum(a.output_tokens for a in answered)


@pytest.mark.parametrize(
    ("provider", "path", "agent"),
    [("openai", "/v1/chat/completions", "openai/python"), ("anthropic", "/v1/messages", "anthropic/python")],
)
def test_cli_investigation_bills_exactly_what_the_server_billed(
    fake_llm: FakeLlmApi, config: Path, db_url: str, tmp_path: Path, provider: str, path: str, agent: str
) -> None:
    # The summary goes to a model without a price: its calls are counted apart, the priced part is kept.
    unpriced = f"{provider}:some-new-model"
    env = clean_env(
        tmp_path, DATABASE_URL=db_url, **_llm_env(fake_llm, provider, COMPASS_LLM_SUMMARIZE=unpriced)
    )
    before = _ledger_total(env)
    script = _answers()
    fake_llm.reset(*script)
    doc = _investigate(config, env)

    requests = fake_llm.requests
    assert requests and all(r.path == path for r in requests)
    assert all(agent in r.headers.get("user-agent", "").lower() for r in requests)  # the vendor's real SDK
    tokens_in, tokens_out = _billed(script, len(requests))
    cost = doc["cost"]
    assert (cost["input_tokens"], cost["output_tokens"], cost["llm_calls"]) == (
        tokens_in,
        tokens_out,
        len(requests),
    )
    summaries = sum(1 for r in requests if r.body.get("model") == "some-new-model")
    assert summaries >= 1 and cost["unpriced_calls"] == summaries
    assert cost["usd"] > 0  # the priced calls keep their cost although one call has no price
    assert doc["verdict"] == "root_cause" and doc["root_causes"][0]["component"] == "payments-db"

    after = _ledger_total(env)
    assert after["tokens_in"] - before["tokens_in"] == tokens_in
    assert after["tokens_out"] - before["tokens_out"] == tokens_out
    assert after["calls"] - before["calls"] == len(requests)
    assert after["unpriced_calls"] - before["unpriced_calls"] == summaries

    sent = "\n".join(r.text for r in requests)
    leaked = [name for name, value in SECRETS.items() if value in sent]
    assert leaked == []


@pytest.mark.parametrize("failure", [Garbage(), HttpError(503, "overloaded")], ids=["garbage", "503"])
def test_a_provider_that_fails_still_ends_in_a_verdict(
    fake_llm: FakeLlmApi, config: Path, db_url: str, tmp_path: Path, failure: Step
) -> None:
    env = clean_env(tmp_path, DATABASE_URL=db_url, **_llm_env(fake_llm, "openai"))
    fake_llm.reset(*[failure] * 6)
    doc = _investigate(config, env, "--no-memory")
    assert fake_llm.requests  # it was asked
    assert doc["verdict"] == "root_cause" and doc["root_causes"][0]["component"] == "payments-db"
    assert any(n.startswith("AI unavailable") for n in doc["notices"])
    assert doc["cost"]["input_tokens"] == 0 and doc["cost"]["llm_calls"] == 0  # nothing was billed


def test_demo_uses_the_llm_too(fake_llm: FakeLlmApi, db_url: str, tmp_path: Path) -> None:
    script = _answers()
    fake_llm.reset(*script)
    env = clean_env(tmp_path, DATABASE_URL=db_url, **_llm_env(fake_llm, "anthropic"))
    proc = compass("demo", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    cost = json.loads(proc.stdout)["cost"]
    tokens_in, tokens_out = _billed(script, len(fake_llm.requests))
    assert fake_llm.requests and (cost["input_tokens"], cost["output_tokens"]) == (tokens_in, tokens_out)


def test_lab_bench_asks_the_llm_through_the_same_factory(fake_llm: FakeLlmApi, tmp_path: Path) -> None:
    fake_llm.reset(*_answers())
    proc = compass(
        "lab", "bench", "--split", "dev", "--only", SHOWCASE.id,
        env=clean_env(tmp_path, **_llm_env(fake_llm, "openai")), timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert fake_llm.requests and all(r.path == "/v1/chat/completions" for r in fake_llm.requests)
    assert re.search(r"^db_slow_queries\s+1\s+1\.00", proc.stdout, re.M)  # found, with the LLM taking part

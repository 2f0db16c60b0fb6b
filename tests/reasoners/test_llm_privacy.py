"""A seeded corpus of secrets and personal data in every field a model can see: nothing of it may reach a
hosted model (asserted on what the fake vendor APIs received), and a local Ollama may be exempted."""

from __future__ import annotations

import pytest
from llm_testkit import llm_settings, make_ctx
from pydantic import JsonValue

from compass_testing.fake_llm import Answer, FakeLlmApi
from compass_worker.cost.ledger import MemoryLedger
from compass_worker.domain.models import Evidence, Incident, RootCause, Stance, Verdict
from compass_worker.reasoners.factory import build_reasoner
from compass_worker.reasoners.protocol import LogView, ReasoningContext, TraceView

SECRETS = {
    "email": "alice.oncall@example.com",
    "password": "hunter2-Sup3rS3cret",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "ipv4": "10.42.7.19",
    "ipv6": "2001:db8:85a3::8a2e:370:7334",
    "order": "4711000012345678",
    "account": "998877665544",
    "slack": "xoxb-123456789012-abcdefghijklmnop",
    "dsn_password": "pgpass-77Zq",
    "customer": "cus_9Hx2LmQp",
}

CORPUS_LOGS = [
    f"login failed for {SECRETS['email']} password={SECRETS['password']}",
    f"aws call with key {SECRETS['aws']} refused",
    f"upstream 401: Authorization: Bearer {SECRETS['bearer']}",
    f"connect to {SECRETS['ipv4']}:5432 timed out; fallback [{SECRETS['ipv6']}]",
    f"order {SECRETS['order']} for account {SECRETS['account']} failed",
]


def seeded_ctx() -> ReasoningContext:
    return make_ctx(
        symptom=f"checkout failing for {SECRETS['email']} and customer {SECRETS['customer']}",
        logs=[LogView(component="payments", template=t, before=0, after=30) for t in CORPUS_LOGS],
        traces=[
            TraceView(
                component="payments",
                kind="error_span",
                detail=f"POST /notify slack={SECRETS['slack']} client ip {SECRETS['ipv4']}",
            )
        ],
        gaps=[f"no metrics from postgres://app:{SECRETS['dsn_password']}@{SECRETS['ipv4']}/orders"],
    )


def seeded_verdict() -> Verdict:
    ev = Evidence(
        source="loki",
        query='{app="payments"} |= "failed"',
        stance=Stance.SUPPORTS,
        observation=f"40 lines like 'login failed for {SECRETS['email']}' from {SECRETS['ipv4']}",
    )
    return Verdict(
        verdict="root_cause",
        incident=Incident(symptom="x", at=1.0),
        root_causes=(
            RootCause(
                component="payments", fault="db_slow_queries", confidence=0.8, summary="s", evidence=(ev,)
            ),
        ),
    )


SUMMARY = {"summary": "payments: db_slow_queries (0.8)."}
HYPS: dict[str, JsonValue] = {"hypotheses": []}
CHECKS: dict[str, JsonValue] = {"checks": []}


@pytest.mark.parametrize(
    ("llm", "stream"),
    [
        ("anthropic:claude-haiku-4-5", False),
        ("anthropic:claude-haiku-4-5", True),
        ("openai:gpt-4o-mini", True),
        ("ollama:llama3.1:8b", False),
    ],
)
async def test_nothing_sensitive_reaches_the_model(fake_llm: FakeLlmApi, llm: str, stream: bool) -> None:
    reasoner = build_reasoner(llm_settings(fake_llm, llm=llm, llm_stream=stream), MemoryLedger())
    assert reasoner is not None
    async with reasoner:
        fake_llm.reset(Answer(HYPS), Answer(CHECKS), Answer(SUMMARY))
        ctx = seeded_ctx()
        await reasoner.propose_hypotheses(ctx)
        await reasoner.propose_checks(ctx)
        assert await reasoner.summarize(ctx, seeded_verdict()) == SUMMARY["summary"]
    assert len(fake_llm.requests) == 3
    for req in fake_llm.requests:
        body = req.text
        leaked = [k for k, v in SECRETS.items() if v in body]
        assert not leaked, f"{leaked} leaked to {req.path}"
        assert "[REDACTED:" in body
    # the investigation's useful, non-sensitive content still arrives
    assert "payments" in fake_llm.requests[0].text and "timed out" in fake_llm.requests[0].text


async def test_local_ollama_may_be_exempted(fake_llm: FakeLlmApi) -> None:
    settings = llm_settings(fake_llm, llm="ollama:llama3.1:8b", llm_redact_local=False)
    reasoner = build_reasoner(settings, MemoryLedger())
    assert reasoner is not None
    async with reasoner:
        fake_llm.reset(Answer(HYPS))
        await reasoner.propose_hypotheses(seeded_ctx())
    assert SECRETS["email"] in fake_llm.requests[0].text


async def test_hosted_models_are_never_exempted(fake_llm: FakeLlmApi) -> None:
    settings = llm_settings(fake_llm, llm="openai:gpt-4o-mini", llm_redact_local=False)
    reasoner = build_reasoner(settings, MemoryLedger())
    assert reasoner is not None
    async with reasoner:
        fake_llm.reset(Answer(HYPS))
        await reasoner.propose_hypotheses(seeded_ctx())
    assert SECRETS["email"] not in fake_llm.requests[0].text

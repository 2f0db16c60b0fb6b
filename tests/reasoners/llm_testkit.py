"""Helpers shared by the reasoner tests: settings pointing the real SDKs at the fake APIs, a small context."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from compass_testing.fake_llm import FakeLlmApi
from compass_worker.reasoners.protocol import (
    AnomalyView,
    HypothesisView,
    LogView,
    ReasoningContext,
    TraceView,
)
from compass_worker.reasoners.settings import LlmSettings

T0 = 1_767_639_000.0
FAULT_IDS = ["db_slow_queries", "cpu_saturation", "bad_deploy", "dependency_outage"]


def llm_settings(api: FakeLlmApi, llm: str = "anthropic:claude-haiku-4-5", **overrides: Any) -> LlmSettings:
    """Every field explicit, so the machine's environment cannot leak into a test."""
    values: dict[str, Any] = {
        "llm": llm,
        "llm_orient": None,
        "llm_decide": None,
        "llm_summarize": None,
        "anthropic_api_key": SecretStr("sk-ant-test-key-000000000000000000"),
        "anthropic_base_url": api.anthropic_url,
        "openai_api_key": SecretStr("sk-test-openai-0000000000000000000"),
        "openai_base_url": api.openai_url,
        "ollama_base_url": api.openai_url,
        "llm_timeout_s": 5.0,
        "llm_max_retries": 0,
        "llm_stream": False,
        "llm_prices": None,
    }
    values.update(overrides)
    return LlmSettings(_env_file=None, **values)


def make_ctx(**overrides: Any) -> ReasoningContext:
    values: dict[str, Any] = {
        "symptom": "checkout 5xx above 5% since 14:02",
        "symptom_component": "checkout",
        "symptom_onset": T0,
        "window_start": T0 - 3600,
        "window_end": T0 + 900,
        "components": {"checkout": "service", "payments": "service", "payments-db": "database"},
        "edges": [("checkout", "payments"), ("payments", "payments-db")],
        "anomalies": [
            AnomalyView(
                component="payments-db", signal="latency", baseline=0.004, peak=0.9, z=41.5, onset=T0 - 120
            ),
            AnomalyView(
                component="checkout", signal="error_ratio", baseline=0.001, peak=0.08, z=22.0, onset=T0
            ),
        ],
        "logs": [
            LogView(component="payments", template="timeout calling <_> after <_>ms", before=0, after=40)
        ],
        "traces": [
            TraceView(component="payments-db", kind="slow_span", detail="SELECT orders 850ms self time")
        ],
        "hypotheses": [
            HypothesisView(
                id="payments-db/db_slow_queries",
                component="payments-db",
                fault="db_slow_queries",
                status="proposed",
                score=0.0,
            ),
            HypothesisView(
                id="checkout/bad_deploy",
                component="checkout",
                fault="bad_deploy",
                status="proposed",
                score=0.0,
            ),
        ],
        "fault_ids": FAULT_IDS,
        "gaps": [],
    }
    values.update(overrides)
    return ReasoningContext(**values)

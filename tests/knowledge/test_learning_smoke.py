"""The learning benchmark end to end on two lab scenarios (real mcp-grafana, embedded PostgreSQL, MiniLM):
one the engine gets wrong is corrected once and then answered right; one it gets right is left alone."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from compass_lab.scenarios import all_scenarios
from compass_worker.settings import load_settings

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "learning.py"
WRONG_BEFORE = "shop-dev-036-dependency_latency"  # ranked 2nd without memory, by evidence
RIGHT_BEFORE = "shop-dev-032-db_slow_queries"  # same system, answered right without memory


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("learning_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(120)
async def test_one_correction_is_learned_and_the_other_incident_is_untouched() -> None:
    bench = load_benchmark()
    scenarios = [s for s in all_scenarios() if s.id in (WRONG_BEFORE, RIGHT_BEFORE)]
    assert len(scenarios) == 2
    result = await bench.run(scenarios, load_settings(), 2)
    summary = result.summary
    assert [p.before.scenario_id for p in result.recur] == [WRONG_BEFORE]
    assert summary.recur_before_top1 == 0.0 and summary.recur_after_top1 == 1.0
    assert [p.after.scenario_id for p in result.unrelated] == [RIGHT_BEFORE]
    assert summary.unrelated_changed == [] and summary.unrelated_ok
    [recurrence] = result.recur
    assert any("confirmed by @bench" in c for c in recurrence.after.citations)
    assert "recurrence: corrected cause top-1" in bench.render(result)

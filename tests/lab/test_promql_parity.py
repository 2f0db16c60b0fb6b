"""Parity of the lab's PromQL with a real Prometheus 2.42 on the same backfilled series (slow)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from compass_lab.promql.parity import RealPrometheus

sys.path.insert(0, str(Path(__file__).parent))
import promql_cases as cases
from prometheus_install import ensure_prometheus

pytestmark = pytest.mark.slow

# Range windows (one unaligned, odd step) and instants (inside gaps, at the edges).
RANGES = [(cases.START, cases.END, 60.0), (cases.START + 1234.5, cases.END - 100, 37.0)]
INSTANTS = [cases.START + 2550.0, cases.START + 3000.0, cases.START + 62 * 60 + 30, cases.END - 1]


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    ensure_prometheus()
    with RealPrometheus(cases.parity_series(), tmp_path_factory.mktemp("prometheus")) as real:
        yield real


@pytest.mark.timeout(900)
def test_prometheus_available(prom: RealPrometheus) -> None:
    body = prom.real("count(up)", cases.START + 600)
    assert body["data"]["result"][0]["value"][1] == "3"


@pytest.mark.parametrize("query", cases.PARITY_QUERIES)
def test_query_matches_real_prometheus(prom: RealPrometheus, query: str) -> None:
    diffs: list[str] = []
    for start, end, step in RANGES:
        diffs += [f"range {start}..{end}/{step}: {d}" for d in prom.compare(query, start, end, step)]
    for at in INSTANTS:
        diffs += [f"instant {at}: {d}" for d in prom.compare(query, at)]
    assert not diffs, "\n".join(diffs[:10])


@pytest.mark.parametrize("query", cases.PARITY_INSTANT_ONLY)
def test_range_vector_instant_query_matches(prom: RealPrometheus, query: str) -> None:
    diffs = [d for at in INSTANTS for d in prom.compare(query, at)]
    assert not diffs, "\n".join(diffs[:10])


@pytest.mark.parametrize("query", cases.PARITY_ERRORS)
def test_errors_match_real_prometheus(prom: RealPrometheus, query: str) -> None:
    lab, real = prom.lab(query, cases.START + 3000), prom.real(query, cases.START + 3000)
    assert lab["status"] == real["status"] == "error"
    assert lab["errorType"] == real["errorType"]


def test_enough_queries_cover_the_features() -> None:
    assert len(cases.PARITY_QUERIES) >= 40

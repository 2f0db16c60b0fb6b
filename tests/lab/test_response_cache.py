"""The lab server's cache of range-query responses: same bytes as an uncached server, bounded, never stale."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from compass_lab.server import LabRegistry
from compass_lab.server.app import create_app
from compass_lab.server.response_cache import ResponseCache

PROM = "/api/datasources/uid/prometheus/resources/api/v1"
LOKI = "/api/datasources/proxy/uid/loki/loki/api/v1"


def _form(lab_now: float, query: str = "sum by (code) (rate(http_requests_total[5m]))") -> dict[str, str]:
    return {"query": query, "start": str(lab_now - 1800), "end": str(lab_now), "step": "60"}


def test_cached_range_queries_answer_byte_for_byte_like_an_uncached_server(
    lab_registry: LabRegistry, lab_now: float
) -> None:
    cache = ResponseCache()
    cached = TestClient(create_app(lab_registry, cache))
    plain = TestClient(create_app(lab_registry, ResponseCache(0)))
    form = _form(lab_now)
    first = cached.post(f"{PROM}/query_range", data=form)
    again = cached.post(f"{PROM}/query_range", data=form)
    reference = plain.post(f"{PROM}/query_range", data=form)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content == reference.content
    assert again.headers["content-type"] == reference.headers["content-type"] == "application/json"
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)
    assert first.json()["data"]["result"]  # the fixture has data for this query: a real answer was cached

    other = cached.post(f"{PROM}/query_range", data=_form(lab_now, "sum(up)"))
    assert other.json()["data"]["result"][0]["metric"] == {}
    assert len(cache) == 2  # another query is another entry, never the first one's answer
    # Another scenario's data is another store: same parameters, separate entry.
    cached.post(f"/s/metrics-only{PROM}/query_range", data=form)
    assert len(cache) == 3


def test_errors_and_open_ended_requests_are_not_cached(lab_registry: LabRegistry, lab_now: float) -> None:
    cache = ResponseCache()
    client = TestClient(create_app(lab_registry, cache))
    bad = {**_form(lab_now), "step": "0"}
    for _ in range(2):
        assert client.post(f"{PROM}/query_range", data=bad).status_code == 400
    # Loki's window defaults to the last hour when start/end are missing: that answer depends on the clock.
    assert client.get(f"{LOKI}/query_range", params={"query": '{level="error"}'}).status_code == 200
    assert len(cache) == 0
    window = {"query": '{level="error"}', "start": str(int(lab_now) - 600), "end": str(int(lab_now))}
    first = client.get(f"{LOKI}/query_range", params=window)
    second = client.get(f"{LOKI}/query_range", params=window)
    assert first.content == second.content and first.json()["data"]["result"]
    assert (len(cache), cache.hits) == (1, 1)


def test_the_cache_stays_within_its_byte_budget_dropping_the_least_recently_used() -> None:
    cache = ResponseCache(max_bytes=10)
    source = object()
    a, b, c = (ResponseCache.key("q", [("query", x)]) for x in "abc")
    cache.put(source, a, b"1234")
    cache.put(source, b, b"5678")
    assert cache.get(source, a) == b"1234"  # a is now the most recently used
    cache.put(source, c, b"90ab")
    assert cache.size_bytes <= 10
    assert cache.get(source, b) is None  # b was the least recently used
    assert cache.get(source, a) == b"1234" and cache.get(source, c) == b"90ab"
    cache.put(source, a, b"x" * 11)  # larger than the whole budget: not kept, the old entry stays
    assert cache.get(source, a) == b"1234"
    assert cache.get(object(), c) is None  # other data, same parameters
    with pytest.raises(ValueError):
        ResponseCache(-1)

"""TraceQL subset: conditions, spanset operators, search shape, tags and metrics over hand-built spans."""

from __future__ import annotations

import math

import pytest

from compass_lab.model import Span
from compass_lab.traceql import (
    TraceIndex,
    TraceMatch,
    TraceQLParseError,
    TraceQLQueryError,
    query_metrics,
    search,
    tag_names,
    tag_values,
)

S = 10**9
T0 = 1_700_000_000 * S


def _trace(i: int, *, failing: bool) -> list[Span]:
    tid = f"{i + 1:032x}"
    start = T0 + i * 60 * S
    db = 1_500_000_000 if failing else 50_000_000
    return [
        Span(
            tid,
            f"{i:08x}00000001",
            None,
            "checkout",
            "POST /checkout",
            "server",
            start,
            db + 100_000_000,
            "error" if failing else "unset",
            "upstream timeout" if failing else "",
            {"http.status_code": 500 if failing else 200},
            {"k8s.pod.name": f"checkout-{i % 2}"},
        ),
        Span(
            tid,
            f"{i:08x}00000002",
            f"{i:08x}00000001",
            "checkout",
            "SELECT orders",
            "client",
            start + 10_000_000,
            db,
            "error" if failing else "unset",
            "",
            {"db.system": "postgresql"},
        ),
        Span(
            tid,
            f"{i:08x}00000003",
            f"{i:08x}00000002",
            "postgres",
            "query",
            "server",
            start + 20_000_000,
            db - 20_000_000,
            "unset",
            "",
            {"db.system": "postgresql"},
        ),
    ]


def _index() -> TraceIndex:
    return TraceIndex(s for i in range(10) for s in _trace(i, failing=i % 3 == 0))  # 0, 3, 6, 9 fail


END = T0 + 3600 * S


def _ids(matches: list[TraceMatch]) -> list[int]:
    return [int(m.trace.trace_id, 16) - 1 for m in matches]


def test_status_search_is_newest_first_with_matched_spans() -> None:
    res = search(_index(), "{ status = error }", T0, END)
    assert _ids(res) == [9, 6, 3, 0]
    first = res[0]
    assert first.matched == 2
    assert [sm.span.name for sm in first.spans] == ["POST /checkout", "SELECT orders"]
    assert first.spans[0].attributes == (("status", "error"),)
    assert first.trace.root is not None
    assert first.trace.root.service == "checkout"


def test_resource_span_and_unscoped_attributes_with_duration_units() -> None:
    idx = _index()
    q = '{ resource.service.name = "checkout" && span.db.system = "postgresql" && duration > 1s }'
    assert _ids(search(idx, q, T0, END)) == [9, 6, 3, 0]
    assert _ids(search(idx, '{ .k8s.pod.name = "checkout-1" && .http.status_code >= 500 }', T0, END)) == [
        9,
        3,
    ]
    assert _ids(search(idx, "{ duration < 100ms && kind = server }", T0, END, limit=2)) == [8, 7]
    assert _ids(search(idx, '{ name =~ "SELECT.*" && status != error }', T0, END, limit=100)) == [
        8,
        7,
        5,
        4,
        2,
        1,
    ]


def test_spanset_operators_and_structure() -> None:
    idx = _index()
    both = search(idx, '{ status = error } && { resource.service.name = "postgres" }', T0, END)
    assert _ids(both) == [9, 6, 3, 0]
    assert both[0].matched == 3
    child = search(
        idx, '{ kind = client } > { resource.service.name = "postgres" }', T0, END, limit=1, spss=1
    )
    assert [sm.span.name for sm in child[0].spans] == ["query"]
    assert search(idx, '{ name = "POST /checkout" } > { resource.service.name = "postgres" }', T0, END) == []
    assert (
        len(search(idx, '{ name = "POST /checkout" } >> { resource.service.name = "postgres" }', T0, END))
        == 10
    )


def test_limit_spss_time_window_and_aggregate_filter() -> None:
    idx = _index()
    res = search(idx, "{ }", T0, END, limit=3, spss=1)
    assert len(res) == 3
    assert all(len(m.spans) == 1 and m.matched == 3 for m in res)
    assert _ids(search(idx, "{ }", T0 + 5 * 60 * S, T0 + 6 * 60 * S)) == [6, 5]
    assert _ids(search(idx, "{ status = error } | count() > 1", T0, END)) == [9, 6, 3, 0]
    assert search(idx, "{ status = error } | count() > 2", T0, END) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ status = }", "col 12: syntax error: unexpected }, expecting static value"),
        ("{ .a = 1 ", "col 10: syntax error: unexpected $end, expecting }"),
        ("{ } | by(name)", "col 7: syntax error: unexpected IDENTIFIER"),
    ],
)
def test_parse_errors_are_tempo_400_texts(query: str, message: str) -> None:
    with pytest.raises(TraceQLParseError) as info:
        search(_index(), query, T0, END)
    assert str(info.value) == f"invalid TraceQL query: parse error at line 1, {message}"


def test_tags_and_values() -> None:
    idx = _index()
    scopes = tag_names(idx)
    assert scopes["resource"] == ["k8s.pod.name", "service.name"]
    assert scopes["span"] == ["db.system", "http.status_code"]
    assert "duration" in scopes["intrinsic"]
    assert tag_names(idx, "span") == {"span": ["db.system", "http.status_code"]}
    assert tag_values(idx, "resource.service.name") == ["checkout", "postgres"]
    assert tag_values(idx, "span.http.status_code") == [200, 500]
    assert tag_values(idx, "name", '{ resource.service.name = "postgres" }') == ["query"]
    assert tag_values(idx, "status") == ["error", "unset"]


def test_rate_by_service_and_quantiles() -> None:
    idx = _index()
    res = query_metrics(idx, "{ } | rate() by (resource.service.name)", T0, T0 + 600 * S, 300 * S)
    first = T0 // (300 * S) * 300 * S  # buckets align to the step: T0 sits 200 s into the first one
    assert res.steps_ns == (first, first + 300 * S, first + 600 * S)
    rates = {s.labels: [round(v * 300, 6) for v in s.values.tolist()] for s in res.series}
    # Traces start every 60 s from T0: 0-1 | 2-6 | 7-9 per bucket (span counts: 2 checkout + 1 postgres each).
    assert rates == {
        (("resource.service.name", "checkout"),): [4.0, 10.0, 6.0],
        (("resource.service.name", "postgres"),): [2.0, 5.0, 3.0],
    }
    q = query_metrics(idx, "{ kind = server } | quantile_over_time(duration, .5, .99)", T0, END, instant=True)
    by_p = {dict(s.labels)["p"]: float(s.values[0]) for s in q.series}
    assert set(by_p) == {0.5, 0.99}
    assert math.isclose(by_p[0.99], 1.6, rel_tol=0.02)  # failing roots take 1.6 s
    unlabelled = query_metrics(idx, "{ status = error } | count_over_time()", T0, END, instant=True)
    assert [(s.labels, float(s.values[0])) for s in unlabelled.series] == [
        ((("__name__", "count_over_time"),), 8.0)
    ]


def test_metrics_errors() -> None:
    with pytest.raises(TraceQLQueryError, match="metrics function"):
        query_metrics(_index(), "{ }", T0, END)
    with pytest.raises(TraceQLQueryError, match="not supported by the search API"):
        search(_index(), "{ } | rate()", T0, END)

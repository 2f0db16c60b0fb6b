"""LogQL subset: parsing (with Loki's error wording) and evaluation against hand-built streams."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from compass_lab.logql import (
    LogIndex,
    LogQLParseError,
    LogQLQueryError,
    MetricResult,
    StreamsResult,
    detect_patterns,
    parse_selector,
    pattern_of,
    query_instant,
    query_range,
)
from compass_lab.logql.ast import LineFilter, literal_alternatives
from compass_lab.logql.pipeline import line_passes
from compass_lab.model import LogLine, LogStream

S = 10**9
T0 = 1_700_000_000 * S


def _index() -> LogIndex:
    api_err = tuple(
        LogLine(
            T0 + i * 10 * S, f'level=error msg="db connection refused" duration={100 + i}ms trace_id={i:016x}'
        )
        for i in range(6)
    )
    api_info = tuple(
        LogLine(T0 + i * 10 * S + 5 * S, f'level=info msg="ok" duration={i}ms') for i in range(6)
    )
    worker = tuple(
        LogLine(
            T0 + i * 20 * S, f'{{"level":"warn","msg":"retry","attempt":{i},"ctx":{{"user":"u{i % 2}"}}}}'
        )
        for i in range(3)
    )
    return LogIndex(
        [
            LogStream({"app": "api", "level": "error"}, api_err),
            LogStream({"app": "api", "level": "info"}, api_info),
            LogStream({"app": "worker"}, worker),
        ]
    )


def _lines(result: object) -> list[tuple[int, str]]:
    assert isinstance(result, StreamsResult)
    return [e for s in result.streams for e in s.entries]


def test_selector_line_filters_limit_and_direction() -> None:
    idx = _index()
    res = query_range(idx, '{app="api"} |= "refused" != "duration=105ms"', T0, T0 + 3600 * S, limit=3)
    got = _lines(res)
    assert [ts for ts, _ in got] == [T0 + 40 * S, T0 + 30 * S, T0 + 20 * S]  # newest first, cut at 3
    fwd = query_range(idx, '{app=~"a.i"} |~ "msg=\\"ok\\""', T0, T0 + 3600 * S, limit=2, direction="forward")
    assert [ts for ts, _ in _lines(fwd)] == [T0 + 5 * S, T0 + 15 * S]


def test_end_is_exclusive_start_inclusive() -> None:
    res = query_range(_index(), '{app="api", level="error"}', T0, T0 + 20 * S, limit=100)
    assert sorted(ts for ts, _ in _lines(res)) == [T0, T0 + 10 * S]


def test_logfmt_label_filter_numeric_duration_and_or() -> None:
    q = '{app="api"} | logfmt | level="error" and duration > 102ms or msg="ok" and duration <= 1ms'
    res = query_range(_index(), q, T0, T0 + 3600 * S, limit=100)
    assert isinstance(res, StreamsResult)
    lines = sorted(line for _, line in _lines(res))
    assert len(lines) == 5  # 3 errors above 102 ms + info lines with duration 0ms, 1ms
    # Parsed labels join the stream labels (the colliding "level" becomes level_extracted).
    assert all("msg" in s.labels and s.labels["level_extracted"] in ("error", "info") for s in res.streams)


def test_json_flattens_nested_keys_and_line_format() -> None:
    res = query_range(
        _index(),
        '{app="worker"} | json | ctx_user="u1" | line_format "{{.msg}} #{{.attempt}}"',
        T0,
        T0 + 3600 * S,
    )
    assert [line for _, line in _lines(res)] == ["retry #1"]


def test_count_over_time_matrix_by_label() -> None:
    q = 'sum by (level) (count_over_time({app="api"}[30s]))'
    res = query_range(_index(), q, T0 + 30 * S, T0 + 60 * S, step_ns=30 * S)
    assert isinstance(res, MetricResult)
    by_level = {s.labels["level"]: s.values.tolist() for s in res.series}
    # (t-30s, t]: at T0+30s error lines at +10,+20,+30 → 3; info at +5,+15,+25 → 3.
    assert by_level == {"error": [3.0, 2.0], "info": [3.0, 3.0]}


def test_rate_topk_and_arithmetic() -> None:
    q = 'topk(1, sum by (app) (rate({app=~".+"}[60s]))) * 60'
    res = query_instant(_index(), q, T0 + 60 * S)
    assert isinstance(res, MetricResult)
    assert [(dict(s.labels), float(s.values[0])) for s in res.series] == [({"app": "api"}, 11.0)]


def test_unwrap_quantile_and_avg() -> None:
    res = query_instant(_index(), 'max_over_time({app="worker"} | json | unwrap attempt [1h])', T0 + 100 * S)
    # One series per label set after the parser: the nested ctx.user splits the stream (u0: 0, 2; u1: 1).
    assert {s.labels["ctx_user"]: float(s.values[0]) for s in res.series} == {"u0": 2.0, "u1": 1.0}
    assert all("attempt" not in s.labels for s in res.series)  # the unwrapped label leaves the series
    avg = query_instant(
        _index(),
        'avg_over_time({app="api", level="error"} | logfmt | unwrap duration [1h]) by (app)',
        T0 + 100 * S,
    )
    assert [(dict(s.labels), round(float(s.values[0]), 4)) for s in avg.series] == [({"app": "api"}, 0.1025)]


def test_no_entries_means_no_sample() -> None:
    res = query_range(_index(), 'count_over_time({app="worker"}[10s])', T0, T0 + 60 * S, step_ns=10 * S)
    assert isinstance(res, MetricResult)
    (series,) = res.series
    assert [v if not math.isnan(v) else None for v in series.values.tolist()] == [
        1,
        None,
        1,
        None,
        1,
        None,
        None,
    ]


def test_default_step_is_range_over_250() -> None:
    res = query_range(_index(), 'count_over_time({app="api"}[1m])', T0, T0 + 2500 * S)
    assert isinstance(res, MetricResult)
    assert res.steps_ns[1] - res.steps_ns[0] == 10 * S


@pytest.mark.parametrize(
    ("query", "col", "detail"),
    [
        ('{app="api"', 11, "unexpected $end, expecting ,"),
        ('{app="api"} | pattern "<_>"', 15, "unexpected IDENTIFIER"),
        ('count_over_time({app="api"})', 28, "unexpected ), expecting ["),
        ("sum(rate(x[5m]))", 10, "unexpected IDENTIFIER, expecting {"),
        ('{app="api"} |= 5', 16, "unexpected NUMBER, expecting STRING"),
    ],
)
def test_parse_errors_use_lokis_wording(query: str, col: int, detail: str) -> None:
    with pytest.raises(LogQLParseError) as info:
        query_range(_index(), query, T0, T0 + S)
    assert str(info.value) == f"parse error at line 1, col {col}: syntax error: {detail}"


def test_semantic_errors() -> None:
    with pytest.raises(LogQLQueryError, match="at least one regexp or equality matcher"):
        query_range(_index(), '{app=~".*"}', T0, T0 + S)
    with pytest.raises(LogQLQueryError, match="log queries are not supported as an instant query"):
        query_instant(_index(), '{app="api"}', T0)
    with pytest.raises(LogQLQueryError, match="maximum resolution"):
        query_range(_index(), 'count_over_time({app="api"}[1m])', T0, T0 + 20000 * S, step_ns=S)


def test_labels_series_stats() -> None:
    idx = _index()
    end = T0 + 3600 * S
    assert idx.label_names(T0, end) == ["app", "level"]
    assert idx.label_values("app", T0, end) == ["api", "worker"]
    assert idx.label_values("level", T0, end, parse_selector('{app="api"}').matchers) == ["error", "info"]
    assert idx.label_names(end + S, end + 2 * S) == []  # nothing in that window
    stats = idx.stats(parse_selector('{app="api"}').matchers, T0, end)
    assert (stats.streams, stats.entries) == (2, 12)
    assert stats.bytes == sum(len(s.lines[i].encode()) for s in idx.streams[:2] for i in range(6))


def test_patterns_mask_variable_tokens() -> None:
    a = pattern_of('level=error msg="db connection refused" duration=101ms trace_id=00000000000000ab')
    b = pattern_of('level=error msg="db connection refused" duration=7s trace_id=4bf92f3577b34da6')
    assert a == b == 'level=error msg="db connection refused" duration=<_> trace_id=<_>'
    assert pattern_of("dial tcp 10.0.0.12:5432: connect: connection refused") == (
        "dial tcp <_>: connect: connection refused"
    )
    pats = detect_patterns(_index(), parse_selector('{app="api"}').matchers, T0, T0 + 3600 * S, 20 * S)
    assert [(p.pattern, p.total) for p in pats] == [
        ('level=error msg="db connection refused" duration=<_> trace_id=<_>', 6),
        ('level=info msg="ok" duration=<_>', 6),
    ]
    assert pats[0].samples == ((T0 // S, 2), (T0 // S + 20, 2), (T0 // S + 40, 2))
    assert np.sum([c for _, c in pats[1].samples]) == 6


def test_a_regex_of_plain_words_is_answered_as_substrings_exactly_as_the_regex_would() -> None:
    assert literal_alternatives("(?i)(error|timed out|Fail)") == (("error", "timed out", "fail"), True)
    assert literal_alternatives("error|panic") == (("error", "panic"), False)
    for not_words in ("(?i)err.r", "(error)|(fail)", "(?i)(a|)", "x+", "(?s)(a|b)", "caf\u00e9"):
        assert literal_alternatives(not_words) is None
    lines = (
        'level=ERROR msg="db connection refused"',
        "request Timed Out after 3s",
        "all good",
        "FAILED: payment",
        '{"log":"panic: runtime error","stream":"stderr"}',
    )
    for pattern in ("(?i)(error|timed out|fail)", "(?i)panic", "error|Timed Out", "(?i)(nothing|else)"):
        for op in ("|~", "!~"):
            f = LineFilter(op, pattern, re.compile(pattern))  # type: ignore[arg-type]
            assert f.words is not None
            assert [line_passes(f, ln) for ln in lines] == [
                (re.search(pattern, ln) is not None) == (op == "|~") for ln in lines
            ]

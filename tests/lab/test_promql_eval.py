"""Fast unit tests of the lab's PromQL evaluator, with hand-computed expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compass_lab.model import Series
from compass_lab.promql import PromQLError, SeriesStore, query_instant, query_range
from compass_lab.promql.format import format_value

T0 = 1_700_000_000.0


def s(labels: dict[str, str], times: list[float], values: list[float]) -> Series:
    return Series(labels, np.array(times, dtype=float) + T0, np.array(values, dtype=float))


def vec(store: SeriesStore, expr: str, at: float) -> dict[str, float]:
    """Instant query → {"k=v,...": value} for compact assertions."""
    data = query_instant(store, expr, T0 + at)
    assert data["resultType"] == "vector", data
    return {
        ",".join(f"{k}={v}" for k, v in item["metric"].items()): float(item["value"][1])
        for item in data["result"]
    }


def one(store: SeriesStore, expr: str, at: float) -> float:
    got = vec(store, expr, at)
    assert len(got) == 1, got
    return next(iter(got.values()))


@pytest.fixture
def counters() -> SeriesStore:
    every15 = [0.0, 15.0, 30.0, 45.0, 60.0]
    return SeriesStore(
        [
            s({"__name__": "req_total", "svc": "a", "code": "200"}, every15, [100, 110, 120, 130, 140]),
            s({"__name__": "req_total", "svc": "a", "code": "500"}, every15[:4], [10, 20, 5, 15]),  # reset
            s({"__name__": "req_total", "svc": "b", "code": "200"}, [10.0, 25.0, 40.0], [5, 15, 25]),
        ]
    )


def test_lookback_is_five_minutes_closed_on_both_ends() -> None:
    store = SeriesStore([s({"__name__": "g"}, [0.0, 15.0, float("nan") and 30.0], [1, 2, math.nan])])
    assert one(store, "g", 15) == 2
    assert one(store, "g", 29) == 2  # NaN at 30 s is "no sample"; the 15 s sample still counts
    assert one(store, "g", 315) == 2  # exactly t - 5m: Prometheus 2.x includes it
    assert vec(store, "g", 315.001) == {}
    assert vec(store, "g", -1) == {}


def test_rate_increase_with_reset_and_extrapolation(counters: SeriesStore) -> None:
    got = vec(counters, "increase(req_total[1m])", 60)
    assert got["code=200,svc=a"] == pytest.approx(40.0)  # 100→140, window fully covered
    # 10,20,5,15 at 0..45 s: 15-10 + 20 (lost at the reset) = 25 over 45 s sampled; the window
    # [0, 60] ends 15 s after the last sample (< 1.1 * 15 s): extrapolate by 15 s → 25 * 60/45.
    assert got["code=500,svc=a"] == pytest.approx(25 * 60 / 45)
    # 5,15,25 at 10..40 s over [0, 40]: 10 s to the start, but the zero point is only 7.5 s away.
    assert vec(counters, "increase(req_total[40s])", 40)["code=200,svc=b"] == pytest.approx(25.0)
    assert vec(counters, "rate(req_total[40s])", 40)["code=200,svc=b"] == pytest.approx(25.0 / 40)


def test_irate_delta_idelta_deriv_predict_linear() -> None:
    store = SeriesStore(
        [
            s({"__name__": "c_total"}, [0, 15, 30], [10, 40, 4]),
            s({"__name__": "g"}, [0, 15, 30, 45], [1, 3, 5, 7]),
        ]
    )
    assert one(store, "irate(c_total[1m])", 30) == pytest.approx(4 / 15)  # reset: the new value
    assert one(store, "idelta(g[1m])", 45) == pytest.approx(2)
    assert one(store, "deriv(g[1m])", 45) == pytest.approx(2 / 15)
    assert one(store, "predict_linear(g[1m], 15)", 45) == pytest.approx(9)
    # delta: 6 over 45 s sampled, window [-15, 45] starts 15 s early (< 16.5): extrapolate fully.
    assert one(store, "delta(g[1m])", 45) == pytest.approx(6 * 60 / 45)


def test_over_time_functions() -> None:
    store = SeriesStore([s({"__name__": "g", "k": "v"}, [0, 15, 30, 45], [4, 1, 3, 2])])
    expect = {
        "avg_over_time": 2.5,
        "min_over_time": 1,
        "max_over_time": 4,
        "sum_over_time": 10,
        "count_over_time": 4,
        "last_over_time": 2,
        "stdvar_over_time": 1.25,
        "stddev_over_time": math.sqrt(1.25),
        "present_over_time": 1,
        "changes": 3,
        "resets": 2,
    }
    for fn, value in expect.items():
        assert one(store, f"{fn}(g[1m])", 45) == pytest.approx(value), fn
    assert one(store, "quantile_over_time(0.5, g[1m])", 45) == pytest.approx(2.5)
    assert one(store, "quantile_over_time(2, g[1m])", 45) == math.inf
    assert vec(store, "last_over_time(g[1m])", 45) == {"__name__=g,k=v": 2}  # keeps the name
    assert vec(store, "max_over_time(g[1m])", 45) == {"k=v": 4}  # drops it


def test_aggregations(counters: SeriesStore) -> None:
    assert vec(counters, "sum by (svc) (req_total)", 60) == {"svc=a": 155, "svc=b": 25}
    assert vec(counters, "sum without (code) (req_total)", 60) == {"svc=a": 155, "svc=b": 25}
    assert vec(counters, "count(req_total)", 60) == {"": 3}
    assert vec(counters, "avg(req_total)", 60) == {"": pytest.approx(60)}
    assert vec(counters, "min(req_total)", 60) == {"": 15}
    assert vec(counters, "max by (code) (req_total)", 60) == {"code=200": 140, "code=500": 15}
    assert vec(counters, "quantile(0.5, req_total)", 60) == {"": 25}
    assert vec(counters, "stddev(req_total)", 60) == {"": pytest.approx(np.std([140, 15, 25]))}
    assert vec(counters, "topk(1, req_total)", 60) == {"__name__=req_total,code=200,svc=a": 140}
    assert vec(counters, "bottomk by (svc) (1, req_total)", 60) == {
        "__name__=req_total,code=500,svc=a": 15,
        "__name__=req_total,code=200,svc=b": 25,
    }
    assert vec(counters, 'count_values("v", req_total)', 60) == {"v=140": 1, "v=15": 1, "v=25": 1}
    assert vec(counters, "group by (code) (req_total)", 60) == {"code=200": 1, "code=500": 1}


def _hist(buckets: dict[str, float]) -> SeriesStore:
    return SeriesStore([s({"__name__": "h_bucket", "le": le}, [0.0], [c]) for le, c in buckets.items()])


def test_histogram_quantile_interpolation_and_edge_cases() -> None:
    h = _hist({"1": 5, "2": 10, "+Inf": 10})
    assert one(h, "histogram_quantile(0.5, h_bucket)", 0) == pytest.approx(1.0)
    assert one(h, "histogram_quantile(0.75, h_bucket)", 0) == pytest.approx(1.5)
    assert one(h, "histogram_quantile(1, h_bucket)", 0) == pytest.approx(2.0)
    assert one(h, "histogram_quantile(-1, h_bucket)", 0) == -math.inf
    assert vec(h, "histogram_quantile(0.5, h_bucket)", 0).keys() == {""}  # le and the name dropped
    # Rank in the +Inf bucket: the highest finite bound.
    assert one(_hist({"1": 5, "2": 6, "+Inf": 10}), "histogram_quantile(0.9, h_bucket)", 0) == 2.0
    # Non-monotonic buckets are made monotonic first: le=2 counts as 8, not 6.
    assert one(_hist({"1": 8, "2": 6, "+Inf": 16}), "histogram_quantile(0.5, h_bucket)", 0) == pytest.approx(
        1.0
    )
    assert math.isnan(one(_hist({"1": 5, "2": 10}), "histogram_quantile(0.5, h_bucket)", 0))  # no +Inf
    assert math.isnan(one(_hist({"1": 0, "+Inf": 0}), "histogram_quantile(0.5, h_bucket)", 0))


def test_binary_operators_and_matching() -> None:
    store = SeriesStore(
        [
            s({"__name__": "err", "svc": "a", "code": "500"}, [0], [2]),
            s({"__name__": "err", "svc": "b", "code": "500"}, [0], [3]),
            s({"__name__": "req", "svc": "a"}, [0], [10]),
            s({"__name__": "req", "svc": "b"}, [0], [0]),
            s({"__name__": "info", "svc": "a", "team": "x"}, [0], [1]),
        ]
    )
    # one-to-one `ignoring (code)`: the ignored label is dropped from the result, as in Prometheus.
    assert vec(store, "err / ignoring (code) req", 0) == {"svc=a": 0.2, "svc=b": math.inf}
    assert vec(store, "req * on (svc) group_left (team) info", 0) == {"svc=a,team=x": 10}
    assert vec(store, "info * on (svc) group_right (team) req", 0) == {"svc=a,team=x": 10}
    assert vec(store, "req > 5", 0) == {"__name__=req,svc=a": 10}
    assert vec(store, "5 < req", 0) == {"__name__=req,svc=a": 10}
    assert vec(store, "req > bool 5", 0) == {"svc=a": 1, "svc=b": 0}
    assert vec(store, "req and on (svc) info", 0) == {"__name__=req,svc=a": 10}
    assert vec(store, "req unless on (svc) info", 0) == {"__name__=req,svc=b": 0}
    assert set(vec(store, "info or req", 0)) == {
        "__name__=info,svc=a,team=x",
        "__name__=req,svc=a",
        "__name__=req,svc=b",
    }
    assert vec(store, "-req", 0) == {"svc=a": -10, "svc=b": -0.0}
    assert vec(store, "2 ^ req % 3", 0) == {"svc=a": 1024 % 3, "svc=b": 1}
    assert query_instant(store, "1 + 2 * 3", T0)["result"][1] == "7"
    assert query_instant(store, "5 > bool 3", T0)["result"][1] == "1"
    dup = SeriesStore(
        [
            s({"__name__": "e", "svc": "a", "code": "1"}, [0], [1]),
            s({"__name__": "e", "svc": "a", "code": "2"}, [0], [1]),
            s({"__name__": "r", "svc": "a"}, [0], [1]),
        ]
    )
    assert vec(dup, "e + on (svc) group_left r", 0) == {"code=1,svc=a": 2, "code=2,svc=a": 2}
    with pytest.raises(PromQLError, match="many-to-one matching must be explicit") as exc:
        query_instant(dup, "e + on (svc) r", T0)
    assert exc.value.error_type == "execution"
    with pytest.raises(PromQLError, match="found duplicate series for the match group"):
        query_instant(store, "info + on (code) group_left err", T0)


def test_functions() -> None:
    store = SeriesStore(
        [
            s({"__name__": "g", "pod": "api-7f9c"}, [0, 15], [-1.26, 2.5]),
            s({"__name__": "g", "pod": "db-0"}, [0], [0.4]),
        ]
    )
    assert vec(store, "abs(g)", 0) == {"pod=api-7f9c": 1.26, "pod=db-0": 0.4}
    assert vec(store, "clamp_min(g, 0)", 0) == {"pod=api-7f9c": 0, "pod=db-0": 0.4}
    assert vec(store, "clamp_max(g, 0)", 0) == {"pod=api-7f9c": -1.26, "pod=db-0": 0}
    assert vec(store, "clamp(g, 1, 0)", 0) == {}  # max < min: nothing
    assert vec(store, "round(g, 0.5)", 0) == {"pod=api-7f9c": -1.5, "pod=db-0": 0.5}
    assert vec(store, "timestamp(g)", 20) == {"pod=api-7f9c": T0 + 15, "pod=db-0": T0}
    got = vec(store, 'label_replace(g, "app", "$1", "pod", "(.*)-[a-f0-9]{4}")', 0)
    assert got == {"__name__=g,app=api,pod=api-7f9c": -1.26, "__name__=g,pod=db-0": 0.4}  # anchored
    # Go expands "$1x" as the (missing) group "1x", i.e. empty → the label is removed.
    assert "app" not in str(vec(store, 'label_replace(g, "app", "$1x", "pod", "(.*)")', 0))
    assert (
        vec(store, 'label_replace(g, "app", "${1}x", "pod", "(db)-0")', 0)["__name__=g,app=dbx,pod=db-0"]
        == 0.4
    )
    assert vec(store, "vector(3)", 0) == {"": 3}
    assert query_instant(store, "scalar(g)", T0)["result"][1] == "NaN"  # two series
    assert query_instant(store, "time()", T0 + 1.5)["result"] == [T0 + 1.5, str(T0 + 1.5)]
    assert vec(store, 'absent(nope{job="x", env=~"p.*"})', 0) == {"job=x": 1}
    assert vec(store, "absent(g)", 0) == {}
    assert vec(store, "absent_over_time(g[10s])", 100) == {"": 1}
    order = [r["metric"]["pod"] for r in query_instant(store, "sort_desc(g)", T0 + 15)["result"]]
    assert order == ["api-7f9c", "db-0"]


def test_offset_at_and_subquery() -> None:
    store = SeriesStore([s({"__name__": "g"}, [0, 60, 120, 180], [1, 2, 3, 4])])
    assert one(store, "g offset 1m", 180) == 3
    assert one(store, "g @ 1700000060", 180) == 2
    data = query_range(store, "g @ end()", T0, T0 + 120, 60)
    assert [v for _, v in data["result"][0]["values"]] == ["3", "3", "3"]
    # Subquery steps are aligned to absolute multiples of the step: T0 + 100 and T0 + 160 here.
    assert one(store, "max_over_time(g[2m:1m])", 180) == 3
    assert one(store, "sum_over_time(g[2m:1m])", 180) == 2 + 3
    raw = query_instant(store, "g[1m]", T0 + 180)
    assert raw["resultType"] == "matrix"
    assert raw["result"][0]["values"] == [[T0 + 120, "3"], [T0 + 180, "4"]]


def test_range_query_shape_and_gaps() -> None:
    store = SeriesStore([s({"__name__": "g", "a": "1"}, [0, 15, 30, 500], [1, 2, math.nan, 5])])
    data = query_range(store, "g", T0, T0 + 600, 100)
    assert data["resultType"] == "matrix"
    # Samples at 0, 15 (NaN at 30 is absent): present until 15 + 300; then again from 500.
    assert data["result"] == [
        {
            "metric": {"__name__": "g", "a": "1"},
            "values": [
                [T0, "1"],
                [T0 + 100, "2"],
                [T0 + 200, "2"],
                [T0 + 300, "2"],
                [T0 + 500, "5"],
                [T0 + 600, "5"],
            ],
        }
    ]
    scalar = query_range(store, "1", T0, T0 + 200, 100)
    assert scalar["result"] == [{"metric": {}, "values": [[T0, "1"], [T0 + 100, "1"], [T0 + 200, "1"]]}]


def test_errors_are_typed_and_shaped_like_prometheus() -> None:
    store = SeriesStore([])
    with pytest.raises(PromQLError) as exc:
        query_instant(store, "sum(rate(x[5m])", T0)
    assert exc.value.error_type == "bad_data"
    assert str(exc.value) == "1:16: parse error: unclosed left parenthesis"
    with pytest.raises(PromQLError, match=r"function day_of_week\(\) is not supported") as exc:
        query_instant(store, "day_of_week()", T0)
    assert exc.value.error_type == "bad_data"
    with pytest.raises(PromQLError, match='invalid expression type "range vector" for range query'):
        query_range(store, "x[5m]", T0, T0 + 60, 15)
    with pytest.raises(PromQLError, match="exceeded maximum resolution of 11,000 points"):
        query_range(store, "x", T0, T0 + 20_000, 1)
    with pytest.raises(PromQLError, match="vector cannot contain metrics with the same labelset"):
        query_instant(
            SeriesStore([s({"__name__": "a"}, [0], [1]), s({"__name__": "b"}, [0], [2])]),
            'rate({__name__=~"a|b"}[1m]) or abs({__name__=~"a|b"})',
            T0,
        )


def test_label_apis() -> None:
    store = SeriesStore(
        [
            s({"__name__": "up", "job": "api"}, [0], [1]),
            s({"__name__": "up", "job": "db"}, [1000], [1]),
            s({"__name__": "mem", "pod": "p"}, [0], [1]),
        ]
    )
    assert store.label_values("__name__") == ["mem", "up"]
    assert store.label_values("job", ["up"], T0 + 500, T0 + 2000) == ["db"]
    assert store.label_names(['{__name__="mem"}']) == ["__name__", "pod"]
    assert store.series(['up{job="api"}', "mem"]) == [
        {"__name__": "mem", "pod": "p"},
        {"__name__": "up", "job": "api"},
    ]
    with pytest.raises(PromQLError):
        store.series(["up{"])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.5, "0.5"),
        (1e6, "1000000"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (-0.0, "-0"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (1 / 3, "0.3333333333333333"),
    ],
)
def test_value_formatting_matches_go(value: float, text: str) -> None:
    assert format_value(value) == text


def test_sum_rate_over_many_series_groups_them() -> None:
    rng = np.random.default_rng(0)
    t = T0 + np.arange(1000) * 15.0
    series = [
        Series(
            {"__name__": "m_total", "svc": f"s{i % 10}", "pod": f"p{i}"},
            t + i * 0.01,
            np.cumsum(rng.poisson(5, t.size)).astype(float),
        )
        for i in range(200)
    ]
    store = SeriesStore(series)
    query_range(store, "sum by (svc) (rate(m_total[5m]))", T0, t[-1], 60)
    data = query_range(store, "sum by (svc) (rate(m_total[5m]))", T0, t[-1], 60)
    assert len(data["result"]) == 10

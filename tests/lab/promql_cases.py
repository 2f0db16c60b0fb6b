"""Shared PromQL parity material: a realistic synthetic series set and the queries to check.

The lead can append real engine queries to `PARITY_QUERIES`; every query runs as a range query over
the data window and as instant queries at a few chosen times (see test_promql_parity.py).
"""

from __future__ import annotations

import numpy as np

from compass_lab.model import Series

START = 1_750_000_000.0  # unix seconds; not aligned to 2 h blocks on purpose
DURATION = 3 * 3600.0
SCRAPE = 15.0
END = START + DURATION

BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")


def _times(rng: np.random.Generator) -> np.ndarray:
    # Each target is scraped with its own phase and a little jitter, as in real life (ms precision).
    phase = float(rng.uniform(0, SCRAPE))
    t = START + phase + np.arange(0, DURATION - SCRAPE, SCRAPE)
    return np.round(t + rng.uniform(-0.2, 0.2, t.size), 3)


def _gap(t: np.ndarray, values: np.ndarray, start_min: float, minutes: float) -> np.ndarray:
    out = values.copy()
    lo = START + start_min * 60
    out[(t >= lo) & (t < lo + minutes * 60)] = np.nan
    return out


def parity_series(seed: int = 7) -> list[Series]:
    rng = np.random.default_rng(seed)
    out: list[Series] = []
    for si, service in enumerate(("checkout", "payments", "cart")):
        for instance in ("i-1", "i-2"):
            for code in ("200", "500"):
                t = _times(rng)
                rate = (20.0 if code == "200" else 0.5) * (si + 1)
                inc = rng.poisson(rate * SCRAPE, t.size).astype(float)
                if service == "checkout" and code == "500":
                    inc[t > START + 5400] *= 12  # the incident
                v = np.cumsum(inc) + 100.0
                if instance == "i-2" and service != "cart":
                    reset = t.size // 2 + si * 7
                    v[reset:] -= v[reset] - inc[reset]  # process restart: the counter starts over
                if service == "payments" and instance == "i-1":
                    v = _gap(t, v, 40, 12)  # pod missing for 12 min
                if service == "cart" and instance == "i-2":
                    v = _gap(t, v, 0, 30)  # scaled up after 30 min
                labels = {
                    "__name__": "http_requests_total",
                    "service": service,
                    "instance": instance,
                    "code": code,
                }
                out.append(Series(labels, t, v))
        t = _times(rng)
        gauge = 0.3 + 0.1 * si + np.cumsum(rng.normal(0, 0.01, t.size))
        gauge = _gap(t, gauge, 60 + si * 10, 3 + si * 3)  # short (<5m) and long gaps
        out.append(Series({"__name__": "cpu_usage", "service": service, "job": "node"}, t, gauge))
        t = _times(rng)
        latency = 0.08 * (si + 1) * np.where(t > START + 5400, 4.0, 1.0)
        counts = np.zeros(len(BUCKETS))
        rows = []
        for _ in t:
            obs = rng.exponential(latency[0] if _ < START + 5400 else latency[-1], 30)
            counts += np.array([np.sum(obs <= float(b)) for b in BUCKETS[:-1]] + [obs.size])
            rows.append(counts.copy())
        cum = np.array(rows)
        for bi, le in enumerate(BUCKETS):
            labels = {"__name__": "http_request_duration_seconds_bucket", "service": service, "le": le}
            out.append(Series(labels, t, cum[:, bi]))
        total = np.cumsum(rng.exponential(0.1, t.size) * 30)
        out.append(Series({"__name__": "http_request_duration_seconds_sum", "service": service}, t, total))
        out.append(
            Series({"__name__": "http_request_duration_seconds_count", "service": service}, t, cum[:, -1])
        )
    # A histogram whose buckets are not monotonic (a scrape race) and one without +Inf.
    t = _times(rng)
    base = np.cumsum(rng.poisson(5, t.size)).astype(float)
    for le, factor in (("0.1", 0.6), ("0.5", 0.55), ("1", 0.9), ("+Inf", 1.0)):
        out.append(Series({"__name__": "odd_bucket", "le": le}, t, np.floor(base * factor)))
    for le, factor in (("0.1", 0.5), ("1", 0.8)):
        out.append(Series({"__name__": "noinf_bucket", "le": le}, t, np.floor(base * factor)))
    # A gauge that is flat, then steps: changes(), deriv() of a constant, resets() of a gauge.
    t = _times(rng)
    depth = np.where(t < START + 3600, 5.0, np.where(t < START + 7200, 12.0, 3.0))
    out.append(Series({"__name__": "queue_depth", "queue": "orders"}, t, depth))
    out.append(
        Series({"__name__": "queue_depth", "queue": "emails"}, t, np.round(rng.uniform(0, 50, t.size)))
    )
    # Info-style series for group_left joins, and `up`.
    for si, service in enumerate(("checkout", "payments", "cart")):
        t = _times(rng)
        out.append(
            Series(
                {"__name__": "service_info", "service": service, "team": f"team-{si % 2}"}, t, np.ones(t.size)
            )
        )
        up = np.ones(t.size)
        if service == "payments":
            up[(t > START + 2400) & (t < START + 3120)] = 0.0
        out.append(Series({"__name__": "up", "job": service, "instance": "i-1"}, t, up))
    return out


PARITY_QUERIES: list[str] = [
    # selectors, lookback, offset, @
    "http_requests_total",
    'http_requests_total{service="payments",instance="i-1"}',
    'cpu_usage{service=~"check.*|cart"}',
    'http_requests_total{code!="200",service!~"pay.*"}',
    "cpu_usage offset 7m",
    "cpu_usage @ 1750005000",
    "up == 0",
    # rate family
    "rate(http_requests_total[5m])",
    "sum by (service) (rate(http_requests_total[5m]))",
    'sum by (service) (rate(http_requests_total{code="500"}[5m]))'
    " / sum by (service) (rate(http_requests_total[5m]))",
    "increase(http_requests_total[10m])",
    "rate(http_requests_total[1m])",
    "irate(http_requests_total[2m])",
    "delta(cpu_usage[10m])",
    "idelta(cpu_usage[5m])",
    "deriv(cpu_usage[15m])",
    "deriv(queue_depth[10m])",
    "predict_linear(cpu_usage[30m], 3600)",
    "rate(http_requests_total[5m] offset 30m)",
    # *_over_time
    "avg_over_time(cpu_usage[10m])",
    "min_over_time(cpu_usage[10m])",
    "max_over_time(cpu_usage[10m])",
    "sum_over_time(queue_depth[5m])",
    "count_over_time(cpu_usage[10m])",
    "last_over_time(cpu_usage[10m])",
    "quantile_over_time(0.9, cpu_usage[20m])",
    "stddev_over_time(cpu_usage[10m])",
    "stdvar_over_time(queue_depth[30m])",
    "present_over_time(cpu_usage[5m])",
    "changes(queue_depth[30m])",
    "resets(http_requests_total[1h])",
    # functions
    "abs(cpu_usage - 0.4)",
    "clamp_min(cpu_usage, 0.35)",
    "clamp_max(cpu_usage, 0.35)",
    "clamp(cpu_usage, 0.3, 0.45)",
    "round(cpu_usage * 100)",
    "timestamp(cpu_usage)",
    "time() - timestamp(up)",
    "vector(1)",
    "scalar(sum(up))",
    "time()",
    'label_replace(up, "svc", "$1", "job", "(.*)out")',
    'absent(nonexistent{job="x"})',
    'absent(up{job="payments"})',
    "absent_over_time(cpu_usage[2m])",
    "sort_desc(sum by (service) (cpu_usage))",
    # aggregations
    "sum(http_requests_total)",
    "avg by (service) (cpu_usage)",
    "min without (instance, code) (rate(http_requests_total[5m]))",
    "max by (code) (rate(http_requests_total[5m]))",
    "count by (service) (http_requests_total)",
    "stddev(cpu_usage)",
    "stdvar by (code) (rate(http_requests_total[5m]))",
    "quantile(0.75, rate(http_requests_total[5m]))",
    "topk(2, rate(http_requests_total[5m]))",
    "bottomk(1, cpu_usage)",
    "topk by (service) (1, rate(http_requests_total[5m]))",
    'count_values("depth", queue_depth{queue="orders"})',
    "group by (service) (http_requests_total)",
    # histograms
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.5, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.99, rate(http_request_duration_seconds_bucket[10m]))",
    "histogram_quantile(0.5, odd_bucket)",
    "histogram_quantile(0.5, noinf_bucket)",
    "histogram_quantile(1.5, odd_bucket)",
    "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
    # binary operators and matching
    "cpu_usage * 100",
    "2 ^ queue_depth",
    "queue_depth % 4",
    "1 - cpu_usage",
    "cpu_usage > 0.4",
    "0.4 < cpu_usage",
    "cpu_usage > bool 0.4",
    "cpu_usage >= bool cpu_usage offset 5m",
    "1 + 2 * 3",
    "5 > bool 3",
    "-cpu_usage",
    "sum by (service) (rate(http_requests_total[5m])) * on (service) group_left (team) service_info",
    "service_info * on (service) group_right (team) sum by (service, code) (rate(http_requests_total[5m]))",
    'rate(http_requests_total{code="500"}[5m]) / ignoring (code) rate(http_requests_total{code="200"}[5m])',
    "sum by (service, instance) (rate(http_requests_total[5m]))"
    " > on (service) group_left max by (service) (cpu_usage) * 100",
    'cpu_usage and on (service) (rate(http_requests_total{code="500"}[5m]) > 1.5)',
    'cpu_usage or label_replace(up, "service", "$1", "job", "(.*)")',
    'up unless on (job) label_replace(cpu_usage > 0.35, "job", "$1", "service", "(.*)")',
    "http_requests_total / on (service, instance, code) http_requests_total offset 10m",
    # subqueries
    "max_over_time(rate(http_requests_total[5m])[30m:1m])",
    "avg_over_time(sum by (service) (cpu_usage)[15m:])",
    "min_over_time(up[10m:30s] offset 5m)",
    "max_over_time(cpu_usage[5m:1m] @ 1750005000)",
    # more corners: negative offset, @ end(), tiny ranges, step-time timestamps, joins on ()
    "cpu_usage offset -5m",
    "rate(http_requests_total[5m] @ end())",
    "rate(http_requests_total[10s])",
    "timestamp(rate(http_requests_total[5m]))",
    'label_join(up, "x", "-", "job", "instance")',
    'count_values("v", round(cpu_usage * 10))',
    "sum(rate(http_requests_total[5m])) by (service) / on () group_left sum(rate(http_requests_total[5m]))",
    'scalar(up{job="cart"}) * cpu_usage',
]

# Instant-only: a bare range selector or subquery returns a range vector (not allowed in range queries).
PARITY_INSTANT_ONLY: list[str] = ["up[2m]", "cpu_usage[5m:1m]"]

# Errors both sides must reject the same way (errorType compared).
PARITY_ERRORS: list[str] = [
    "sum(rate(http_requests_total[5m])",
    "rate(cpu_usage)",
    "cpu_usage * on (job) group_left cpu_usage",
    "http_requests_total + on (service) cpu_usage",
]

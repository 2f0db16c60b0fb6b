"""Signal discovery beyond the catalog: unknown metric names mapped from tokens, type, unit and HELP,
validated against their values, never invented."""

from __future__ import annotations

import pytest

from compass_worker.engine.logs import log_component_label
from compass_worker.signals.catalog import load_catalog
from compass_worker.signals.discovery import (
    MetricMeta,
    cumulative,
    infer,
    infer_all,
    label_order,
    label_role,
    never_succeeds,
    plausible,
    status_label,
    tokens,
)

# Names as real systems export them (Nezha's pod metrics, in-house dashboards, StatsD bridges).
REAL_NAMES = frozenset(
    {
        "PodServerLatencyP50",
        "PodServerLatencyP95",
        "PodServerLatencyP99",
        "PodWorkload",
        "PodSuccessRate",
        "cpu_usage_rate",
        "memory_usage_rate",
        "checkout_ops",
        "orders_requests_total",
        "orders_errors_total",
        "consumer_group_lag",
        "svc_restart_count",
        "api_response_time_ms",
        "rpc_duration_seconds_bucket",
        "payment_failure_ratio",
        "db_pool_active_connections",
        "go_goroutines",
        "jvm_threads_live",
        "application_start_time_seconds",
        "NetworkReceiveBytes",
    }
)


@pytest.mark.parametrize(
    ("name", "signal", "form"),
    [
        ("PodServerLatencyP95", "latency", "gauge"),
        ("api_response_time_ms", "latency", "gauge"),
        ("rpc_duration_seconds_bucket", "latency", "histogram"),
        ("cpu_usage_rate", "cpu_utilization", "gauge"),
        ("memory_usage_rate", "memory_utilization", "gauge"),
        ("PodWorkload", "requests", "gauge"),
        ("checkout_ops", "requests", "gauge"),
        ("orders_requests_total", "requests", "rate"),
        ("orders_errors_total", "error_ratio", "ratio_of"),
        ("PodSuccessRate", "error_ratio", "one_minus"),
        ("payment_failure_ratio", "error_ratio", "gauge"),
        ("consumer_group_lag", "queue_lag", "gauge"),
        ("svc_restart_count", "restarts", "gauge"),
    ],
)
def test_unknown_names_map_to_signals(name: str, signal: str, form: str) -> None:
    m = infer(name, siblings=REAL_NAMES)
    assert m is not None, name
    assert (m.signal, m.form) == (signal, form)
    assert 0.3 <= m.confidence <= 0.85  # never as trusted as a catalog mapping


@pytest.mark.parametrize(
    "name", ["go_goroutines", "jvm_threads_live", "application_start_time_seconds", "NetworkReceiveBytes"]
)
def test_names_that_are_no_signal_stay_unmapped(name: str) -> None:
    assert infer(name, siblings=REAL_NAMES) is None


def test_tokens_split_camel_case_snake_case_and_quantiles() -> None:
    assert tokens("PodServerLatencyP95") == ("pod", "server", "latency", "p95")
    assert tokens("http.server.duration_ms") == ("http", "server", "duration", "ms")
    assert tokens("HTTPRequestsTotal") == ("http", "requests", "total")


def test_an_error_counter_needs_a_request_counter_beside_it() -> None:
    m = infer("orders_errors_total", siblings=REAL_NAMES)
    assert m is not None and m.partner == "orders_requests_total"
    assert "orders_requests_total" in m.entry({"service"}).query  # type: ignore[union-attr]
    assert infer("orders_errors_total", siblings=frozenset({"orders_errors_total"})) is None


def test_help_text_and_metadata_decide_ambiguous_names() -> None:
    assert infer("svc_p95") is None  # a quantile of what? the name alone does not say
    m = infer("svc_p95", MetricMeta(type="gauge", unit="", help="Request latency in milliseconds"))
    assert m is not None and m.signal == "latency"
    assert m.scale == pytest.approx(1e-3)  # the HELP says milliseconds
    named = infer("svc_latency_p95", MetricMeta(type="gauge"))
    assert named is not None and named.confidence > m.confidence  # the name is a stronger hint than HELP


def test_catalog_names_and_known_exporter_namespaces_are_not_reinferred() -> None:
    cat = load_catalog()
    names = {
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_sum",
        "coredns_cache_hits_total",
        "redis_memory_used_bytes",
        "PodServerLatencyP95",
        "PodServerLatencyP99",
        "http_req_latency_ms",
    }
    inferred = {m.metric for m in infer_all(cat, names)}
    # one latency per stem (the quantile nearest p95), a generic prefix does not hide an unknown name
    assert inferred == {"PodServerLatencyP95", "http_req_latency_ms"}


def test_the_alerts_percentile_is_read_where_a_latency_family_records_it() -> None:
    cat = load_catalog()
    names = {"LatencyP50_s", "LatencyP95_s", "LatencyP99_s", "PodServerLatencyP95_s", "PodServerLatencyP99_s"}
    assert {m.metric for m in infer_all(cat, names)} == {"LatencyP95_s", "PodServerLatencyP95_s"}
    # "p50 latency up": the family with a P50 reads it; one without keeps the quantile nearest p95
    assert {m.metric for m in infer_all(cat, names, quantile=50)} == {"LatencyP50_s", "PodServerLatencyP95_s"}
    assert {m.metric for m in infer_all(cat, names, quantile=99)} == {"LatencyP99_s", "PodServerLatencyP99_s"}


def test_a_success_rate_that_reads_zero_everywhere_is_not_measured() -> None:
    m = infer("PodSuccessRate_percent")
    assert m is not None and m.form == "one_minus"
    # read as 1 - success: every component "failing" every request, baseline included
    assert never_succeeds(m, [(1.0, 1.0, 1.0), (1.0, 1.0), (float("nan"), 1.0)]) is not None
    # one component failing throughout is an observation; so is any success anywhere
    assert never_succeeds(m, [(1.0, 1.0, 1.0)]) is None
    assert never_succeeds(m, [(1.0, 1.0, 1.0), (1.0, 0.4, 1.0)]) is None
    lat = infer("PodServerLatencyP95")
    assert lat is not None and never_succeeds(lat, [(1.0, 1.0), (1.0, 1.0)]) is None


def test_entries_use_only_labels_the_metric_carries() -> None:
    lag = infer("consumer_group_lag")
    assert lag is not None
    entry = lag.entry({"topic", "consumergroup", "instance"})
    assert entry is not None
    assert entry.component_labels[0] == "topic" and entry.caller_label == "consumergroup"
    assert "consumergroup" in entry.query
    assert lag.entry({"le", "quantile"}) is None  # nothing names a component: not a usable mapping
    # components are named the way the catalog's conventions for the signal name them
    order = label_order(load_catalog(), "queue_lag")
    as_catalog = lag.entry({"topic", "instance"}, order)
    assert as_catalog is not None and as_catalog.component_labels[0] == order[0] == "instance"


def test_values_validate_and_scale_a_mapping() -> None:
    ratio = infer("payment_failure_ratio")
    assert ratio is not None
    assert plausible(ratio, [0.01, 0.02, 0.4]).rejected is None
    pct = plausible(ratio, [1.0, 2.0, 40.0])
    assert pct.rejected is None and pct.apply(40.0) == pytest.approx(0.4)
    assert plausible(ratio, [10.0, 5000.0]).rejected is not None
    lat = infer("PodServerLatencyP95")
    assert lat is not None
    ms = plausible(lat, [120.0, 130.0, 900.0])
    assert ms.apply(900.0) == pytest.approx(0.9)
    assert "* 0.001" in ms.query(lat, "max by (pod) (PodServerLatencyP95)")
    assert plausible(lat, [-1.0, 3.0]).rejected is not None
    success = infer("PodSuccessRate")
    assert success is not None
    as_percent = plausible(success, [1 - 99.0, 1 - 100.0, 1 - 60.0])  # 1 - success% as first queried
    assert as_percent.rejected is None
    assert as_percent.apply(1 - 60.0) == pytest.approx(0.4)
    assert "/ 100" in as_percent.query(success, "1 - min by (pod) (PodSuccessRate)")


def test_a_percentage_named_as_such_is_scaled_once() -> None:
    """`CpuUsageRate_percent` is queried × 0.01; a CPU at 110 % of its limit then returns 1.1, which is
    a ratio over its limit — not a percentage to scale again (that read 100 % as 1 %)."""
    cpu = infer("CpuUsageRate_percent")
    assert cpu is not None and cpu.scale == pytest.approx(0.01)
    over = plausible(cpu, [0.05, 0.3, 1.0, 1.1])
    assert over.rejected is None
    assert over.apply(1.0) == pytest.approx(1.0) and over.apply(1.1) == pytest.approx(1.1)
    assert over.query(cpu, "max by (pod) (CpuUsageRate_percent) * 0.01") == (
        "max by (pod) (CpuUsageRate_percent) * 0.01"
    )
    assert plausible(cpu, [0.1, 500.0]).rejected is not None  # 50 000 %: no percentage at all
    # the same values with nothing in the name or unit saying percent are judged by the values alone
    bare = infer("cpu_usage_ratio")
    assert bare is not None and bare.scale == 1.0
    assert plausible(bare, [5.0, 30.0, 100.0]).apply(100.0) == pytest.approx(1.0)
    unit = infer("cpu_busy", MetricMeta(type="gauge", unit="percent"))
    assert unit is not None and plausible(unit, [0.2, 1.05]).apply(1.05) == pytest.approx(1.05)


def test_nezha_pod_columns_map_with_their_units() -> None:
    """Nezha's per-pod CSV columns as the replay names them (`CpuUsageRate(%)` → `CpuUsageRate_percent`)."""
    expect = {
        "CpuUsage_m": ("cpu_usage", 1e-3),
        "CpuUsageRate_percent": ("cpu_utilization", 0.01),
        "MemoryUsage_Mi": ("memory_bytes", 2.0**20),
        "MemoryUsageRate_percent": ("memory_utilization", 0.01),
        "PodServerLatencyP95_s": ("latency", 1.0),
        "PodWorkload_Ops": ("requests", 1.0),
        "PodSuccessRate_percent": ("error_ratio", 0.01),
    }
    for name, (signal, scale) in expect.items():
        m = infer(name)
        assert m is not None and (m.signal, m.scale) == (signal, pytest.approx(scale)), name
    success = infer("PodSuccessRate_percent")
    entry = success.entry({"pod"}) if success is not None else None
    assert entry is not None
    assert entry.query.replace("{by}", "pod") == "1 - min by (pod) (PodSuccessRate_percent) * 0.01"
    # a client-side latency is an edge: with no label naming the peer it is not usable
    client = infer("PodClientLatencyP90_s")
    assert client is not None and client.edge and client.entry({"pod"}) is None
    # a node's resources are not the pod's signals
    for name in (
        "NodeCpuUsageRate_percent",
        "NodeMemoryUsageRate_percent",
        "SyscallRead",
    ):
        assert infer(name) is None, name


def test_requests_with_a_status_label_give_an_error_ratio_and_histograms_a_request_rate() -> None:
    names = frozenset(
        {
            "requests_per_second",
            "upstream_requests_per_second",
            "http_server_duration_milliseconds_bucket",
            "http_server_duration_milliseconds_count",
            "http_server_duration_milliseconds_sum",
        }
    )
    rps = infer("requests_per_second", siblings=names)
    assert rps is not None and (rps.signal, rps.form) == ("requests", "gauge")
    (errors,) = rps.derived({"svc", "status_class", "endpoint"}, names)
    entry = errors.entry({"svc", "status_class"})
    assert entry is not None and entry.signal == "error_ratio"
    assert 'requests_per_second{status_class=~"5..|5xx' in entry.query
    assert rps.derived({"svc"}, names) == []  # no status label: no error ratio

    hist = infer("http_server_duration_milliseconds_bucket", siblings=names)
    assert hist is not None and hist.scale == pytest.approx(1e-3)
    derived = {d.signal: d for d in hist.derived({"job", "http_status_code"}, names)}
    assert set(derived) == {"requests", "error_ratio"}
    assert derived["requests"].metric == "http_server_duration_milliseconds_count"
    assert derived["error_ratio"].counter  # a counter's errors are rates

    upstream = infer("upstream_requests_per_second", siblings=names)
    assert upstream is not None and upstream.edge
    views = {d.signal: d for d in upstream.derived({"svc", "upstream", "status_class"}, names)}
    assert set(views) == {"client_error_ratio", "client_throttled"}
    client_errors = views["client_error_ratio"]
    edge = client_errors.entry({"svc", "upstream", "status_class"})
    assert edge is not None and edge.signal == "client_error_ratio" and edge.peer_labels == ("upstream",)
    assert "by ({by}, {peer})" in edge.query


def test_a_pool_count_needs_its_maximum_beside_it() -> None:
    names = frozenset({"dbpool_active", "dbpool_max", "dbpool_waiting", "dbpool_timeouts_per_second"})
    used = infer("dbpool_active", siblings=names)
    assert used is not None and (used.signal, used.partner) == ("pool_utilization", "dbpool_max")
    assert infer("dbpool_active", siblings=frozenset({"dbpool_active"})) is None
    waiting = infer("dbpool_waiting", siblings=names)
    assert waiting is not None and waiting.signal == "pool_pending"
    timeouts = infer("dbpool_timeouts_per_second", siblings=names)
    assert timeouts is not None and timeouts.signal == "pool_timeouts"
    go = frozenset({"go_sql_stats_connections_in_use", "go_sql_stats_connections_max_open"})
    sql = infer("go_sql_stats_connections_in_use", siblings=go)
    assert sql is not None and sql.partner == "go_sql_stats_connections_max_open"


def test_label_keys_name_the_measured_workload_its_caller_and_its_callee() -> None:
    """Label keys no list spells out are read by their tokens: a workload key names the component, a
    source/destination pair names both ends of a call (a service mesh's view)."""
    assert label_role("apm_service") == "identity"
    assert (label_role("source_workload"), label_role("dst_deployment")) == ("source", "destination")
    assert label_role("service_namespace") is None and label_role("reporter") is None

    own = infer("checkout_duration_us")
    assert own is not None and own.scale == pytest.approx(1e-6)
    entry = own.entry({"apm_service", "stat"})
    assert entry is not None and entry.component_labels == ("apm_service",)

    names = frozenset(
        {"mesh_request_duration_ms_bucket", "mesh_request_duration_ms_count", "mesh_requests_total"}
    )
    both = {"source_workload", "destination_workload", "response_code", "le"}
    hist = infer("mesh_request_duration_ms_bucket", siblings=names)
    assert hist is not None and not hist.edge
    server = hist.entry(both)
    assert server is not None and server.component_labels == ("destination_workload",)  # the callee's own
    views = {d.signal: d for d in hist.derived(both, names)}
    assert {"client_latency", "client_error_ratio", "requests", "error_ratio"} <= set(views)
    edge = views["client_latency"].entry(both)
    assert edge is not None and edge.component_labels == ("source_workload",)
    assert edge.peer_labels == ("destination_workload",)
    assert len({d.family for d in (hist, *views.values())}) == len(views) + 1  # fetched separately

    one_end = {"destination_workload", "le"}  # nothing names the caller: no edge
    assert not any(d.edge for d in hist.derived(one_end, names))


def test_a_counter_of_responses_counts_requests_but_a_response_size_does_not() -> None:
    answered = infer("response_total")
    assert answered is not None and (answered.signal, answered.form) == ("requests", "rate")
    (errors,) = answered.derived({"deployment", "classification"}, frozenset({"response_total"}))
    assert errors.signal == "error_ratio" and errors.status_label == "classification"
    assert infer("http_response_size_bytes_total") is None


def test_a_count_of_completed_calls_is_a_counter_without_a_total_suffix() -> None:
    """OpenCensus-style exporters write counters as `..._completed_count` / `..._count_by_status_code`:
    requests answered, with the outcome in a label no list spells (`http_status`)."""
    names = frozenset({"web_http_server_response_count_by_status_code", "web_http_client_completed_count"})
    served = infer("web_http_server_response_count_by_status_code", siblings=names)
    assert served is not None and (served.signal, served.form) == ("requests", "rate")
    (errors,) = served.derived({"app_kubernetes_io_name", "http_status"}, names)
    assert errors.signal == "error_ratio" and errors.status_label == "http_status" and errors.counter
    calls = infer("web_http_client_completed_count", siblings=names)
    assert calls is not None and calls.edge and calls.form == "rate"
    assert infer("db_connection_count") is None  # a count of connections is a level, not calls


def test_outcome_and_far_end_label_keys_are_read_by_their_tokens() -> None:
    assert status_label({"app", "http_client_status"}) == "http_client_status"
    assert status_label({"app", "status_code", "grpc_status"}) == "status_code"  # a listed spelling first
    assert status_label({"app", "status_message", "response_size"}) is None
    assert label_role("http_client_host") == "destination"
    assert label_role("upstream_addr") == "destination"
    assert label_role("host") is None and label_role("kubernetes_pod_name") is None
    lat = infer("web_http_client_roundtrip_latency_bucket")
    assert lat is not None and lat.edge
    edge = lat.entry({"app_kubernetes_io_name", "http_client_host", "http_client_method"})
    assert edge is not None and edge.peer_labels == ("http_client_host",)
    assert edge.component_labels == ("app_kubernetes_io_name",)


def test_a_callers_latency_in_milliseconds_is_scaled_like_the_callees() -> None:
    lat = infer("web_http_client_roundtrip_latency_bucket")
    assert lat is not None and lat.signal == "client_latency" and lat.scale == 1.0
    assert plausible(lat, [40.0, 160.0, 3900.0]).apply(160.0) == pytest.approx(0.16)


def test_a_series_that_only_grows_is_a_running_total_not_a_latency() -> None:
    lat = infer("PodServerLatencyP95")
    assert lat is not None and lat.form == "gauge"
    growing = [[float(10 * i) for i in range(30)], [5.0 + i for i in range(30)]]
    assert cumulative(lat, growing) is not None
    restarted = [[float(i) for i in range(20)] + [0.0, 1.0, 2.0, 3.0, 4.0]]  # a restart resets a total
    assert cumulative(lat, restarted) is not None
    level = [[100.0, 120.0, 90.0, 110.0, 300.0, 280.0, 120.0, 100.0, 95.0, 105.0]]
    assert cumulative(lat, level) is None
    assert cumulative(lat, [[1.0, 2.0, 3.0]]) is None  # too short to tell
    stepped = [[0.1] * 20 + [0.9] * 10]  # a quantised level that steps up is no total
    assert cumulative(lat, stepped) is None


def test_logs_are_attributed_by_a_workload_label_no_list_spells() -> None:
    known = ("service_name", "app", "job")
    assert log_component_label(known, {"pod", "namespace", "app_kubernetes_io_name"}) == (
        "app_kubernetes_io_name"
    )
    assert log_component_label(known, {"app", "app_kubernetes_io_name"}) == "app"  # the catalog's first
    assert log_component_label(known, {"pod", "namespace", "level"}) is None


def test_a_callers_answers_by_status_also_count_throttled_calls() -> None:
    """Per-status client counts say when a callee refused calls for their rate (429): the signal a
    rate-limited dependency is judged by. A status class (`4xx`) says too little and matches nothing."""
    names = frozenset({"web_http_client_completed_count"})
    calls = infer("web_http_client_completed_count", siblings=names)
    assert calls is not None
    have = {"app_kubernetes_io_name", "http_client_host", "http_client_status"}
    throttled = next(d for d in calls.derived(have, names) if d.signal == "client_throttled")
    entry = throttled.entry(have)
    assert entry is not None and entry.edge and entry.peer_labels == ("http_client_host",)
    assert (
        'http_client_status=~"429|' in entry.query and "rate(web_http_client_completed_count" in entry.query
    )
    assert "by ({by}, {peer})" in entry.query
    assert throttled.family != calls.family  # fetched as a signal of its own
    assert not any(d.signal == "client_throttled" for d in calls.derived({"app", "http_client_host"}, names))


def test_a_stores_instance_label_names_the_store_called() -> None:
    assert label_role("sql_instance") == "destination"
    assert label_role("db_instance") == "destination"
    assert label_role("instance") is None and label_role("service_instance_id") is None
    lat = infer("go_sql_client_latency_bucket")
    assert lat is not None and lat.signal == "client_latency"
    edge = lat.entry({"app_kubernetes_io_name", "sql_instance", "go_sql_method", "go_sql_status"})
    assert edge is not None and edge.peer_labels == ("sql_instance",)


def test_a_status_class_cannot_say_throttled() -> None:
    names = frozenset({"upstream_requests_per_second"})
    upstream = infer("upstream_requests_per_second", siblings=names)
    assert upstream is not None
    have = {"svc", "upstream", "status_class"}
    throttled = next(d for d in upstream.derived(have, names) if d.signal == "client_throttled")
    assert throttled.entry(have, values={"status_class": {"2xx", "5xx", "conn_error"}}) is None
    assert throttled.entry(have, values={"status_class": {"200", "503"}}) is not None


def test_a_running_total_of_time_beside_a_count_of_its_events_is_a_mean_latency() -> None:
    """Datadog's trace metrics: `x_duration` sums the seconds spent, `x_hits` counts the spans."""
    names = frozenset({"trace_http_request_duration", "trace_http_request_hits", "trace_http_request_errors"})
    lat = infer("trace_http_request_duration", siblings=names)
    assert lat is not None and lat.signal == "latency" and lat.events == "trace_http_request_hits"
    mean = lat.mean_of_total()
    assert mean is not None and (mean.form, mean.partner, mean.events) == (
        "ratio_of",
        "trace_http_request_hits",
        None,
    )
    q = mean.entry_query()
    assert "rate(trace_http_request_duration[" in q and "rate(trace_http_request_hits[" in q
    ms = infer("jobs_run_duration_ms", siblings=frozenset({"jobs_run_count", "jobs_run_duration_ms"}))
    assert ms is not None and ms.events == "jobs_run_count"
    mean_ms = ms.mean_of_total()
    assert mean_ms is not None and mean_ms.entry_query().endswith("* 0.001")
    # a caller's total: an edge, kept per peer
    client = infer(
        "trace_http_client_request_duration",
        siblings=frozenset({"trace_http_client_request_duration", "trace_http_client_request_hits"}),
    )
    assert client is not None and client.edge
    client_mean = client.mean_of_total()
    assert client_mean is not None and "{peer}" in client_mean.entry_query()
    # no count beside it, or a histogram: nothing to divide by
    alone = infer("trace_http_request_duration", siblings=frozenset({"trace_http_request_duration"}))
    assert alone is not None and alone.mean_of_total() is None
    hist = infer("rpc_duration_seconds_bucket", siblings=frozenset({"rpc_duration_seconds_count"}))
    assert hist is not None and hist.mean_of_total() is None


def test_hits_are_counted_events_even_without_a_total_suffix() -> None:
    """`trace_http_request_hits` grows like any counter: its request rate and error ratio are rates."""
    hits = infer("trace_http_request_hits")
    assert hits is not None and (hits.signal, hits.form) == ("requests", "rate")
    derived = hits.derived({"service", "http_status_code"}, frozenset())
    ratio = [m for m in derived if m.signal == "error_ratio"]
    assert ratio and ratio[0].counter and "rate(trace_http_request_hits{" in ratio[0].entry_query()
    gauge = infer("cache_hits_ratio")
    assert gauge is None or gauge.form != "rate"
    typed = infer("lookup_hits", MetricMeta(type="gauge"))  # the store says it is a level: it is one
    assert typed is not None and typed.form == "gauge"


def test_a_summarys_quantiles_are_no_request_count_and_a_flat_total_is_no_latency() -> None:
    named = infer("trace_http_request")  # Datadog's distribution, by the span's name alone
    assert named is not None and named.signal == "requests"
    assert named.entry({"service", "quantile"}) is None  # its quantile label says it is a distribution
    assert named.entry({"service"}) is not None
    wait = infer("pool_wait_duration")
    assert wait is not None and wait.signal == "latency"
    assert plausible(wait, [2.0e8, 2.0e8, 2.1e8]).rejected is not None  # nanoseconds in all, flat a while
    assert plausible(wait, [120.0, 130.0, 900.0]).factor == 1e-3  # milliseconds, as before
    assert plausible(wait, [0.1, 0.2, 0.3]).rejected is None


def test_a_total_over_pods_that_drops_in_part_when_one_restarts_is_still_a_total() -> None:
    lat = infer("trace_mysql_query_duration")
    assert lat is not None and lat.form == "gauge"
    summed = [[float(10 * i) for i in range(40)] + [250.0 + 5 * i for i in range(40)]]  # 390 → 250
    assert cumulative(lat, summed) is not None
    wobbly = [[100.0 + (i % 3) for i in range(60)]]  # a level: it falls a third of the time
    assert cumulative(lat, wobbly) is None


def test_a_calls_far_end_by_address_names_the_store_before_its_instance_key() -> None:
    """Datadog's DB spans carry `out_host` (the server) and `db_instance` (the database in it)."""
    lat = infer("trace_postgres_query_duration")
    assert lat is not None
    have = {"service", "out_host", "db_instance", "resource_name"}
    own = lat.entry(have)
    assert own is not None and own.component_labels[0] == "out_host"  # the store's own latency
    edge = next(m for m in lat.derived(have, frozenset()) if m.signal == "client_latency")
    entry = edge.entry(have)
    assert entry is not None and entry.peer_labels[0] == "out_host"


def test_calls_to_a_store_name_its_kind_when_its_exporter_is_missing() -> None:
    have = {"service", "out_host", "db_instance"}
    lat = infer("trace_postgres_query_duration")
    assert lat is not None
    own = lat.entry(have)
    assert own is not None and own.kind == "database"
    edge = next(m for m in lat.derived(have, frozenset()) if m.signal == "client_latency")
    entry = edge.entry(have)
    assert entry is not None and (entry.kind, entry.peer_kind) == ("service", "database")
    redis = infer("trace_redis_command_duration")
    assert redis is not None
    redis_own = redis.entry({"service", "out_host"})
    assert redis_own is not None and redis_own.kind == "cache"
    plain = infer("trace_http_request_duration")
    assert plain is not None
    plain_own = plain.entry({"service", "resource_name"})
    assert plain_own is not None and plain_own.kind == "service"

"""Naming-convention families: the library's three, and seven more that the signal catalog does not know.

A family is rendered by the library in a base convention and then re-expressed the way another
exporter would have written the same facts: other metric names, other label keys for the service,
other units (ms, µs, MB, percent), per-second or per-minute gauges instead of counters, pre-computed
quantiles or averages instead of histograms, a mesh proxy's view (no SQL semantics, only TCP) instead of
the application's own. Infrastructure exporters (cAdvisor, kube-state-metrics, node / database / cache /
queue exporters, blackbox, CoreDNS) are left as they are: every family runs on the same Kubernetes.

The ten families and what each changes are tabled in this package's README.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from compass_lab.model import FloatArray, LogStream, Series
from compass_lab.randomised.reshape import Hist, by_name, hist_groups, increments, per_second, ratio, windowed
from compass_lab.scenarios.blueprint import STEP_S, Convention
from compass_lab.scenarios.render_app import error_type
from compass_lab.scenarios.series_out import SeriesOut

Transform = Callable[[Sequence[Series], SeriesOut], None]


@dataclass(frozen=True)
class ConventionFamily:
    name: str
    base: Convention
    catalog_known: bool
    log_service_label: str  # the Loki label naming the service
    transform: Transform | None  # None: the base convention as rendered


# error.type values of connection-level failures → failure kind (refused, timeout, dns, tls, reset)
_KIND_OF_ERROR = {
    error_type(lang, kind): kind
    for lang in ("java", "go")
    for kind in ("refused", "timeout", "dns", "tls", "reset")
}
_ENVOY_FLAGS = {"refused": "UF", "timeout": "UT", "dns": "DF", "tls": "UF", "reset": "UC"}
_ERRNO = {
    "refused": "ECONNREFUSED",
    "timeout": "ETIMEDOUT",
    "dns": "EAI_NONAME",
    "tls": "EPROTO",
    "reset": "ECONNRESET",
}
_OTEL_APP = (
    "http_server_request_duration_seconds",
    "http_client_request_duration_seconds",
    "db_client_operation_duration_seconds",
    "messaging_client_operation_duration_seconds",
    "messaging_process_duration_seconds",
    "db_client_connection_wait_time_seconds",
)
_OTEL_APP_PLAIN = (
    "messaging_client_sent_messages_total",
    "messaging_client_consumed_messages_total",
    "db_client_connection_count",
    "db_client_connection_max",
    "db_client_connection_pending_requests",
    "db_client_connection_timeouts_total",
    "target_info",
)
_PROM_APP = (
    "http_request_duration_seconds",
    "http_client_request_duration_seconds",
    "message_processing_duration_seconds",
    "hikaricp_connections_acquire_seconds",
    "hikaricp_connections_usage_seconds",
)
_PROM_APP_PLAIN = (
    "http_requests_total",
    "http_client_requests_total",
    "messages_processed_total",
    "hikaricp_connections_active",
    "hikaricp_connections_idle",
    "hikaricp_connections",
    "hikaricp_connections_max",
    "hikaricp_connections_min",
    "hikaricp_connections_pending",
    "hikaricp_connections_timeout_total",
    "process_cpu_seconds_total",
    "process_start_time_seconds",
    "process_resident_memory_bytes",
    "build_info",
)


def app_metric_names(base: Convention) -> frozenset[str]:
    """Metric names the library's renderer writes for services in `base` (what a transform replaces)."""
    hists, plain = (_OTEL_APP, _OTEL_APP_PLAIN) if base == "otel" else (_PROM_APP, _PROM_APP_PLAIN)
    return frozenset(plain) | {f"{h}_{s}" for h in hists for s in ("bucket", "sum", "count", "max")}


def _is_app(s: Series, base: Convention) -> bool:
    if s.labels["__name__"] == "up" and base == "prom-client":
        return s.labels.get("job", "") not in _INFRA_JOBS
    return s.labels["__name__"] in app_metric_names(base)


_INFRA_JOBS = frozenset(
    {"postgres", "mysql", "redis", "kafka", "node-exporter", "blackbox", "coredns", "kube-state-metrics"}
    | {"kubelet"}
)


def apply(family: ConventionFamily, series: Sequence[Series], ts: FloatArray) -> tuple[Series, ...]:
    if family.transform is None:
        return tuple(series)
    app = [s for s in series if _is_app(s, family.base)]
    out = SeriesOut(ts)
    family.transform(app, out)
    return tuple(s for s in series if not _is_app(s, family.base)) + tuple(out.series)


def relabel_logs(family: ConventionFamily, streams: Sequence[LogStream]) -> tuple[LogStream, ...]:
    """Move the service's Loki label to the family's key (infrastructure streams keep theirs)."""
    base_key = {"otel": "service_name", "prom-client": "app", "micrometer": "job"}[family.base]
    if family.log_service_label == base_key:
        return tuple(streams)
    out = []
    for st in streams:
        if base_key not in st.labels:
            out.append(st)
            continue
        labels = {k: v for k, v in st.labels.items() if k != base_key}
        labels[family.log_service_label] = st.labels[base_key].rsplit("/", 1)[-1]
        out.append(LogStream(labels, st.lines))
    return tuple(out)


# ------------------------------------------------------------------------------------- helpers
def _emit_hist(out: SeriesOut, name: str, labels: dict[str, str], h: Hist, scale: float = 1.0) -> None:
    """`h` under another name, labels and unit (`scale` multiplies bucket bounds and the sum)."""
    for le, v in h.buckets.items():
        bound = "+Inf" if not np.isfinite(le) else repr(round(le * scale, 6))
        out.add({"__name__": f"{name}_bucket", **labels, "le": bound}, v)
    if h.sum is not None:
        out.add({"__name__": f"{name}_sum", **labels}, h.sum * scale)
    if h.count is not None:
        out.add({"__name__": f"{name}_count", **labels}, h.count)


def _gauge(out: SeriesOut, name: str, labels: dict[str, str], values: FloatArray) -> None:
    out.add({"__name__": name, **labels}, np.round(values, 4))


def _merged(out_hists: SeriesOut, base: str) -> list[Hist]:
    return hist_groups(out_hists.series, base)


def _outcome(labels: dict[str, str]) -> tuple[str, str]:
    """(HTTP status code or "", connection failure kind or "") of an OpenTelemetry client/server child."""
    code = labels.get("http_response_status_code", "")
    err = labels.get("error_type", "")
    return code, (_KIND_OF_ERROR.get(err, "") if not code else "")


def _otel_ident(labels: dict[str, str]) -> tuple[str, str, str]:
    return labels["service_name"], labels["instance"], labels.get("service_namespace", "")


def _db_of_pool(labels: dict[str, str]) -> str:
    return labels.get("db_client_connection_pool_name", "").rsplit("/", 1)[-1]


def _pool_sqlstats(
    series: dict[str, list[Series]], out: SeriesOut, ident: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    """OpenTelemetry pool metrics re-expressed as Go's `database/sql` stats exporter writes them."""
    for s in series.get("db_client_connection_count", []):
        labels = dict(s.labels)
        state = labels["db_client_connection_state"]
        name = "go_sql_stats_connections_in_use" if state == "used" else "go_sql_stats_connections_idle"
        out.add({"__name__": name, **ident(labels), "db_name": _db_of_pool(labels)}, s.values)
    for s in series.get("db_client_connection_max", []):
        labels = dict(s.labels)
        out.add(
            {
                "__name__": "go_sql_stats_connections_max_open",
                **ident(labels),
                "db_name": _db_of_pool(labels),
            },
            s.values,
        )
    for h in hist_groups(
        series.get("db_client_connection_wait_time_seconds_sum", [])
        + series.get("db_client_connection_wait_time_seconds_count", []),
        "db_client_connection_wait_time_seconds",
    ):
        extra = {**ident(h.labels), "db_name": _db_of_pool(h.labels)}
        if h.sum is None:
            continue
        out.add({"__name__": "go_sql_stats_wait_duration_seconds_total", **extra}, np.round(h.sum, 3))
        waits = np.floor(np.nancumsum(np.nan_to_num(increments(h.sum)) / 0.05))  # ~50 ms per wait
        out.add(
            {"__name__": "go_sql_stats_wait_count_total", **extra}, np.where(np.isnan(h.sum), np.nan, waits)
        )


# ------------------------------------------------------------------------------------- otel-legacy-ms
def _otel_legacy(series: Sequence[Series], out: SeriesOut) -> None:
    named = by_name(series)
    for h in hist_groups(series, "http_server_request_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        labels = {"job": f"{ns}/{svc}", "instance": pod, "http_method": h.labels["http_request_method"]}
        labels["http_status_code"] = h.labels["http_response_status_code"]
        labels["http_route"] = h.labels["http_route"]
        _emit_hist(out, "http_server_duration_milliseconds", labels, h, 1000.0)
    for h in hist_groups(series, "http_client_request_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        code, _kind = _outcome(h.labels)
        labels = {"job": f"{ns}/{svc}", "instance": pod, "net_peer_name": h.labels["server_address"]}
        labels["http_method"] = h.labels["http_request_method"]
        if code:
            labels["http_status_code"] = code
        _emit_hist(out, "http_client_duration_milliseconds", labels, h, 1000.0)
    for h in hist_groups(series, "messaging_process_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        labels = {
            "job": f"{ns}/{svc}",
            "instance": pod,
            "messaging_destination": h.labels["messaging_destination_name"],
        }
        labels["messaging_kafka_consumer_group"] = h.labels["messaging_consumer_group_name"]
        labels["status"] = "error" if "error_type" in h.labels else "ok"
        _emit_hist(out, "messaging_process_duration_milliseconds", labels, h, 1000.0)
    _pool_sqlstats(
        named,
        out,
        lambda lb: {
            "job": f"{lb.get('service_namespace', '')}/{lb['service_name']}",
            "instance": lb["instance"],
        },
    )
    for s in named.get("target_info", []):
        out.add(dict(s.labels), s.values)


# ------------------------------------------------------------------------------------- statsd-mapper
def _statsd_ident(labels: dict[str, str]) -> dict[str, str]:
    return {
        "job": "statsd-exporter",
        "instance": "statsd-exporter.monitoring:9102",
        "svc": labels["job"],
        "host": labels["pod"],
    }


def _status_class(code: str) -> str:
    return "conn_error" if not code.isdigit() else f"{code[0]}xx"


def _statsd_summary(out: SeriesOut, name: str, labels: dict[str, str], h: Hist) -> None:
    for q in (0.5, 0.9, 0.99):
        _gauge(out, name, {**labels, "quantile": str(q)}, h.quantile(q) * 1000.0)
    if h.sum is not None and h.count is not None:
        out.add({"__name__": f"{name}_sum", **labels}, np.round(h.sum * 1000.0, 3))
        out.add({"__name__": f"{name}_count", **labels}, h.count)


def _statsd(series: Sequence[Series], out: SeriesOut) -> None:
    named = by_name(series)
    rates = SeriesOut(series[0].timestamps) if series else None
    if rates is None:
        return
    for s in named.get("http_requests_total", []):  # add up codes of a class first, then take rates
        lb = dict(s.labels)
        labels = {**_statsd_ident(lb), "status_class": _status_class(lb["code"]), "endpoint": lb["handler"]}
        rates.add({"__name__": "requests_per_second", **labels}, s.values)
    for s in named.get("http_client_requests_total", []):
        lb = dict(s.labels)
        labels = {**_statsd_ident(lb), "upstream": lb["target"], "status_class": _status_class(lb["code"])}
        rates.add({"__name__": "upstream_requests_per_second", **labels}, s.values)
    for s in named.get("messages_processed_total", []):
        lb = dict(s.labels)
        outcome = "ok" if lb["status"] == "ok" else "failed"
        rates.add(
            {"__name__": "jobs_per_second", **_statsd_ident(lb), "queue": lb["topic"], "outcome": outcome},
            s.values,
        )
    for s in named.get("hikaricp_connections_timeout_total", []):
        rates.add({"__name__": "dbpool_timeouts_per_second", **_statsd_ident(dict(s.labels))}, s.values)
    for s in rates.series:
        _gauge(
            out,
            s.labels["__name__"],
            {k: v for k, v in s.labels.items() if k != "__name__"},
            per_second(s.values),
        )
    for h in hist_groups(series, "http_request_duration_seconds"):
        _statsd_summary(out, "request_latency_ms", _statsd_ident(h.labels), h)
    for h in hist_groups(series, "http_client_request_duration_seconds"):
        _statsd_summary(
            out, "upstream_latency_ms", {**_statsd_ident(h.labels), "upstream": h.labels["target"]}, h
        )
    for h in hist_groups(series, "message_processing_duration_seconds"):
        _statsd_summary(out, "job_duration_ms", {**_statsd_ident(h.labels), "queue": h.labels["topic"]}, h)
    for src, dst in (
        ("hikaricp_connections_active", "dbpool_active"),
        ("hikaricp_connections_idle", "dbpool_idle"),
        ("hikaricp_connections_max", "dbpool_max"),
        ("hikaricp_connections_pending", "dbpool_waiting"),
    ):
        for s in named.get(src, []):
            out.add({"__name__": dst, **_statsd_ident(dict(s.labels))}, s.values)
    for s in named.get("process_cpu_seconds_total", []):
        _gauge(out, "process_cpu_percent", _statsd_ident(dict(s.labels)), per_second(s.values) * 100.0)
    for s in named.get("process_resident_memory_bytes", []):
        _gauge(out, "process_rss_mb", _statsd_ident(dict(s.labels)), s.values / 1e6)
    for s in named.get("process_start_time_seconds", []):
        out.add(
            {"__name__": "process_uptime_seconds", **_statsd_ident(dict(s.labels))},
            np.round(s.timestamps - s.values),
        )
    for s in named.get("build_info", []):
        out.add(
            {"__name__": "app_info", **_statsd_ident(dict(s.labels)), "version": s.labels["version"]},
            s.values,
        )


# ------------------------------------------------------------------------------------- envoy-mesh
def _mesh_base(pod: str, ns: str) -> dict[str, str]:
    return {"job": "kubernetes-pods", "namespace": ns, "pod": pod, "instance": f"{pod}:15090"}


def _envoy(series: Sequence[Series], out: SeriesOut) -> None:
    named = by_name(series)
    for h in hist_groups(series, "http_server_request_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        labels = {
            **_mesh_base(pod, ns),
            "reporter": "destination",
            "source_workload": "unknown",
            "destination_workload": svc,
            "destination_workload_namespace": ns,
            "destination_service_name": svc,
            "request_protocol": "http",
            "response_code": h.labels["http_response_status_code"],
            "response_flags": "-",
        }
        _emit_hist(out, "istio_request_duration_milliseconds", labels, h, 1000.0)
        if h.count is not None:
            out.add({"__name__": "istio_requests_total", **labels}, h.count)
    for h in hist_groups(series, "http_client_request_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        code, kind = _outcome(h.labels)
        peer = h.labels["server_address"]
        labels = {
            **_mesh_base(pod, ns),
            "reporter": "source",
            "source_workload": svc,
            "source_workload_namespace": ns,
            "destination_workload": peer,
            "destination_service_name": peer,
            "request_protocol": "http",
            "response_code": code or "0",
            "response_flags": _ENVOY_FLAGS.get(kind, "-") if kind else "-",
        }
        _emit_hist(out, "istio_request_duration_milliseconds", labels, h, 1000.0)
        if h.count is not None:
            out.add({"__name__": "istio_requests_total", **labels}, h.count)
    for base in ("db_client_operation_duration_seconds", "messaging_client_operation_duration_seconds"):
        for h in hist_groups(series, base):  # the proxy sees opaque TCP: bytes and failed connections
            svc, pod, ns = _otel_ident(h.labels)
            _code, kind = _outcome(h.labels)
            tcp = {
                **_mesh_base(pod, ns),
                "reporter": "source",
                "source_workload": svc,
                "destination_service_name": h.labels["server_address"],
            }
            if h.count is None:
                continue
            if kind:
                out.add(
                    {
                        "__name__": "istio_tcp_connections_closed_total",
                        **tcp,
                        "response_flags": _ENVOY_FLAGS[kind],
                    },
                    h.count,
                )
            elif "error_type" not in h.labels:
                out.add({"__name__": "istio_tcp_sent_bytes_total", **tcp}, np.floor(h.count * 420.0))
                out.add({"__name__": "istio_tcp_connections_opened_total", **tcp}, np.floor(h.count * 0.02))
    _pool_sqlstats(
        named,
        out,
        lambda lb: {
            "app_kubernetes_io_name": lb["service_name"],
            "pod": lb["instance"],
            "namespace": lb.get("service_namespace", ""),
        },
    )
    for s in named.get("messaging_client_consumed_messages_total", []):
        lb = dict(s.labels)
        name = (
            "kafka_consumer_records_failed_total"
            if "error_type" in lb
            else "kafka_consumer_records_consumed_total"
        )
        labels = {
            "app_kubernetes_io_name": lb["service_name"],
            "pod": lb["instance"],
            "client_id": f"{lb['service_name']}-0",
            "topic": lb["messaging_destination_name"],
        }
        out.add({"__name__": name, **labels}, s.values)
    for h in hist_groups(series, "messaging_process_duration_seconds"):
        if "error_type" in h.labels:
            continue
        labels = {
            "app_kubernetes_io_name": h.labels["service_name"],
            "pod": h.labels["instance"],
            "client_id": f"{h.labels['service_name']}-0",
            "topic": h.labels["messaging_destination_name"],
        }
        _gauge(out, "kafka_consumer_process_time_ms_avg", labels, h.mean() * 1000.0)


# ------------------------------------------------------------------------------------- linkerd-proxy
def _linkerd_base(pod: str, ns: str, svc: str) -> dict[str, str]:
    return {"job": "linkerd-proxy", "namespace": ns, "pod": pod, "instance": f"{pod}:4191", "deployment": svc}


def _linkerd(series: Sequence[Series], out: SeriesOut) -> None:
    named = by_name(series)
    for h in hist_groups(series, "http_server_request_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        base = {**_linkerd_base(pod, ns, svc), "direction": "inbound", "tls": "true"}
        code = h.labels["http_response_status_code"]
        cls = "failure" if code.startswith("5") else "success"
        labels = {**base, "status_code": code, "classification": cls}
        _emit_hist(out, "response_latency_ms", labels, h, 1000.0)
        if h.count is not None:
            out.add({"__name__": "response_total", **labels}, h.count)
            out.add(
                {"__name__": "request_total", **base, "authority": f"{svc}.{ns}.svc.cluster.local"}, h.count
            )
    for h in hist_groups(series, "http_client_request_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        code, kind = _outcome(h.labels)
        base = {
            **_linkerd_base(pod, ns, svc),
            "direction": "outbound",
            "tls": "true",
            "dst_deployment": h.labels["server_address"],
            "dst_namespace": ns,
        }
        if code:
            labels = {
                **base,
                "status_code": code,
                "classification": "failure" if code[0] == "5" else "success",
            }
            _emit_hist(out, "response_latency_ms", labels, h, 1000.0)
        else:
            labels = {**base, "classification": "failure", "error": kind or "unknown"}
        if h.count is not None:
            out.add({"__name__": "response_total", **labels}, h.count)
    for base_name in ("db_client_operation_duration_seconds", "messaging_client_operation_duration_seconds"):
        for h in hist_groups(series, base_name):
            svc, pod, ns = _otel_ident(h.labels)
            _code, kind = _outcome(h.labels)
            tcp = {
                **_linkerd_base(pod, ns, svc),
                "direction": "outbound",
                "dst_service": h.labels["server_address"],
            }
            if h.count is None:
                continue
            if kind:
                out.add({"__name__": "tcp_close_total", **tcp, "errno": _ERRNO[kind]}, h.count)
            elif "error_type" not in h.labels:
                out.add({"__name__": "tcp_write_bytes_total", **tcp}, np.floor(h.count * 380.0))
                out.add({"__name__": "tcp_open_total", **tcp}, np.floor(h.count * 0.02))
    for s in named.get("db_client_connection_count", []):
        lb = dict(s.labels)
        state = "busy" if lb["db_client_connection_state"] == "used" else "idle"
        out.add(
            {
                "__name__": "sqlx_pool_connections",
                **_linkerd_base(lb["instance"], lb.get("service_namespace", ""), lb["service_name"]),
                "state": state,
            },
            s.values,
        )
    for src, dst in (
        ("db_client_connection_max", "sqlx_pool_max_connections"),
        ("db_client_connection_pending_requests", "sqlx_pool_acquire_waiting"),
        ("db_client_connection_timeouts_total", "sqlx_pool_acquire_timeouts_total"),
    ):
        for s in named.get(src, []):
            lb = dict(s.labels)
            out.add(
                {
                    "__name__": dst,
                    **_linkerd_base(lb["instance"], lb.get("service_namespace", ""), lb["service_name"]),
                },
                s.values,
            )
    for h in hist_groups(series, "messaging_process_duration_seconds"):
        svc, pod, ns = _otel_ident(h.labels)
        labels = {
            **_linkerd_base(pod, ns, svc),
            "queue": h.labels["messaging_destination_name"],
            "status": "failed" if "error_type" in h.labels else "ok",
        }
        _emit_hist(out, "worker_job_duration_ms", labels, h, 1000.0)
        if h.count is not None:
            out.add({"__name__": "worker_jobs_total", **labels}, h.count)


# ------------------------------------------------------------------------------------- apm-agent
def _apm_ident(labels: dict[str, str]) -> dict[str, str]:
    return {
        "job": "apm-bridge",
        "apm_service": labels["service_name"],
        "apm_instance": labels["instance"],
        "apm_env": "prod",
    }


def _apm_stats(
    out: SeriesOut, prefix: str, labels: dict[str, str], hists: list[Hist], failed: list[Hist]
) -> None:
    """Per-minute throughput, error % and µs avg/p95 of a set of children added up."""
    merged = SeriesOut(out.ts)
    for child in hists:
        _emit_hist(merged, "x", {}, child)
    groups = hist_groups(merged.series, "x")
    count = groups[0].count if groups else None
    if count is None:
        return
    h = groups[0]
    calls = windowed(increments(count))
    bad = np.zeros_like(calls)
    for f in failed:
        if f.count is not None:
            bad = bad + np.nan_to_num(windowed(increments(f.count)))
    _gauge(out, f"{prefix}_throughput_rpm", labels, calls / (4 * STEP_S) * 60.0)
    _gauge(out, f"{prefix}_error_rate_pct", labels, ratio(bad, calls) * 100.0)
    _gauge(out, f"{prefix}_duration_us", {**labels, "stat": "avg"}, np.round(h.mean() * 1e6))
    _gauge(out, f"{prefix}_duration_us", {**labels, "stat": "p95"}, np.round(h.quantile(0.95) * 1e6))


def _group(
    hists: list[Hist], key: Callable[[dict[str, str]], tuple[str, ...]]
) -> dict[tuple[str, ...], list[Hist]]:
    out: dict[tuple[str, ...], list[Hist]] = {}
    for h in hists:
        out.setdefault(key(h.labels), []).append(h)
    return out


def _apm(series: Sequence[Series], out: SeriesOut) -> None:
    named = by_name(series)
    server = hist_groups(series, "http_server_request_duration_seconds")
    for (_svc, _pod), hs in _group(server, lambda lb: (lb["service_name"], lb["instance"])).items():
        failed = [h for h in hs if h.labels["http_response_status_code"].startswith("5")]
        _apm_stats(out, "apm_transaction", _apm_ident(hs[0].labels), hs, failed)
    client = hist_groups(series, "http_client_request_duration_seconds")
    for _k, hs in _group(
        client, lambda lb: (lb["service_name"], lb["instance"], lb["server_address"])
    ).items():
        failed = [h for h in hs if h.labels.get("http_response_status_code", "5").startswith("5")]
        labels = {**_apm_ident(hs[0].labels), "external_host": hs[0].labels["server_address"]}
        _apm_stats(out, "apm_external", labels, hs, failed)
    db = hist_groups(series, "db_client_operation_duration_seconds")
    for _k, hs in _group(
        db, lambda lb: (lb["service_name"], lb["instance"], lb["server_address"], lb["db_operation_name"])
    ).items():
        lb = hs[0].labels
        labels = {
            **_apm_ident(lb),
            "datastore_type": lb["db_system_name"],
            "datastore_instance": lb["server_address"],
            "operation": lb["db_operation_name"],
        }
        _apm_stats(out, "apm_datastore", labels, hs, [h for h in hs if "error_type" in h.labels])
    send = hist_groups(series, "messaging_client_operation_duration_seconds")
    for _k, hs in _group(send, lambda lb: (lb["service_name"], lb["instance"], lb["server_address"])).items():
        lb = hs[0].labels
        labels = {
            **_apm_ident(lb),
            "broker": lb["server_address"],
            "destination": lb["messaging_destination_name"],
        }
        _apm_stats(out, "apm_messagebroker_produce", labels, hs, [h for h in hs if "error_type" in h.labels])
    work = hist_groups(series, "messaging_process_duration_seconds")
    for _k, hs in _group(work, lambda lb: (lb["service_name"], lb["instance"])).items():
        lb = hs[0].labels
        labels = {**_apm_ident(lb), "transaction": f"consume {lb['messaging_destination_name']}"}
        _apm_stats(out, "apm_background", labels, hs, [h for h in hs if "error_type" in h.labels])
    for s in named.get("db_client_connection_count", []):
        lb = dict(s.labels)
        if lb["db_client_connection_state"] == "used":
            out.add({"__name__": "apm_db_pool_active", **_apm_ident(lb)}, s.values)
    for src, dst in (
        ("db_client_connection_max", "apm_db_pool_max"),
        ("db_client_connection_pending_requests", "apm_db_pool_waiting"),
    ):
        for s in named.get(src, []):
            out.add({"__name__": dst, **_apm_ident(dict(s.labels))}, s.values)
    for s in named.get("db_client_connection_timeouts_total", []):
        _gauge(out, "apm_db_pool_timeouts_rpm", _apm_ident(dict(s.labels)), per_second(s.values) * 60.0)
    for s in named.get("target_info", []):
        out.add(
            {
                "__name__": "apm_agent_info",
                **_apm_ident(dict(s.labels)),
                "version": s.labels["service_version"],
            },
            s.values,
        )


# ------------------------------------------------------------------------------------- opencensus
# OpenCensus's Prometheus exporter (ochttp / ocsql views): view names with `opencensus.io/` sanitised,
# milliseconds, no `_total` suffix, its own tag keys; the service comes from Kubernetes pod labels that
# the scrape config copies onto every series (`app.kubernetes.io/name` → `app_kubernetes_io_name`).
def _oc_ident(labels: dict[str, str]) -> dict[str, str]:
    pod = labels["instance"]
    return {
        "job": "kubernetes-service-endpoints",
        "instance": f"{pod}:8888",
        "kubernetes_namespace": labels.get("service_namespace", ""),
        "kubernetes_pod_name": pod,
        "app_kubernetes_io_name": labels["service_name"],
    }


def _oc_status(labels: dict[str, str]) -> str:
    """ochttp's client status tag: the HTTP code, or "error" when the round trip itself failed."""
    code, _kind = _outcome(labels)
    return code or "error"


def _oc_counter(out: SeriesOut, name: str, labels: dict[str, str], h: Hist) -> None:
    if h.count is not None:
        out.add({"__name__": name, **labels}, h.count)


def _pool_host(labels: dict[str, str]) -> str:
    """ocsql's instance name: the database host, as on the client-call views."""
    return labels.get("db_client_connection_pool_name", "").split(":", 1)[0]


def _opencensus(series: Sequence[Series], out: SeriesOut) -> None:
    named = by_name(series)
    # children that differ only in tags a view does not keep add up (`SeriesOut.add`), as in the exporter
    for h in hist_groups(series, "http_server_request_duration_seconds"):
        ident = _oc_ident(h.labels)
        # latency is a view by route only; the status code has its own counting view
        route = {**ident, "http_server_route": h.labels["http_route"]}
        _emit_hist(out, "opencensus_io_http_server_latency", route, h, 1000.0)
        status = {**ident, "http_status": h.labels["http_response_status_code"]}
        _oc_counter(out, "opencensus_io_http_server_response_count_by_status_code", status, h)
    for h in hist_groups(series, "http_client_request_duration_seconds"):
        labels = {
            **_oc_ident(h.labels),
            "http_client_host": f"{h.labels['server_address']}:{h.labels.get('server_port', '80')}",
            "http_client_method": h.labels["http_request_method"],
            "http_client_status": _oc_status(h.labels),
        }
        _emit_hist(out, "opencensus_io_http_client_roundtrip_latency", labels, h, 1000.0)
        _oc_counter(out, "opencensus_io_http_client_completed_count", labels, h)
    for h in hist_groups(series, "db_client_operation_duration_seconds"):
        ok = "error_type" not in h.labels
        if h.labels.get("db_system_name") == "redis":
            labels = {**_oc_ident(h.labels), "redis_cmd": h.labels["db_operation_name"].lower()}
            labels |= {"redis_peer": h.labels["server_address"], "redis_status": "ok" if ok else "error"}
            _emit_hist(out, "redis_client_roundtrip_latency", labels, h, 1000.0)
        else:
            labels = {**_oc_ident(h.labels), "sql_instance": h.labels["server_address"]}
            labels |= {
                "go_sql_method": h.labels["db_operation_name"].lower(),
                "go_sql_status": "OK" if ok else "ERROR",
            }
            _emit_hist(out, "go_sql_client_latency", labels, h, 1000.0)
            _oc_counter(out, "go_sql_client_calls", labels, h)
    for h in hist_groups(series, "messaging_process_duration_seconds"):
        labels = {**_oc_ident(h.labels), "topic": h.labels["messaging_destination_name"]}
        labels["result"] = "error" if "error_type" in h.labels else "ok"
        _emit_hist(out, "worker_process_latency", labels, h, 1000.0)
    for s in named.get("db_client_connection_count", []):  # ocsql.RecordStats
        lb = dict(s.labels)
        state = "active" if lb["db_client_connection_state"] == "used" else "idle"
        ident = {**_oc_ident(lb), "sql_instance": _pool_host(lb)}
        out.add({"__name__": f"go_sql_db_connections_{state}", **ident}, s.values)
    for h in hist_groups(
        named.get("db_client_connection_wait_time_seconds_sum", [])
        + named.get("db_client_connection_wait_time_seconds_count", []),
        "db_client_connection_wait_time_seconds",
    ):
        ident = {**_oc_ident(h.labels), "sql_instance": _pool_host(h.labels)}
        if h.sum is None or h.count is None:
            continue
        out.add({"__name__": "go_sql_db_connections_wait_count", **ident}, h.count)
        out.add({"__name__": "go_sql_db_connections_wait_duration", **ident}, np.round(h.sum * 1000.0, 3))


# ------------------------------------------------------------------------------------- dogstatsd
# Datadog APM trace metrics (the tracer's stats, sent over DogStatsD and bridged to Prometheus): one
# metric family per span name (`trace.<span>.hits|errors|duration`, dots become underscores), unified
# service tagging (`service`, `env`, `version` on every point), the span's `resource_name`; durations in
# seconds, as a running total (`.duration`) and as a distribution's percentiles (`trace.<span>` with a
# `quantile` tag, over the agent's last minute). HTTP client spans count 4xx as errors (the tracer's
# default client error statuses); DB calls are their own spans (`postgres.query`, `mysql.query`,
# `redis.command`) under the calling service; dd-trace-go's `database/sql` pool stats
# (`datadog.tracer.sql.db.connections.*`). The pod is a tag (`pod_name`); no `target_info`.
_DD_QUANTILES = (0.5, 0.95, 0.99)
_DD_SPAN = {"postgresql": "postgres_query", "mysql": "mysql_query", "redis": "redis_command"}


def _dd_versions(named: dict[str, list[Series]]) -> dict[str, str]:
    return {s.labels["instance"]: s.labels.get("service_version", "") for s in named.get("target_info", [])}


def _dd_ident(labels: dict[str, str], versions: dict[str, str]) -> dict[str, str]:
    pod = labels["instance"]
    ident = {
        "job": "dogstatsd-bridge",
        "instance": "dogstatsd-bridge.datadog:9102",
        "service": labels["service_name"],
        "env": "prod",
        "kube_namespace": labels.get("service_namespace", ""),
        "pod_name": pod,
    }
    if versions.get(pod):
        ident["version"] = versions[pod]
    return ident


def _dd_span(
    out: SeriesOut, quantiles: SeriesOut, span: str, labels: dict[str, str], h: Hist, error: bool
) -> None:
    """One span's hits / errors / total duration; its latency distribution is merged over outcomes."""
    if h.count is None:
        return
    out.add({"__name__": f"trace_{span}_hits", **labels}, h.count)
    if error:
        out.add({"__name__": f"trace_{span}_errors", **labels}, h.count)
    if h.sum is not None:
        out.add({"__name__": f"trace_{span}_duration", **labels}, np.round(h.sum, 6))
    keep = {k: v for k, v in labels.items() if k not in ("http_status_code",)}
    _emit_hist(quantiles, f"trace_{span}", keep, h)


def _dd_distributions(out: SeriesOut, quantiles: SeriesOut, spans: Sequence[str]) -> None:
    for span in spans:
        for h in hist_groups(quantiles.series, f"trace_{span}"):
            for q in _DD_QUANTILES:
                _gauge(out, f"trace_{span}", {**h.labels, "quantile": str(q)}, h.quantile(q))


def _dogstatsd(series: Sequence[Series], out: SeriesOut) -> None:
    named = by_name(series)
    if not series:
        return
    versions = _dd_versions(named)
    quantiles = SeriesOut(series[0].timestamps)
    spans = ["http_request", "http_client_request", "kafka_consume", "kafka_produce", *_DD_SPAN.values()]
    for h in hist_groups(series, "http_server_request_duration_seconds"):
        code = h.labels["http_response_status_code"]
        labels = {**_dd_ident(h.labels, versions), "span_kind": "server"}
        labels["resource_name"] = f"{h.labels['http_request_method']} {h.labels['http_route']}"
        labels["http_status_code"] = code
        _dd_span(out, quantiles, "http_request", labels, h, code.startswith("5"))
    for h in hist_groups(series, "http_client_request_duration_seconds"):
        code, _kind = _outcome(h.labels)
        labels = {**_dd_ident(h.labels, versions), "span_kind": "client"}
        labels["resource_name"] = h.labels["http_request_method"]
        labels |= {"peer_service": h.labels["server_address"], "out_host": h.labels["server_address"]}
        if code:
            labels["http_status_code"] = code
        _dd_span(out, quantiles, "http_client_request", labels, h, not code or code[0] in "45")
    for h in hist_groups(series, "db_client_operation_duration_seconds"):
        labels = {**_dd_ident(h.labels, versions), "span_kind": "client"}
        labels["resource_name"] = h.labels["db_operation_name"]
        labels |= {"out_host": h.labels["server_address"], "db_system": h.labels["db_system_name"]}
        if h.labels.get("db_namespace"):
            labels["db_instance"] = h.labels["db_namespace"]
        span = _DD_SPAN.get(h.labels["db_system_name"], "sql_query")
        _dd_span(out, quantiles, span, labels, h, "error_type" in h.labels)
    for h in hist_groups(series, "messaging_process_duration_seconds"):
        labels = {**_dd_ident(h.labels, versions), "span_kind": "consumer"}
        labels["resource_name"] = f"Consume Topic {h.labels['messaging_destination_name']}"
        labels["kafka_group"] = h.labels.get("messaging_consumer_group_name", "")
        _dd_span(out, quantiles, "kafka_consume", labels, h, "error_type" in h.labels)
    for h in hist_groups(series, "messaging_client_operation_duration_seconds"):
        labels = {**_dd_ident(h.labels, versions), "span_kind": "producer"}
        labels["resource_name"] = f"Produce Topic {h.labels['messaging_destination_name']}"
        _dd_span(out, quantiles, "kafka_produce", labels, h, "error_type" in h.labels)
    _dd_distributions(out, quantiles, spans)
    _dd_pool(named, out, versions)


def _dd_pool(named: dict[str, list[Series]], out: SeriesOut, versions: dict[str, str]) -> None:
    """dd-trace-go's `database/sql` stats: gauges of Go's DBStats, WaitDuration in nanoseconds."""
    prefix = "datadog_tracer_sql_db_connections"

    def ident(lb: dict[str, str]) -> dict[str, str]:
        return {**_dd_ident(lb, versions), "db_instance": _db_of_pool(lb)}

    for s in named.get("db_client_connection_count", []):
        lb = dict(s.labels)
        state = "in_use" if lb["db_client_connection_state"] == "used" else "idle"
        out.add({"__name__": f"{prefix}_{state}", **ident(lb)}, s.values)
    for s in named.get("db_client_connection_max", []):
        out.add({"__name__": f"{prefix}_max_open", **ident(dict(s.labels))}, s.values)
    for h in hist_groups(
        named.get("db_client_connection_wait_time_seconds_sum", [])
        + named.get("db_client_connection_wait_time_seconds_count", []),
        "db_client_connection_wait_time_seconds",
    ):
        if h.sum is None or h.count is None:
            continue
        out.add({"__name__": f"{prefix}_waiting", **ident(h.labels)}, h.count)
        out.add({"__name__": f"{prefix}_wait_duration", **ident(h.labels)}, np.round(h.sum * 1e9))


CONVENTIONS: dict[str, ConventionFamily] = {
    f.name: f
    for f in (
        ConventionFamily("otel", "otel", True, "service_name", None),
        ConventionFamily("prom-client", "prom-client", True, "app", None),
        ConventionFamily("micrometer", "micrometer", True, "job", None),
        ConventionFamily("otel-legacy-ms", "otel", False, "service_name", _otel_legacy),
        ConventionFamily("statsd-mapper", "prom-client", False, "container", _statsd),
        ConventionFamily("envoy-mesh", "otel", False, "workload", _envoy),
        ConventionFamily("linkerd-proxy", "otel", False, "deployment", _linkerd),
        ConventionFamily("apm-agent", "otel", False, "entity_name", _apm),
        ConventionFamily("opencensus", "otel", False, "app_kubernetes_io_name", _opencensus),
        ConventionFamily("dogstatsd", "otel", False, "service", _dogstatsd),
    )
}

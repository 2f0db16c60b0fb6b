"""Application (service) metrics in one of three real naming conventions.

- "otel": OpenTelemetry semantic conventions through the collector's Prometheus exporter
  (`http_server_request_duration_seconds`, `db_client_operation_duration_seconds`, `target_info`...).
- "prom-client": Prometheus client-library defaults (`http_requests_total{code,handler}`,
  `http_request_duration_seconds`, `process_*`, HikariCP pool gauges, `build_info`).
- "micrometer": Spring Boot Actuator (`http_server_requests_seconds{uri,status,outcome,exception}`,
  `http_client_requests_seconds`, `hikaricp_*`, `jvm_*`, `lettuce_*`, `spring_kafka_*`).
"""

from __future__ import annotations

import hashlib

import numpy as np

from compass_lab.model import FloatArray
from compass_lab.scenarios.blueprint import STEP_S, Blueprint
from compass_lab.scenarios.series_out import CLIENT_BUCKETS, SERVER_BUCKETS, SeriesOut
from compass_lab.scenarios.simulate import Sim
from compass_lab.scenarios.state import Comp, Link, Pod, zeros
from compass_lab.scenarios.topology import Lang

# error.type for failures without an HTTP answer: Java class names, low-cardinality ids elsewhere.
_JAVA_ERR = {
    "refused": "java.net.ConnectException",
    "timeout": "java.net.SocketTimeoutException",
    "dns": "java.net.UnknownHostException",
    "tls": "javax.net.ssl.SSLHandshakeException",
    "reset": "java.net.SocketException",
}
_OTHER_ERR = {
    "refused": "connection_refused",
    "timeout": "timeout",
    "dns": "name_resolution_error",
    "tls": "tls_handshake_error",
    "reset": "connection_reset",
}
_JAVA_SIMPLE = {k: v.rsplit(".", 1)[1] for k, v in _JAVA_ERR.items()}
_DB_SYSTEM = {"postgres": "postgresql", "mysql": "mysql", "redis": "redis"}


def error_type(lang: Lang, kind: str) -> str:
    return (_JAVA_ERR if lang == "java" else _OTHER_ERR)[kind]


def pod_shares(sim: Sim, comp: Comp) -> list[tuple[Pod, np.ndarray, FloatArray]]:
    """(pod, ready mask, share of the service's traffic) for every pod that ever existed."""
    ready = [p.ready(sim.n) for p in comp.pods]
    total = np.maximum(np.sum([r.astype(np.float64) for r in ready], axis=0), 1e-9)
    return [(p, r, r.astype(np.float64) / total) for p, r in zip(comp.pods, ready, strict=True)]


def served_rate(comp: Comp) -> FloatArray:
    out: FloatArray = comp.rate * (1.0 - comp.unavailable) * (1.0 - comp.tls_fail)
    return out


def status_mix(comp: Comp, n: int) -> dict[str, FloatArray]:
    mix = {c: r for c, r in comp.err.items() if c != "write"}
    ok = np.clip(1.0 - sum(mix.values(), zeros(n)), 0.0, 1.0)
    return {"200": ok, **mix}


def route_factor(service: str, path: str) -> float:
    h = int(hashlib.sha1(f"{service}{path}".encode()).hexdigest()[:4], 16)
    return 0.7 + 0.9 * (h / 0xFFFF)


def link_outcomes(link: Link, n: int) -> dict[str, FloatArray]:
    """Outcome → ratio of client calls: HTTP codes, or a connection-level failure kind."""
    out = {c: r.copy() for c, r in link.codes.items()}
    for kind, r in link.conn_err.items():
        out[kind] = r.copy()
    ok = np.clip(1.0 - sum(out.values(), zeros(n)), 0.0, 1.0)
    return {"200": ok, **out}


def is_conn_kind(outcome: str) -> bool:
    return not outcome.isdigit()


def render_app(sim: Sim, bp: Blueprint, out: SeriesOut) -> None:
    for comp in sim.comps.values():
        if comp.node.is_service:
            _Service(sim, bp, comp, out).render()


class _Service:
    def __init__(self, sim: Sim, bp: Blueprint, comp: Comp, out: SeriesOut) -> None:
        self.sim, self.bp, self.comp, self.out = sim, bp, comp, out
        self.node = comp.node
        self.n = sim.n
        self.conv = bp.convention
        self.ns = sim.system.namespace

    def ident(self, pod: Pod) -> dict[str, str]:
        svc = self.node.name
        if self.conv == "otel":
            return {
                "job": f"{self.ns}/{svc}",
                "instance": pod.name,
                "service_name": svc,
                "service_namespace": self.ns,
            }
        base = {"job": svc, "instance": f"{pod.ip}:{self.node.port}", "namespace": self.ns, "pod": pod.name}
        if self.conv == "micrometer":
            base["application"] = svc
        return base

    def render(self) -> None:
        comp = self.comp
        rate = served_rate(comp)
        for pod, ready, share in pod_shares(self.sim, comp):
            ident = self.ident(pod)
            resets = [r for r, _ in pod.restarts]
            pod_rate = rate * share
            if self.node.tech == "worker":
                self.worker(ident, ready, resets, pod_rate)
            else:
                self.server(ident, ready, resets, pod_rate)
            for edge in self.sim.system.calls_of(self.node.name):
                if edge.protocol == "consume":
                    continue
                link = self.sim.links[(self.node.name, edge.callee)]
                self.client(ident, ready, resets, link, link.rate * share)
                if edge.protocol == "sql":
                    self.pool(ident, ready, resets, link)
            self.process(pod, ident, ready, resets)

    # ---------------------------------------------------------------------------- server side
    def server(self, ident: dict[str, str], ready: np.ndarray, resets: list[int], rate: FloatArray) -> None:
        comp, out = self.comp, self.out
        mix = status_mix(comp, self.n)
        routes = self.node.routes
        if self.conv == "prom-client":
            for route in routes:
                for code, ratio in mix.items():
                    out.counter(
                        "http_requests_total",
                        {**ident, "code": code, "method": route.method, "handler": route.path},
                        rate * route.share * ratio * STEP_S,
                        ready,
                        resets,
                        lazy=code != "200",
                    )
            out.histogram(
                "http_request_duration_seconds",
                ident,
                rate,
                comp.mean,
                comp.sigma,
                SERVER_BUCKETS,
                ready,
                resets,
            )
            return
        for route in routes:
            f = route_factor(self.node.name, route.path)
            for code, ratio in mix.items():
                if self.conv == "otel":
                    labels = {
                        **ident,
                        "http_request_method": route.method,
                        "http_route": route.path,
                        "http_response_status_code": code,
                        "url_scheme": "http",
                    }
                    if code[0] == "5":
                        labels["error_type"] = code
                    out.histogram(
                        "http_server_request_duration_seconds",
                        labels,
                        rate * route.share * ratio,
                        comp.mean * f,
                        comp.sigma,
                        SERVER_BUCKETS,
                        ready,
                        resets,
                        lazy=code != "200",
                    )
                else:
                    outcome = {"2": "SUCCESS", "4": "CLIENT_ERROR", "5": "SERVER_ERROR"}[code[0]]
                    exc = "none"
                    if code == "500":
                        exc = "RuntimeException" if self.node.lang != "java" else "IllegalStateException"
                    labels = {
                        **ident,
                        "method": route.method,
                        "uri": route.path,
                        "status": code,
                        "outcome": outcome,
                        "exception": exc,
                    }
                    out.histogram(
                        "http_server_requests_seconds",
                        labels,
                        rate * route.share * ratio,
                        comp.mean * f,
                        comp.sigma,
                        SERVER_BUCKETS,
                        ready,
                        resets,
                        lazy=code != "200",
                        with_max=True,
                    )

    def worker(self, ident: dict[str, str], ready: np.ndarray, resets: list[int], rate: FloatArray) -> None:
        comp, out = self.comp, self.out
        topic = self.node.topic
        group = self.node.name
        fail = np.clip(sum(comp.err.values(), zeros(self.n)), 0.0, 1.0)
        for ok, ratio in ((True, 1.0 - fail), (False, fail)):
            if self.conv == "otel":
                labels = {
                    **ident,
                    "messaging_system": "kafka",
                    "messaging_destination_name": topic,
                    "messaging_consumer_group_name": group,
                    "messaging_operation_name": "process",
                }
                if not ok:
                    labels["error_type"] = (
                        "java.lang.RuntimeException" if self.node.lang == "java" else "_OTHER"
                    )
                out.histogram(
                    "messaging_process_duration_seconds",
                    labels,
                    rate * ratio,
                    comp.mean,
                    comp.sigma,
                    CLIENT_BUCKETS,
                    ready,
                    resets,
                    lazy=not ok,
                )
                out.counter(
                    "messaging_client_consumed_messages_total",
                    {
                        **ident,
                        "messaging_system": "kafka",
                        "messaging_destination_name": topic,
                        "messaging_consumer_group_name": group,
                        **({} if ok else {"error_type": "_OTHER"}),
                    },
                    rate * ratio * STEP_S,
                    ready,
                    resets,
                    lazy=not ok,
                )
            elif self.conv == "prom-client":
                out.counter(
                    "messages_processed_total",
                    {**ident, "topic": topic, "status": "ok" if ok else "error"},
                    rate * ratio * STEP_S,
                    ready,
                    resets,
                    lazy=not ok,
                )
            else:
                labels = {
                    **ident,
                    "name": f"{group}-listener-0",
                    "result": "success" if ok else "failure",
                    "exception": "none" if ok else "ListenerExecutionFailedException",
                }
                out.histogram(
                    "spring_kafka_listener_seconds",
                    labels,
                    rate * ratio,
                    comp.mean,
                    comp.sigma,
                    CLIENT_BUCKETS,
                    ready,
                    resets,
                    lazy=not ok,
                    with_max=True,
                    with_buckets=False,
                )
        if self.conv == "prom-client":
            out.histogram(
                "message_processing_duration_seconds",
                {**ident, "topic": topic},
                rate,
                comp.mean,
                comp.sigma,
                CLIENT_BUCKETS,
                ready,
                resets,
            )

    # ---------------------------------------------------------------------------- client side
    def client(
        self, ident: dict[str, str], ready: np.ndarray, resets: list[int], link: Link, rate: FloatArray
    ) -> None:
        edge = link.edge
        callee = self.sim.comps[edge.callee].node
        out = self.out
        outcomes = link_outcomes(link, self.n)
        lang = self.node.lang
        for outcome, ratio in outcomes.items():
            conn = is_conn_kind(outcome)
            r = rate * ratio
            mean = np.full(self.n, 0.003) if conn and outcome != "timeout" else link.mean
            if conn and outcome == "timeout":
                mean = np.full(self.n, edge.timeout_s)
            lazy = outcome != "200"
            if self.conv == "otel":
                if edge.protocol == "http":
                    labels = {
                        **ident,
                        "http_request_method": edge.operation.split()[0],
                        "server_address": callee.name,
                        "server_port": str(callee.port),
                    }
                    if conn:
                        labels["error_type"] = error_type(lang, outcome)
                    else:
                        labels["http_response_status_code"] = outcome
                        if outcome[0] in "45":
                            labels["error_type"] = outcome
                    out.histogram(
                        "http_client_request_duration_seconds",
                        labels,
                        r,
                        mean,
                        link.sigma,
                        CLIENT_BUCKETS,
                        ready,
                        resets,
                        lazy=lazy,
                    )
                elif edge.protocol in ("sql", "redis"):
                    labels = {
                        **ident,
                        "db_system_name": _DB_SYSTEM[callee.tech],
                        "server_address": callee.name,
                        "server_port": str(callee.port),
                        "db_operation_name": edge.operation,
                    }
                    if callee.database:
                        labels["db_namespace"] = callee.database
                    if outcome != "200":
                        labels["error_type"] = error_type(lang, outcome) if conn else "db_error"
                    out.histogram(
                        "db_client_operation_duration_seconds",
                        labels,
                        r,
                        mean,
                        link.sigma,
                        CLIENT_BUCKETS,
                        ready,
                        resets,
                        lazy=lazy,
                    )
                else:  # kafka producer
                    labels = {
                        **ident,
                        "messaging_system": "kafka",
                        "messaging_operation_name": "send",
                        "messaging_destination_name": callee.topic,
                        "server_address": callee.name,
                    }
                    if outcome != "200":
                        labels["error_type"] = error_type(lang, outcome) if conn else "kafka_error"
                    out.histogram(
                        "messaging_client_operation_duration_seconds",
                        labels,
                        r,
                        mean,
                        link.sigma,
                        CLIENT_BUCKETS,
                        ready,
                        resets,
                        lazy=lazy,
                    )
                    out.counter(
                        "messaging_client_sent_messages_total",
                        {k: v for k, v in labels.items() if k != "messaging_operation_name"},
                        r * STEP_S,
                        ready,
                        resets,
                        lazy=lazy,
                    )
            elif self.conv == "prom-client":
                if edge.protocol == "http":
                    code = "error" if conn else outcome
                    out.counter(
                        "http_client_requests_total",
                        {**ident, "target": callee.name, "code": code},
                        r * STEP_S,
                        ready,
                        resets,
                        lazy=lazy,
                    )
            else:
                if edge.protocol == "http":
                    status = "CLIENT_ERROR" if conn else outcome
                    res = (
                        "UNKNOWN"
                        if conn
                        else {"2": "SUCCESS", "4": "CLIENT_ERROR", "5": "SERVER_ERROR"}[outcome[0]]
                    )
                    labels = {
                        **ident,
                        "client_name": callee.name,
                        "method": edge.operation.split()[0],
                        "uri": edge.operation.split()[1],
                        "status": status,
                        "outcome": res,
                        "exception": _JAVA_SIMPLE[outcome] if conn else "none",
                    }
                    out.histogram(
                        "http_client_requests_seconds",
                        labels,
                        r,
                        mean,
                        link.sigma,
                        CLIENT_BUCKETS,
                        ready,
                        resets,
                        lazy=lazy,
                        with_max=True,
                        with_buckets=False,
                    )
                elif edge.protocol == "redis" and outcome == "200":  # lettuce times completed commands only
                    labels = {
                        **ident,
                        "command": edge.operation,
                        "local": "ANY",
                        "remote": f"{callee.name}/<unresolved>:{callee.port}",
                    }
                    out.histogram(
                        "lettuce_command_completion_seconds",
                        labels,
                        r,
                        mean,
                        link.sigma,
                        CLIENT_BUCKETS,
                        ready,
                        resets,
                        with_max=True,
                        with_buckets=False,
                    )
                elif edge.protocol == "produce":
                    labels = {
                        **ident,
                        "name": "kafkaTemplate",
                        "result": "success" if outcome == "200" else "failure",
                        "exception": "none" if outcome == "200" else "KafkaException",
                    }
                    out.histogram(
                        "spring_kafka_template_seconds",
                        labels,
                        r,
                        mean,
                        link.sigma,
                        CLIENT_BUCKETS,
                        ready,
                        resets,
                        lazy=lazy,
                        with_max=True,
                        with_buckets=False,
                    )
        if self.conv == "prom-client" and edge.protocol == "http":
            out.histogram(
                "http_client_request_duration_seconds",
                {**ident, "target": callee.name},
                rate,
                link.mean,
                link.sigma,
                CLIENT_BUCKETS,
                ready,
                resets,
            )

    def pool(self, ident: dict[str, str], ready: np.ndarray, resets: list[int], link: Link) -> None:
        comp, out = self.comp, self.out
        callee = self.sim.comps[link.edge.callee].node
        used = comp.pool_used
        idle = np.maximum(comp.pool_max - used, 0.0)
        pending = comp.pool_pending
        timeouts = comp.pool_timeouts / max(self.node.replicas, 1) * STEP_S
        acquires = link.rate / max(self.node.replicas, 1)
        if self.conv == "otel":
            pname = f"{callee.name}:{callee.port}/{callee.database}"
            base = {**ident, "db_client_connection_pool_name": pname}
            out.gauge(
                "db_client_connection_count", {**base, "db_client_connection_state": "used"}, used, ready
            )
            out.gauge(
                "db_client_connection_count", {**base, "db_client_connection_state": "idle"}, idle, ready
            )
            out.gauge("db_client_connection_max", base, float(comp.pool_max), ready)
            out.gauge("db_client_connection_pending_requests", base, pending, ready)
            out.histogram(
                "db_client_connection_wait_time_seconds",
                base,
                acquires,
                comp.pool_wait,
                np.full(self.n, 0.8),
                CLIENT_BUCKETS,
                ready,
                resets,
            )
            out.counter("db_client_connection_timeouts_total", base, timeouts, ready, resets, lazy=True)
            return
        base = {**ident, "pool": "HikariPool-1"}
        out.gauge("hikaricp_connections_active", base, used, ready)
        out.gauge("hikaricp_connections_idle", base, idle, ready)
        out.gauge("hikaricp_connections", base, np.full(self.n, float(comp.pool_max)), ready)
        out.gauge("hikaricp_connections_max", base, float(comp.pool_max), ready)
        out.gauge("hikaricp_connections_min", base, float(min(comp.pool_max, 10)), ready)
        out.gauge("hikaricp_connections_pending", base, pending, ready)
        out.counter("hikaricp_connections_timeout_total", base, timeouts, ready, resets, integer=True)
        out.histogram(
            "hikaricp_connections_acquire_seconds",
            base,
            acquires,
            comp.pool_wait,
            np.full(self.n, 0.8),
            CLIENT_BUCKETS,
            ready,
            resets,
            with_max=True,
            with_buckets=False,
        )
        out.histogram(
            "hikaricp_connections_usage_seconds",
            base,
            acquires,
            link.mean + 0.004,
            link.sigma,
            CLIENT_BUCKETS,
            ready,
            resets,
            with_max=True,
            with_buckets=False,
        )

    # ---------------------------------------------------------------------------- process
    def process(self, pod: Pod, ident: dict[str, str], ready: np.ndarray, resets: list[int]) -> None:
        comp, out, n = self.comp, self.out, self.n
        alive = pod.alive(n)
        mem = comp.mem.get(pod.name, np.full(n, self.node.mem_base))
        starts = (
            np.full(n, self.bp.start - 86400.0 * 3 + 977.0)
            if pod.start == 0
            else np.full(n, self.bp.start + pod.start * STEP_S - 11.0)
        )
        for r in sorted(resets):
            starts[r:] = self.bp.start + r * STEP_S - 7.0
        if self.conv == "otel":
            labels = {
                **ident,
                "service_version": pod.version,
                "deployment_environment": "production",
                "service_instance_id": pod.name,
                "k8s_pod_name": pod.name,
                "k8s_namespace_name": self.ns,
                "telemetry_sdk_language": self.node.lang,
            }
            out.gauge("target_info", labels, 1.0, ready)
            return
        out.gauge(
            "up", {k: v for k, v in ident.items() if k != "application"}, ready.astype(np.float64), alive
        )
        out.counter("process_cpu_seconds_total", ident, comp.cpu * STEP_S, ready, resets, integer=False)
        out.gauge("process_start_time_seconds", ident, np.round(starts), ready)
        if self.conv == "prom-client":
            out.gauge("process_resident_memory_bytes", ident, np.round(mem * 0.96), ready)
            out.gauge(
                "build_info",
                {
                    **ident,
                    "version": pod.version,
                    "revision": hashlib.sha1(pod.version.encode()).hexdigest()[:7],
                },
                1.0,
                ready,
            )
            return
        out.gauge("process_cpu_usage", ident, comp.cpu / 4.0, ready)
        heap = {**ident, "area": "heap", "id": "G1 Old Gen"}
        out.gauge("jvm_memory_used_bytes", heap, np.round(mem * 0.55), ready)
        out.gauge("jvm_memory_max_bytes", heap, np.round(self.node.mem_limit * 0.7), ready)
        out.gauge(
            "application_ready_time_seconds",
            {**ident, "main_application_class": f"com.acme.{self.node.name.replace('-', '')}.Application"},
            np.full(n, 8.4),
            ready,
        )

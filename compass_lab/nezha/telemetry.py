"""A scenario's telemetry: the recording's metrics, spans and log lines inside its served time range.

- Metrics: every series as recorded, 1-minute resolution, labels `namespace` and what the file carries
  (`pod`, or the entry's `ServiceName`, or `source`/`destination` for the per-edge latency files).
  front_service.csv names its service `Frontend` on every day, whichever deployment took the traffic:
  its `ServiceName` is served as that entry deployment (`ts-ui-dashboard` on TrainTicket), as an
  exporter on the entry itself would label it — otherwise its requests, latency and success rate
  describe a component no trace, log or pod metric knows.
- Traces: spans sampled whole by trace id (see settings). The recording has no span kind and no status,
  so status stays unset and the kind is read off the call structure the way RPC instrumentation sets it:
  a span called from another service (or a root) is `server`, a span calling another service is
  `client`, anything else `internal`. Service = the pod's deployment; pod and namespace are resource
  attributes, as the OpenTelemetry Kubernetes attributes processor sets them.
- Logs: one Loki stream per pod/container/stdout-stderr, with the labels a promtail/Alloy Kubernetes
  setup gives them (`namespace`, `pod`, `container`, `stream`, `job="<namespace>/<app>"`, and the
  `service_name` Loki derives from the app label). Minutes the stored copy lacks stay empty.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from compass_lab.model import LogLine, LogStream, Scenario, Series, Span, SpanKind, TelemetrySet
from compass_lab.nezha.convert import DayLogs, DayMetrics, DaySpans
from compass_lab.nezha.naming import deployment_of

NS = 1_000_000_000
STEP_S = 60.0


def series_in(metrics: DayMetrics, start: float, end: float, entry: str | None = None) -> tuple[Series, ...]:
    """The series inside [start, end]; with `entry`, the entry-service file's `ServiceName` is that
    deployment's name."""
    out = []
    for i, labels in enumerate(metrics.labels):
        a, b = int(metrics.offsets[i]), int(metrics.offsets[i + 1])
        ts = metrics.ts[a:b]
        lo, hi = np.searchsorted(ts, start, "left"), np.searchsorted(ts, end, "right")
        if hi > lo:
            lbl = dict(labels)
            if entry is not None and "ServiceName" in lbl:
                lbl["ServiceName"] = entry
            out.append(Series(lbl, ts[lo:hi].copy(), metrics.values[a:b][lo:hi].copy()))
    return tuple(out)


def _kinds(pods: list[int], span_ids: list[int], parents: list[int], deps: list[str]) -> list[SpanKind]:
    dep_of_span = {sid: deps[p] for sid, p in zip(span_ids, pods, strict=True)}
    calls_out: set[int] = set()
    for pod, parent in zip(pods, parents, strict=True):
        caller = dep_of_span.get(parent)
        if caller is not None and caller != deps[pod]:
            calls_out.add(parent)
    kinds: list[SpanKind] = []
    for sid, pod, parent in zip(span_ids, pods, parents, strict=True):
        caller = dep_of_span.get(parent)
        if parent == 0 or (caller is not None and caller != deps[pod]):
            kinds.append("server")
        elif sid in calls_out:
            kinds.append("client")
        else:
            kinds.append("internal")
    return kinds


def spans_in(spans: DaySpans, start: float, end: float, namespace: str, sample: float) -> tuple[Span, ...]:
    lo = int(np.searchsorted(spans.start_ns, int(start * NS), "left"))
    hi = int(np.searchsorted(spans.start_ns, int(end * NS), "right"))
    sel = np.arange(lo, hi)
    if sample < 1.0:  # TraceIdRatioBased: the trace id's low 64 bits against the ratio
        sel = sel[spans.trace_lo[lo:hi] < np.uint64(min(int(sample * 2.0**64), 2**64 - 1))]
    deps = [deployment_of(p) for p in spans.pods]
    pods = spans.pod[sel].tolist()
    span_ids = spans.span[sel].tolist()
    parents = spans.parent[sel].tolist()
    kinds = _kinds(pods, span_ids, parents, deps)
    out = []
    for k, i in enumerate(sel.tolist()):
        pod = spans.pods[pods[k]]
        start_ns = int(spans.start_ns[i])
        out.append(
            Span(
                trace_id=f"{int(spans.trace_hi[i]):016x}{int(spans.trace_lo[i]):016x}",
                span_id=f"{span_ids[k]:016x}",
                parent_span_id=f"{parents[k]:016x}" if parents[k] else None,
                service=deps[pods[k]],
                name=spans.ops[int(spans.op[i])],
                kind=kinds[k],
                start_ns=start_ns,
                duration_ns=int(spans.end_ns[i]) - start_ns,
                resource_attributes={"k8s.pod.name": pod, "k8s.namespace.name": namespace},
            )
        )
    return tuple(out)


def logs_in(logs: DayLogs, start: float, end: float, namespace: str) -> tuple[LogStream, ...]:
    lo = int(np.searchsorted(logs.ts_ns, int(start * NS), "left"))
    hi = int(np.searchsorted(logs.ts_ns, int(end * NS), "right"))
    by_stream: dict[tuple[tuple[str, str], ...], list[LogLine]] = defaultdict(list)
    keys: dict[int, tuple[tuple[str, str], ...]] = {}
    offsets = logs.offsets
    for i in range(lo, hi):
        s = int(logs.stream[i])
        key = keys.get(s)
        if key is None:
            pod, container, stream, _node = logs.streams[s]
            app = deployment_of(pod)
            key = tuple(
                sorted(
                    {
                        "namespace": namespace,
                        "pod": pod,
                        "container": container,
                        "stream": stream,
                        "job": f"{namespace}/{app}",
                        "service_name": app,
                    }.items()
                )
            )
            keys[s] = key
        line = logs.blob[int(offsets[i]) : int(offsets[i + 1])].decode("utf-8", "replace")
        by_stream[key].append(LogLine(int(logs.ts_ns[i]), line))
    return tuple(LogStream(dict(k), tuple(v)) for k, v in sorted(by_stream.items()))


def telemetry_for(
    scenario: Scenario,
    namespace: str,
    metrics: DayMetrics,
    spans: DaySpans,
    logs: DayLogs,
    served: tuple[float, float],
    sample: float,
    entry: str | None = None,
) -> TelemetrySet:
    start, end = served
    return TelemetrySet(
        series=series_in(metrics, start, end, entry),
        log_streams=logs_in(logs, start, end, namespace),
        spans=spans_in(spans, start, end, namespace, sample),
        start=start,
        end=end,
        scrape_interval_s=STEP_S,
    )

"""Signal discovery beyond the catalog: what an unknown metric name probably measures.

The catalog knows common conventions; real systems also export `PodServerLatencyP95`,
`cpu_usage_rate`, `checkout_ops` or `success_rate`. A metric no catalog entry uses is mapped to a
canonical signal from what can be read off it, without ever inventing a name:

- name tokens (snake_case, camelCase, dots): `latency`/`duration`/`rt` + a quantile → latency;
- the Prometheus type and unit, from the name suffix (`_total`, `_bucket`, `_seconds`, `_ms`) or
  from the metric metadata (TYPE, UNIT, HELP) when the datasource serves it;
- the HELP text, tokenised the same way.

Each mapping becomes a `CatalogEntry` of family `inferred` with a PromQL template and a confidence.
The engine fetches it like any catalog entry, validates the values it gets (a ratio must look like a
ratio) and weighs it less than a catalog mapping (`SignalSeries.trust`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from compass_worker.signals.catalog import CatalogEntry, ComponentKind, SignalCatalog
from compass_worker.signals.naming import normalise

# Labels that name a component, most specific first. `pod` goes late: its values carry
# Deployment/StatefulSet suffixes that `naming.normalise` strips.
IDENTITY_LABELS: tuple[str, ...] = (
    "service_name",
    "service",
    "svc",
    "app",
    "application",
    "workload",
    "deployment",
    "component",
    "container",
    "pod",
    "job",
    "instance",
    # spellings seen in exports that are no Prometheus convention (CSV columns turned into labels)
    "ServiceName",
    "PodName",
    "pod_name",
    "workload_name",
    "app_name",
)
QUEUE_LABELS: tuple[str, ...] = ("topic", "queue", "stream", "partition_topic")
GROUP_LABELS: tuple[str, ...] = ("consumergroup", "consumer_group", "group", "subscription")

_TRUST_MAX = 0.85  # an inferred mapping never weighs as much as a catalog one

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_QUANTILE = re.compile(r"^(?:p|pct|percentile)(\d{2,3})$")


def tokens(text: str) -> tuple[str, ...]:
    """`PodServerLatencyP95` → (pod, server, latency, p95); `http.server.duration_ms` → (http, ..., ms)."""
    out: list[str] = []
    for part in _SPLIT.split(text):
        if part:
            out.extend(p.lower() for p in _CAMEL.split(part) if p)
    return tuple(out)


@dataclass(frozen=True)
class MetricMeta:
    """What the datasource says about a metric (Prometheus `/api/v1/metadata`); all optional."""

    type: str = ""  # counter | gauge | histogram | summary | unknown
    unit: str = ""
    help: str = ""


@dataclass(frozen=True)
class InferredMapping:
    """One inferred mapping: `metric` probably measures `signal`, with `confidence` in 0..1."""

    metric: str
    signal: str
    kind: ComponentKind
    form: str  # gauge | rate | increase | histogram | ratio_of | gauge_ratio | one_minus | status_ratio
    # | status_rate (requests per second whose status is in a class)
    confidence: float
    reason: str
    scale: float = 1.0  # multiply values by this (ms → s, percent → ratio)
    partner: str | None = None  # the denominator of a ratio_of / gauge_ratio form
    status_label: str | None = None  # status_ratio: the label whose error values are the numerator
    counter: bool = False  # status_ratio: the metric is a counter (rate) rather than a per-second gauge
    edge: bool = False  # measured by a caller about a callee: needs a peer label
    # The unit was claimed from outside (a proposal said "ratio"): values that contradict it reject the
    # mapping instead of being rescaled to fit.
    unit_claimed: bool = False
    # A latency read as a level whose sibling counts the same events (`x_duration` beside `x_hits`): if
    # the values turn out to be a running total of time spent, its rate over that count is the mean.
    events: str | None = None

    def mean_of_total(self) -> InferredMapping | None:
        """This running total of time spent over the count of its events: the mean latency per event."""
        if self.events is None or self.form != "gauge":
            return None
        return replace(
            self,
            form="ratio_of",
            partner=self.events,
            events=None,
            confidence=round(self.confidence - 0.05, 3),
            reason=f"{self.reason}, a running total of time over {self.events}",
        )

    @property
    def family(self) -> str:
        # One metric may stand for several signals: a status ratio, or the caller's view of a metric
        # that names both ends of a call (source and destination workload).
        by_signal = self.form in ("status_ratio", "status_rate") or self.signal.startswith("client_")
        return f"inferred:{self.metric}" + (f":{self.signal}" if by_signal else "")

    def entry(
        self,
        present: Iterable[str],
        catalog_order: Iterable[str] = (),
        values: Mapping[str, Iterable[str]] | None = None,
    ) -> CatalogEntry | None:
        """The catalog entry this mapping stands for, given the labels its metric carries; None when
        none of them names a component (or, for a caller's view of a callee, no label names the peer).
        Components are named the way the catalog's conventions for the same signal name them
        (`catalog_order` first), so that both agree on what a component is."""
        have = set(present)
        own = (*QUEUE_LABELS, *IDENTITY_LABELS) if self.signal == "queue_lag" else IDENTITY_LABELS
        # Label keys no list names, read by their tokens (`apm_service`, `source_workload`,
        # `destination_workload`, `dst_deployment`): who is measured, who called, who was called.
        roles = {lbl: label_role(lbl) for lbl in sorted(have)}
        named = tuple(lbl for lbl, r in roles.items() if r == "identity")
        # A call's far end by its address (`out_host`) before a store's instance key, which may name a
        # database inside the server (`db_instance="kyc"` on calls to `kyc-pg`): the address is what
        # the rest of the telemetry calls the callee.
        dests = tuple(
            sorted(
                (lbl for lbl, r in roles.items() if r == "destination"),
                key=lambda lbl: not set(tokens(lbl)) & _ADDR_T,
            )
        )
        sources = tuple(lbl for lbl, r in roles.items() if r == "source")
        order = tuple(dict.fromkeys((*catalog_order, *own, *named)))
        comp = tuple(lbl for lbl in order if lbl in have and lbl not in PEER_LABELS and lbl not in dests)
        both_ends = bool(dests or set(PEER_LABELS) & have) and bool(sources or comp)
        if self.edge:
            comp = tuple(dict.fromkeys((*sources, *comp)))  # the caller: whoever the source label names
        elif both_ends and dests and self.signal in _CALL_SIGNALS:
            # A call between two named workloads, seen from the server's side: the destination.
            comp = dests[:1]
        if values is not None and len(comp) > 1:
            # A label with one value on every series (job="statsd-exporter") names the exporter, not
            # the components: prefer labels that tell components apart.
            telling = tuple(
                lbl for lbl in comp if len({normalise(v, label=lbl) for v in values.get(lbl, ())}) > 1
            )
            comp = telling or comp
        peers = tuple(dict.fromkeys(lbl for lbl in (*PEER_LABELS, *dests) if lbl in have))
        if not comp or (self.edge and not peers):
            return None
        if QUANTILE_LABEL in have and self.signal not in ("latency", "client_latency"):
            # A summary's quantiles (`trace_http_request{quantile="0.99"}`) are values of a distribution
            # of the requests (their durations), never a count of them nor a ratio.
            return None
        if self.form == "status_rate" and values is not None and self.status_label:
            # Only exact codes can say 429: a status class (`4xx`) would read as "never throttled".
            codes = values.get(self.status_label, ())
            if not any(_EXACT_STATUS.fullmatch(v) for v in codes):
                return None
        caller = (
            next((lbl for lbl in GROUP_LABELS if lbl in have), None) if self.signal == "queue_lag" else None
        )
        query = self.entry_query()
        if caller:
            query = query.replace("by ({by}", f"by ({{by}}, {caller}")
        store = _store_kind(self.metric, have)
        return CatalogEntry(
            signal=self.signal,
            family=self.family,
            # calls to a store (`trace_postgres_query_duration` by `out_host`) name a database or a
            # cache at their far end: its own view says so, and so does a caller's view of the edge
            kind=store if store and comp == dests[:1] and not self.edge else self.kind,
            peer_kind=store if self.edge else None,
            requires=(self.metric,) if self.partner is None else (self.metric, self.partner),
            component_labels=comp,
            caller_label=caller,
            edge=self.edge,
            peer_labels=peers if self.edge else (),
            query=query,
        )

    def entry_query(self) -> str:
        """The query template of this mapping's entry (`{by}`, `{peer}`, `{rate}` to fill)."""
        query = self._query()
        return query.replace("by ({by}", "by ({by}, {peer}") if self.edge else query

    def derived(self, present: Iterable[str], names: frozenset[str]) -> list[InferredMapping]:
        """Signals the same metric also carries: a histogram's `_count` is a request rate, and a
        status label on requests gives their error ratio (`status_class="5xx"`, `code="503"`)."""
        have = set(present)
        out: list[InferredMapping] = []
        if not self.edge and self.signal in ("latency", "requests") and _names_both_ends(have):
            # The same calls seen from the caller: per (source, destination) an edge.
            view = replace(
                self, signal=f"client_{self.signal}", edge=True, reason=f"{self.reason}, per caller"
            )
            out += view.derived(present, names) if view.signal == "client_requests" else [view]
            if view.signal == "client_latency":
                out += [m for m in view.derived(present, names) if m.signal == "client_error_ratio"]
        base = self
        if self.form == "histogram" and self.signal in ("latency", "client_latency"):
            count = self.metric.removesuffix("_bucket") + "_count"
            if count not in names:
                return []
            base = replace(
                self,
                metric=count,
                signal="requests" if self.signal == "latency" else "client_requests",
                form="rate",
                scale=1.0,
                reason="histogram count",
            )
            if base.signal == "requests":
                out.append(base)
        if base.signal not in ("requests", "client_requests"):
            return out
        status = status_label(have)
        if status is not None and base.signal == "client_requests":
            # The caller's count of answers by status also tells when the callee throttled it (429).
            out.append(
                replace(
                    base,
                    signal="client_throttled",
                    form="status_rate",
                    status_label=status,
                    counter=base.form == "rate",
                    confidence=round(base.confidence - 0.05, 3),
                    reason=f"{base.reason}, throttled answers by {status}",
                )
            )
        if status is not None:
            out.append(
                replace(
                    base,
                    signal="error_ratio" if base.signal == "requests" else "client_error_ratio",
                    form="status_ratio",
                    status_label=status,
                    counter=base.form == "rate",
                    confidence=round(base.confidence - 0.05, 3),
                    reason=f"{base.reason}, errors by {status}",
                )
            )
        return out

    def _query(self) -> str:
        m = self.metric
        scale = f" * {self.scale:g}" if self.scale != 1.0 else ""
        if self.form == "histogram":
            return f"histogram_quantile(0.95, sum by ({{by}}, le) (rate({m}[{{rate}}]))){scale}"
        if self.form == "rate":
            return f"sum by ({{by}}) (rate({m}[{{rate}}])){scale}"
        if self.form == "increase":
            return f"sum by ({{by}}) (increase({m}[{{rate}}]))"
        if self.form == "ratio_of" and self.partner:
            num = f"sum by ({{by}}) (rate({m}[{{rate}}]))"
            ratio = f"{num} / sum by ({{by}}) (rate({self.partner}[{{rate}}]) > 0)"
            return f"({ratio}){scale}" if scale else ratio
        if self.form == "gauge_ratio" and self.partner:
            return f"max by ({{by}}) ({m}) / max by ({{by}}) ({self.partner} > 0)"
        if self.form == "status_ratio" and self.status_label:
            sel = f'{{{self.status_label}=~"{ERROR_VALUES}"}}'
            if self.counter:
                num, den = f"rate({m}{sel}[{{rate}}])", f"rate({m}[{{rate}}])"
            else:
                num, den = f"{m}{sel}", m
            # A component with no failing series yet has a ratio of 0, not none (its baseline counts).
            total = f"sum by ({{by}}) ({den})"
            return f"(sum by ({{by}}) ({num}) or {total} * 0) / {total}"
        if self.form == "status_rate" and self.status_label:
            sel = f'{{{self.status_label}=~"{THROTTLED_VALUES}"}}'
            num, den = (
                (f"rate({m}{sel}[{{rate}}])", f"rate({m}[{{rate}}])") if self.counter else (f"{m}{sel}", m)
            )
            # No throttled answer yet is a rate of 0, not none (the baseline counts).
            return f"(sum by ({{by}}) ({num}) or sum by ({{by}}) ({den}) * 0){scale}"
        if self.form == "one_minus":
            return f"1 - min by ({{by}}) ({m}){scale}"  # the worst replica's success
        agg = "sum" if self.signal in ("queue_lag", "requests") else "max"
        return f"{agg} by ({{by}}) ({m}){scale}"


# A summary's quantile label: its series are values of a distribution (asked for in the presence query).
QUANTILE_LABEL = "quantile"
# Labels that name the callee in a caller's metrics, and those that classify a request's outcome.
PEER_LABELS: tuple[str, ...] = (
    "upstream",
    "peer",
    "peer_service",
    "net_peer_name",
    "server_address",
    "destination_service_name",
    "destination_workload",
    "dst_deployment",
    "target_service",
    "downstream",
    "db_name",
)
STATUS_LABELS: tuple[str, ...] = (
    "status_class",
    "status_code",
    "http_status_code",
    "http_response_status_code",
    "response_code",
    "code",
    "status",
    "grpc_code",
    "outcome",
    "classification",
    "result",
)
# Values of those labels that mean the request failed on the server side (or did not connect).
ERROR_VALUES = (
    "5..|5xx|5XX|[Ee]rr.*|ERR.*|.*_error|[Ff]ail.*"
    "|FAILURE|SERVER_ERROR|UNAVAILABLE|INTERNAL|Unavailable|Internal"
)


# Values of those labels that mean the callee refused the call for its rate (HTTP 429, gRPC's
# RESOURCE_EXHAUSTED): a class (`4xx`) says too little and is not matched.
THROTTLED_VALUES = "429|RESOURCE_EXHAUSTED|[Tt]hrottl.*|[Rr]ate_?[Ll]imit.*|TooManyRequests"
_EXACT_STATUS = re.compile(r"\d{3}|[A-Z_]{4,}|" + THROTTLED_VALUES)


# Label keys read by their tokens: a key naming a workload (service, app, deployment...), and whether it
# names the caller or the callee of a call. Namespaces, versions and ids name no component.
_WHO_T = frozenset({"service", "svc", "app", "application", "workload", "deployment", "component"})
_NOT_WHO_T = frozenset(
    {"namespace", "ns", "version", "revision", "port", "id", "uid", "kind", "type", "instance"}
)
_SRC_T = frozenset({"source", "src", "from", "caller", "origin"})
_DST_T = frozenset({"destination", "dst", "dest", "target", "to", "callee", "upstream", "peer", "remote"})
# Signals of a call (its time, its count, its failures): what a two-ended metric measures.
_CALL_SIGNALS = frozenset({"latency", "requests", "error_ratio"})


# A label naming a call's other end by its address (`http_client_host`, `upstream_addr`): an address
# word, and a word saying it is the far end or the client's view.
_ADDR_T = frozenset({"host", "address", "addr", "authority", "endpoint"})
_FAR_T = _DST_T | {"client", "server", "out", "outbound"}  # `out_host`: the host a call went out to
# A data store's instance as its client names it (`sql_instance`, `db_instance`, `cache_host`): there
# `instance` is the store called, not the scrape target.
_STORE_T = frozenset({"sql", "db", "database", "redis", "cache", "mongo", "broker"})
# Label keys saying how a request ended (`http_status`, `http_client_status`, `sql_status`); sizes and
# counts of codes are no outcome.
_OUTCOME_T = frozenset({"status", "code", "outcome", "result", "classification"})
_NOT_OUTCOME_T = frozenset({"size", "bytes", "count", "total", "message", "text", "reason", "description"})


def status_label(have: Iterable[str]) -> str | None:
    """The label classifying a request's outcome: a listed spelling, else one read by its tokens."""
    present = set(have)
    listed = next((lbl for lbl in STATUS_LABELS if lbl in present), None)
    if listed is not None:
        return listed
    return next((lbl for lbl in sorted(present) if is_status_label(lbl)), None)


def is_status_label(label: str) -> bool:
    toks = set(tokens(label))
    return bool(toks & _OUTCOME_T) and not toks & _NOT_OUTCOME_T and not toks & _WHO_T


def label_role(label: str) -> str | None:
    """ "identity", "source", "destination" or None, from the label key's tokens."""
    toks = set(tokens(label))
    if toks & _ADDR_T and toks & _FAR_T and not toks & _NOT_WHO_T - {"instance"}:
        return "destination"
    if toks & _STORE_T and toks & (_ADDR_T | {"instance"}) and not toks & _NOT_WHO_T - {"instance"}:
        return "destination"
    if not toks & _WHO_T or toks & _NOT_WHO_T:
        return None
    if toks & _DST_T:
        return "destination"
    if toks & _SRC_T:
        return "source"
    return "identity"


_STORE_KINDS: dict[str, ComponentKind] = {
    "postgres": "database", "postgresql": "database", "pg": "database", "mysql": "database",
    "mariadb": "database", "sql": "database", "mongo": "database", "mongodb": "database",
    "redis": "cache", "memcached": "cache", "memcache": "cache",
}  # fmt: skip


def _store_kind(metric: str, have: set[str]) -> ComponentKind | None:
    """The kind of store a call metric's far end is, from the name's tokens (`postgres`, `redis`)."""
    if not any(label_role(lbl) == "destination" for lbl in have):
        return None
    return next((_STORE_KINDS[t] for t in tokens(metric) if t in _STORE_KINDS), None)


def _names_both_ends(have: set[str]) -> bool:
    roles = {label_role(lbl) for lbl in have}
    return "destination" in roles and ("source" in roles or bool(set(IDENTITY_LABELS) & have))


# ------------------------------------------------------------------ token vocabularies

_LATENCY = frozenset({"latency", "duration", "rt", "elapsed", "responsetime", "lat", "delay"})
_TIME_UNITS = {"seconds": 1.0, "second": 1.0, "sec": 1.0, "s": 1.0, "ms": 1e-3, "milliseconds": 1e-3,
               "millis": 1e-3, "us": 1e-6, "microseconds": 1e-6, "micros": 1e-6, "ns": 1e-9,
               "nanoseconds": 1e-9}  # fmt: skip
_ERROR = frozenset(
    {"error", "errors", "err", "errs", "fail", "failed", "failure", "failures", "5xx", "fault"}
)
_SUCCESS = frozenset({"success", "successful", "succeeded", "ok", "availability"})
_RATIO = frozenset({"ratio", "rate", "percent", "pct", "percentage", "fraction", "share"})
_REQUESTS = frozenset(
    {"requests", "request", "reqs", "req", "calls", "call", "ops", "operations", "qps", "rps", "tps",
     "throughput", "workload", "hits", "invocations", "transactions"}
)  # fmt: skip
_CPU = frozenset({"cpu", "cpus", "processor"})
_MEMORY = frozenset({"memory", "mem", "rss", "heap", "ram"})
_USAGE = frozenset({"usage", "used", "utilization", "utilisation", "util", "use", "load", "busy", "rate"})
_RESTART = frozenset({"restart", "restarts", "restarted", "crash", "crashes", "crashloop"})
_LAG = frozenset({"lag", "backlog", "behind", "pending", "unacked", "undelivered", "depth"})
_QUEUE = frozenset(
    {"queue", "consumer", "consumergroup", "topic", "partition", "messages", "message", "kafka"}
)
_HEALTH = frozenset({"up", "healthy", "health", "alive", "ready"})
_NOT_DURATION = frozenset(
    {"start", "ready", "uptime", "created", "timestamp", "last", "boot", "expiry", "expire", "since", "epoch"}
)
_HOST = frozenset({"node", "host", "machine", "vm", "instance"})
_BYTE_UNITS = {"bytes": 1.0, "byte": 1.0, "b": 1.0, "ki": 1024.0, "kib": 1024.0, "kb": 1e3, "mi": 2.0**20,
               "mib": 2.0**20, "mb": 1e6, "gi": 2.0**30, "gib": 2.0**30, "gb": 1e9}  # fmt: skip
_CLIENT = frozenset({"client", "outbound", "egress", "downstream", "upstream", "peer"})
_SIZE_T = frozenset({"size", "bytes", "byte", "length", "body", "time", "seconds"})
_ANSWERED = frozenset({"response", "responses", "completed", "handled", "served"})


def _time_scale(toks: Iterable[str], meta: MetricMeta) -> float | None:
    unit = meta.unit.lower()
    if unit in _TIME_UNITS:
        return _TIME_UNITS[unit]
    for t in reversed(tuple(toks)):
        if t in _TIME_UNITS:
            return _TIME_UNITS[t]
    return None


def infer(
    metric: str, meta: MetricMeta | None = None, siblings: frozenset[str] = frozenset()
) -> InferredMapping | None:
    """The signal `metric` most probably measures, or None when nothing fits well enough.

    `siblings` are the other metric names present (for an error counter's request denominator)."""
    meta = meta or MetricMeta()
    return _with_percent(_infer(metric, meta, siblings), tokens(metric), meta)


def _infer(metric: str, meta: MetricMeta, siblings: frozenset[str]) -> InferredMapping | None:
    name_toks = tokens(metric)
    help_toks = frozenset(tokens(meta.help))
    toks = frozenset(name_toks)
    both = toks | help_toks
    mtype = meta.type.lower()
    suffix = name_toks[-1] if name_toks else ""
    # A count of requests answered needs no `_total` to be a counter (OpenCensus's exporter writes
    # `..._completed_count`, `..._response_count_by_status_code`); a count of connections is a gauge.
    counted = "count" in toks and bool(toks & _ANSWERED) and not toks & (_POOL_T | _LATENCY)
    # Hits and invocations are events counted, never a level (Datadog's `trace_<span>_hits`): a
    # per-second level says so (`_per_second`, `rps`).
    hits = suffix in _HITS and not toks & _RATIO
    counter = mtype == "counter" or suffix == "total" or (not mtype and (counted or hits))
    histogram = metric.endswith("_bucket") or mtype == "histogram"
    stem = metric.rsplit("_", 1)[0]
    part = metric.endswith(("_sum", "_count")) and {f"{stem}_sum", f"{stem}_count"} <= siblings | {metric}
    if part or metric.endswith(("_created", "_info")):
        return None  # parts of a summary/histogram, or info metrics: not a signal by themselves
    quantile = next((m.group(1) for t in name_toks if (m := _QUANTILE.match(t))), None)
    from_help = bool(help_toks) and not (toks & (both - help_toks))

    def conf(base: float, name_hit: bool) -> float:
        # Name tokens are what the team chose to call it; HELP text alone is a weaker hint.
        c = base if name_hit else base - 0.1
        if meta.type:
            c += 0.05
        return round(min(_TRUST_MAX, c), 3)

    # latency: duration-like tokens (or a time unit with a quantile)
    scale = _time_scale(name_toks, meta) or _time_scale(tokens(meta.help), MetricMeta())
    lat_name = bool(toks & _LATENCY) or {"response", "time"} <= toks
    lat_help = bool(help_toks & _LATENCY) or {"response", "time"} <= help_toks
    timestamp_like = bool(toks & _NOT_DURATION)
    timer = scale is not None and not counter and not timestamp_like
    if (lat_name or lat_help or (timer and quantile)) and not counter and not timestamp_like:
        # A caller's view of its callees (client / upstream): an edge, usable only where a label names
        # the peer (checked when the metric's labels are known).
        client = bool(toks & _CLIENT)
        form = "histogram" if histogram else "gauge"
        why = (
            "duration tokens" + (f", p{quantile}" if quantile else "") + (", histogram" if histogram else "")
        )
        return InferredMapping(
            metric,
            "client_latency" if client else "latency",
            "service",
            form,
            conf(0.75, lat_name),
            why + (", caller side" if client else ""),
            scale or 1.0,
            edge=client,
            events=None if histogram or quantile else _event_count(name_toks, siblings),
        )

    if histogram:
        return None
    if timer and suffix in ("max", "mean", "avg", "seconds", "ms"):
        # A timer's max/mean with no latency word (`checkout_calls_seconds_max`): latency, less sure.
        return InferredMapping(metric, "latency", "service", "gauge", conf(0.6, True), "time unit on a gauge",
                               scale or 1.0)  # fmt: skip
    # error ratio: an error gauge in ratio form, or an error counter over a sibling request counter
    if toks & _ERROR or (not toks & _SUCCESS and help_toks & _ERROR and from_help):
        if counter:
            partner = _request_partner(metric, siblings)
            if partner is None:
                return None
            return InferredMapping(metric, "error_ratio", "service", "ratio_of", conf(0.7, True),
                            f"error counter over {partner}", partner=partner)  # fmt: skip
        if toks & _RATIO or "ratio" in meta.unit.lower() or "percent" in meta.unit.lower():
            return InferredMapping(
                metric, "error_ratio", "service", "gauge", conf(0.7, True), "error + ratio tokens"
            )
        return None
    if toks & _SUCCESS and (toks & _RATIO or toks & {"ratio"}):
        return InferredMapping(
            metric, "error_ratio", "service", "one_minus", conf(0.65, True), "success ratio, inverted"
        )

    # CPU and memory. A node's or host's resources are not the service's (the host is evidence, the
    # service the answer): they are left to the catalog's host conventions.
    if toks & _HOST and toks & (_CPU | _MEMORY):
        return None
    if toks & _CPU:
        if counter and (scale == 1.0 or "seconds" in toks):
            return InferredMapping(
                metric, "cpu_usage", "service", "rate", conf(0.75, True), "CPU seconds counter"
            )
        if suffix in ("m", "millicores", "mcpu") or meta.unit in ("millicores", "m"):
            return InferredMapping(
                metric, "cpu_usage", "service", "gauge", conf(0.7, True), "CPU millicores", 1e-3
            )
        if toks & _USAGE or toks & _RATIO or "ratio" in meta.unit:
            return InferredMapping(
                metric, "cpu_utilization", "service", "gauge", conf(0.7, True), "CPU usage tokens"
            )
        return None
    if toks & _MEMORY:
        size = _BYTE_UNITS.get(suffix) or _BYTE_UNITS.get(meta.unit.lower())
        if size is not None or toks & {"rss"}:
            return InferredMapping(
                metric, "memory_bytes", "service", "gauge", conf(0.7, True), "memory size", size or 1.0
            )
        if toks & _USAGE or toks & _RATIO:
            return InferredMapping(
                metric, "memory_utilization", "service", "gauge", conf(0.65, True), "memory usage ratio"
            )
        return None
    pool = _pool(metric, toks, counter, siblings, conf)
    if pool is not None:
        return pool
    if toks & _RESTART:
        form = "increase" if counter else "gauge"
        return InferredMapping(metric, "restarts", "service", form, conf(0.75, True), "restart tokens")
    if toks & _LAG and (toks & _QUEUE or help_toks & _QUEUE or "lag" in toks):
        return InferredMapping(metric, "queue_lag", "queue", "gauge", conf(0.7, True), "lag tokens")
    per_time = {"per", "second"} <= toks or bool(toks & {"rps", "rpm", "qps", "tps"}) or "per_sec" in metric
    # A counter of responses is a counter of requests answered (`response_total`); a response's size
    # or time is not.
    answered = counter and bool(toks & _ANSWERED) and not toks & (_SIZE_T | _LATENCY)
    if toks & _REQUESTS or per_time or answered or (help_toks & _REQUESTS and from_help):
        form = "rate" if counter else "gauge"
        rpm = 1.0 / 60.0 if "rpm" in toks or {"per", "minute"} <= toks else 1.0
        client = bool(toks & _CLIENT)
        return InferredMapping(
            metric,
            "client_requests" if client else "requests",
            "service",
            form,
            conf(0.7, bool(toks & _REQUESTS) or per_time or answered),
            "request tokens" + (", caller side" if client else ""),
            rpm,
            edge=client,
        )

    if suffix in _HEALTH and len(name_toks) > 1 and not counter:
        return InferredMapping(metric, "available", "service", "gauge", conf(0.6, True), "health flag")
    return None


_RATIO_SIGNALS = frozenset(
    {"error_ratio", "cpu_utilization", "memory_utilization", "pool_utilization", "available"}
)
_PERCENT = frozenset({"percent", "pct", "percentage"})
# A percentage of a limit read as a ratio may exceed 1 (CPU over its request, several cores busy);
# beyond this the values are no percentage of anything.
_OVER_LIMIT_MAX = 64.0


def _with_percent(
    m: InferredMapping | None, name_toks: tuple[str, ...], meta: MetricMeta
) -> InferredMapping | None:
    """A ratio signal whose name or unit says percent is read as a ratio (×0.01) from the start."""
    if m is None or m.signal not in _RATIO_SIGNALS or m.form not in ("gauge", "one_minus"):
        return m
    if not (set(name_toks[-2:]) & _PERCENT or meta.unit.lower() in _PERCENT):
        return m
    return replace(m, scale=0.01, reason=f"{m.reason}, percent")


_POOL_T = frozenset({"pool", "dbpool", "connpool", "connections", "connection", "conns", "conn", "hikari"})
_POOL_USED = frozenset({"active", "used", "busy", "inuse", "use", "leased", "checked"})
_POOL_MAX = frozenset({"max", "limit", "capacity", "size", "maximum"})


def _pool(
    metric: str,
    toks: frozenset[str],
    counter: bool,
    siblings: frozenset[str],
    conf: Callable[[float, bool], float],
) -> InferredMapping | None:
    """A connection pool: used / max (only with its max beside it: a count alone is no ratio),
    requests waiting for a connection, and acquire timeouts."""
    if not toks & _POOL_T:
        return None
    if toks & _POOL_USED and not toks & _POOL_MAX:
        prefix = [t for t in tokens(metric) if t not in _POOL_USED and t not in ("in",)]
        for sib in sorted(siblings):
            st = tokens(sib)
            if (
                sib != metric
                and set(st) & _POOL_MAX
                and [t for t in st if t not in _POOL_MAX and t != "open"] == prefix
            ):
                why = f"pool used / {sib}"
                return InferredMapping(
                    metric, "pool_utilization", "service", "gauge_ratio", conf(0.65, True), why, partner=sib
                )
        return None
    if toks & {"pending", "waiting", "queued", "wait"} and not toks & {
        "duration",
        "seconds",
        "time",
        "count",
    }:
        return InferredMapping(metric, "pool_pending", "service", "gauge", conf(0.6, True), "pool waiters")
    if toks & {"timeout", "timeouts"}:
        form = "rate" if counter else "gauge"
        return InferredMapping(metric, "pool_timeouts", "service", form, conf(0.6, True), "pool timeouts")
    return None


_EVENT_COUNT = _REQUESTS | {"count", "total"}
_HITS = frozenset({"hits", "invocations"})


def _event_count(name_toks: tuple[str, ...], siblings: frozenset[str]) -> str | None:
    """`trace_http_request_duration` → `trace_http_request_hits`: the sibling that counts the events
    whose time a duration sums (the same name, a count word in place of the duration and unit words)."""
    stem = [t for t in name_toks if t not in _LATENCY and t not in _TIME_UNITS]
    if not stem or len(stem) == len(name_toks):
        return None
    for s in sorted(siblings):
        st = tokens(s)
        if list(st[: len(stem)]) == stem and st[len(stem) :] and set(st[len(stem) :]) <= _EVENT_COUNT:
            return s
    return None


def _request_partner(metric: str, siblings: frozenset[str]) -> str | None:
    """`checkout_errors_total` → `checkout_requests_total` (same prefix, request tokens, a counter)."""
    toks = tokens(metric)
    prefix = [t for t in toks if t not in _ERROR and t != "total"]
    best: tuple[int, str] | None = None
    for s in sorted(siblings):
        st = tokens(s)
        if s == metric or not (frozenset(st) & _REQUESTS) or frozenset(st) & _ERROR:
            continue
        if st[-1] != "total" and not s.endswith("_count"):
            continue
        shared = sum(1 for a, b in zip(prefix, st, strict=False) if a == b)
        if shared and (best is None or shared > best[0]):
            best = (shared, s)
    return best[1] if best else None


# First name tokens too generic to mark a whole namespace as the catalog's (`http_req_latency_ms`
# is not covered just because `http_requests_total` is).
_GENERIC_PREFIX = frozenset(
    {"http", "https", "rpc", "grpc", "db", "app", "api", "service", "svc", "server", "client", "request",
     "requests", "pod", "container", "go", "process"}
)  # fmt: skip
# Runtime and library namespaces: internals (GC, threads, client libraries), not service signals.
_RUNTIME_PREFIX = frozenset(
    {"python", "jvm", "dotnet", "nodejs", "promhttp", "scrape", "prometheus", "otelcol",
     "lettuce", "spring", "tomcat", "executor", "logback", "system", "disk", "application", "target"}
)  # fmt: skip


def covered_by_catalog(catalog: SignalCatalog, names: Iterable[str]) -> frozenset[str]:
    """Names the catalog speaks for: those an entry, version or placement uses, and every name in the
    namespace of an exporter the catalog knows (`coredns_*`, `redis_*`, `node_*`): what the catalog
    leaves out of a known exporter it leaves out on purpose. Runtime internals count as covered too."""
    used: set[str] = set()
    for e in catalog.entries:
        used.update(e.requires)
        used.update(e.unless_present)
        used.update(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e.query))
    used.update(p.metric for p in catalog.placements)
    used.update(v.metric for v in catalog.versions if v.metric)
    namespaces = {u.split("_")[0] for u in used if "_" in u} - _GENERIC_PREFIX
    namespaces |= _RUNTIME_PREFIX
    bases = {_base(u) for u in used}
    return frozenset(
        n for n in names if n in used or _base(n) in bases or ("_" in n and n.split("_")[0] in namespaces)
    )


def _base(name: str) -> str:
    """A histogram's or timer's family name: `x_seconds_bucket` / `_sum` / `_count` / `_max` → `x_seconds`."""
    for suffix in ("_bucket", "_sum", "_count", "_max", "_created"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def infer_all(
    catalog: SignalCatalog,
    names: Iterable[str],
    meta: Mapping[str, MetricMeta] | None = None,
    limit: int = 24,
    quantile: int | None = None,
) -> list[InferredMapping]:
    """Mappings for the names the catalog does not use, best first, at most one per (signal, metric
    stem) and `limit` in all (every mapping costs a query). Of several quantiles of one latency the
    one the alert names (`quantile`) is read where that family records it, else the one nearest p95."""
    all_names = frozenset(names)
    unknown = sorted(all_names - covered_by_catalog(catalog, all_names))
    meta = meta or {}
    found: list[InferredMapping] = []
    for name in unknown:
        base = name.removesuffix("_bucket")
        m = infer(name, meta.get(base) or meta.get(name), all_names)
        if m is not None and (m.signal in catalog.signals or m.signal == "client_requests"):
            found.append(m)
    found.sort(key=lambda m: (-m.confidence, m.signal, m.metric))
    # Several quantiles of one latency (P50, P90, P95, P99): one is enough — the one the engineer
    # looked at when the family has it (what the symptom says moved), else the one nearest p95.
    seen: set[tuple[str, tuple[str, ...]]] = set()
    picked: list[InferredMapping] = []

    def order(m: InferredMapping) -> tuple[float, bool, int, str]:
        named = quantile is not None and _quantile_of(m.metric) == quantile
        return (-m.confidence, not named, _quantile_distance(m.metric), m.metric)

    for m in sorted(found, key=order):
        stem = tuple(t for t in tokens(m.metric) if not _QUANTILE.match(t))
        if (m.signal, stem) in seen:
            continue
        seen.add((m.signal, stem))
        picked.append(m)
    return picked[:limit]


def label_order(catalog: SignalCatalog, signal: str) -> tuple[str, ...]:
    """The identity labels the catalog's entries for `signal` use, in their order of preference."""
    return tuple(
        dict.fromkeys(lbl for e in catalog.entries if e.signal == signal for lbl in e.component_labels)
    )


def _quantile_of(metric: str) -> int | None:
    q = next((int(m.group(1)) for t in tokens(metric) if (m := _QUANTILE.match(t))), None)
    if q is None:
        return None
    return q if q <= 100 else q // 10  # p999 → 99


def _quantile_distance(metric: str) -> int:
    q = _quantile_of(metric)
    return 0 if q is None else abs(q - 95)


@dataclass(frozen=True)
class Fix:
    """How to read an inferred series after validation: value * factor + offset, and the query that
    returns exactly those values (so evidence cites a query that reproduces what was judged)."""

    factor: float = 1.0
    offset: float = 0.0
    rejected: str | None = None

    def query(self, mapping: InferredMapping, expr: str) -> str:
        if self.offset:
            return expr.replace(f"({mapping.metric})", f"({mapping.metric} / {1 / self.factor:g})")
        if self.factor != 1.0:
            return f"({expr}) * {self.factor:g}"
        return expr

    def apply(self, v: float) -> float:
        return v * self.factor + self.offset


def plausible(mapping: InferredMapping, values: Iterable[float]) -> Fix:
    """Validate a mapping against the values it returned.

    A ratio must lie in [0, 1] (or [0, 100]: a percentage, scaled down); a latency must be
    non-negative and, with no unit in sight, a typical value above 20 means milliseconds; counts and
    rates are never negative.

    Percent → ratio is applied once. When the name or unit said percent (`_with_percent`), the query
    already scaled by 0.01 and the values are ratios: a CPU at 110 % of its limit reads 1.1 and stays
    1.1 (scaling it again read a saturated CPU as 1 % and refuted the saturation). Only a mapping whose
    name and unit said nothing is judged a percentage from its values."""
    vals = sorted(v for v in values if v == v and abs(v) != float("inf"))
    if not vals:
        return Fix(rejected="no values")
    lo, hi, mid = vals[0], vals[-1], vals[len(vals) // 2]
    if lo < 0 and mapping.form != "one_minus":
        return Fix(rejected=f"negative values ({lo:.3g}) for {mapping.signal}")
    if mapping.signal in _RATIO_SIGNALS:
        if mapping.form == "one_minus":
            if lo >= -0.001 and hi <= 1.001:
                return Fix()
            if lo >= -99.5 and hi <= 1.001:  # 1 - success%: read as 1 - success/100
                return Fix(factor=0.01, offset=0.99)
            return Fix(rejected=f"values {lo:.3g}..{hi:.3g} are not a success ratio")
        if mapping.scale != 1.0:
            # Already read as a ratio: over 1 is a usage above its limit (CPU bursts, several cores),
            # not a percentage; far over 1 the name lied about its unit.
            if hi <= _OVER_LIMIT_MAX:
                return Fix()
            return Fix(rejected=f"values up to {hi:.3g} ({hi:.3g}×100 %) are not a percentage")
        if hi <= 1.001:
            return Fix()
        if mapping.unit_claimed:
            return Fix(rejected=f"values up to {hi:.3g} contradict the ratio it was said to be")
        if hi <= 100.5:
            return Fix(factor=0.01)
        return Fix(rejected=f"values up to {hi:.3g} are not a ratio")
    if mapping.signal in ("latency", "client_latency"):
        factor = 1e-3 if mapping.scale == 1.0 and mid > 20.0 else 1.0
        if mid * factor > _LATENCY_MAX_S:
            # a typical value of minutes per call even in ms is no latency: a total (of nanoseconds
            # waited, of time spent) that stayed flat too long to be told from a level by its growth
            return Fix(rejected=f"typical value {mid:.3g} is no request latency")
        if factor != 1.0:
            return Fix(factor=factor)  # a caller's view of a call is timed in the same unit as the callee's
    return Fix()


def never_succeeds(mapping: InferredMapping, series: Iterable[Sequence[float]]) -> str | None:
    """Why a success rate read as an error ratio is not measured at all, or None: every sample of every
    component (two or more) says nothing succeeded. Exporters that lack the data write 0 (Nezha's
    `PodSuccessRate` is 0 on every pod of a day); a whole system failing every request through the
    baseline and the incident alike is no observation that can date a change — and read as one it
    hides a real success rate of the same components."""
    if mapping.form != "one_minus":
        return None
    seen = 0
    for values in series:
        vals = [v for v in values if v == v and abs(v) != float("inf")]
        if not vals:
            continue
        if any(abs(v - 1.0) > 1e-3 for v in vals):
            return None
        seen += 1
    if seen >= 2:
        return f"{mapping.metric} says nothing ever succeeded on any of {seen} components: not measured"
    return None


_LATENCY_MAX_S = 300.0


# A gauge-read series that only ever grows over this many samples is a running total, not a level.
_CUMULATIVE_MIN_POINTS = 8
_PARTIAL_RESTARTS = 2  # partial drops a running total over several pods may show (restarts)


def cumulative(mapping: InferredMapping, series: Iterable[Sequence[float]]) -> str | None:
    """Why a mapping read as a level (a latency, a request rate) is a running total instead, or None.

    Exporters without `_total` suffixes or TYPE metadata (`go_sql_db_connections_wait_duration`) write
    totals that names alone do not tell from gauges: a total of milliseconds waited is no latency.
    Every series never decreasing (a drop to below a tenth is a restart) and most of them growing at
    most steps says so; a level that sits still and then steps up (a quantised gauge) is no total."""
    if mapping.form != "gauge" or mapping.signal not in _LEVEL_SIGNALS:
        return None
    seen = grew = 0
    for values in series:
        vals = [v for v in values if v == v and abs(v) != float("inf")]
        if len(vals) < _CUMULATIVE_MIN_POINTS:
            continue
        seen += 1
        ups = drops = 0
        for a, b in itertools.pairwise(vals):
            drops += b < a and not b < 0.1 * a
            ups += b > a
        # A total summed or maxed over pods drops in part when one of them restarts; a level falls
        # about as often as it rises.
        if drops > max(_PARTIAL_RESTARTS, 0.02 * (len(vals) - 1)):
            return None
        grew += ups * 2 >= len(vals) - 1
    if seen and grew * 2 > seen:
        return f"{mapping.metric} only grows: a running total, not a {mapping.signal.replace('_', ' ')}"
    return None


_LEVEL_SIGNALS = frozenset({"latency", "client_latency", "requests", "client_requests"})

"""Trace evidence: the dependency graph, where errors originate, and where the time goes.

A few traces from after the onset (errors and the slowest) are compared with a few from the
baseline. For each trace, a span's *self time* is its duration minus the time covered by its
children; a client span with no server child is attributed to its peer (a database, cache or third
party that is not traced itself). The component whose self time grew most is where latency lives;
the deepest error span with no erroring child is where errors originate.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from statistics import median

from compass_worker.engine.observations import Observations, TraceFinding
from compass_worker.engine.source import TelemetrySource
from compass_worker.signals.catalog import SignalCatalog
from compass_worker.signals.naming import normalise
from compass_worker.telemetry.grafana.models import Trace, TraceSpan, TraceSummary
from compass_worker.telemetry.grafana.results import Data

ERROR_QUERY = "{ status = error }"
ALL_QUERY = "{ }"


def _peer(span: TraceSpan, catalog: SignalCatalog) -> str | None:
    for attr in catalog.traces.peer_attributes:
        v = span.attributes.get(attr)
        if isinstance(v, str) and v:
            return normalise(v, label=attr)
    return None


def _owner(span: TraceSpan, has_server_child: bool, catalog: SignalCatalog) -> str:
    """Who a span's own time belongs to: its service, or for an untraced callee, the callee."""
    if span.kind in ("client", "producer") and not has_server_child:
        peer = _peer(span, catalog)
        if peer:
            return peer
    return normalise(span.service)


def _self_times(trace: Trace, catalog: SignalCatalog) -> dict[str, float]:
    children: dict[str, list[TraceSpan]] = defaultdict(list)
    for s in trace.spans:
        if s.parent_span_id:
            children[s.parent_span_id].append(s)
    out: dict[str, float] = defaultdict(float)
    for s in trace.spans:
        kids = sorted(children.get(s.span_id, []), key=lambda k: k.start_ns)
        covered = 0
        cur_start, cur_end = None, None
        for k in kids:
            ks, ke = max(k.start_ns, s.start_ns), min(k.end_ns, s.end_ns)
            if ke <= ks:
                continue
            if cur_end is None or ks > cur_end:
                if cur_end is not None and cur_start is not None:
                    covered += cur_end - cur_start
                cur_start, cur_end = ks, ke
            else:
                cur_end = max(cur_end, ke)
        if cur_end is not None and cur_start is not None:
            covered += cur_end - cur_start
        own = max(0, s.duration_ns - covered)
        has_server_child = any(k.kind == "server" for k in kids)
        out[_owner(s, has_server_child, catalog)] += own / 1e9
    return out


def _edges(trace: Trace, catalog: SignalCatalog) -> set[tuple[str, str]]:
    by_id = {s.span_id: s for s in trace.spans}
    kids_server: set[str] = {s.parent_span_id for s in trace.spans if s.parent_span_id and s.kind == "server"}
    edges: set[tuple[str, str]] = set()
    for s in trace.spans:
        parent = by_id.get(s.parent_span_id or "")
        if parent and normalise(parent.service) != normalise(s.service):
            edges.add((normalise(parent.service), normalise(s.service)))
        if s.kind in ("client", "producer") and s.span_id not in kids_server:
            peer = _peer(s, catalog)
            if peer and peer != normalise(s.service):
                edges.add((normalise(s.service), peer))
    return edges


def _error_origins(trace: Trace, catalog: SignalCatalog) -> set[str]:
    errs = [s for s in trace.spans if s.status == "error"]
    err_parents = {s.parent_span_id for s in errs if s.parent_span_id}
    origins: set[str] = set()
    children_server = {s.parent_span_id for s in trace.spans if s.kind == "server" and s.parent_span_id}
    for s in errs:
        if s.span_id in err_parents:
            continue  # a child errored first: not the origin
        origins.add(_owner(s, s.span_id in children_server, catalog))
    return origins


async def _fetch(src: TelemetrySource, uid: str, ids: list[str]) -> list[Trace]:
    results = await asyncio.gather(*(src.client.tempo_trace(uid, i) for i in ids))
    out = []
    for tid, r in zip(ids, results, strict=True):
        src.record(uid, "traceql", f"trace {tid}", src.start, src.end, 0, r)
        if isinstance(r, Data):
            out.append(r.value)
    return out


async def _search(
    src: TelemetrySource, uid: str, q: str, start: float, end: float, limit: int
) -> list[TraceSummary]:
    res = await src.client.tempo_search(uid, q, start, end, limit)
    src.record(uid, "traceql", q, start, end, 0, res)
    return res.value if isinstance(res, Data) else []


async def observe_traces(
    src: TelemetrySource, catalog: SignalCatalog, obs: Observations, split_at: float, per_kind: int = 2
) -> None:
    if not src.tempo:
        obs.gaps.append("no trace datasource (Tempo): no trace correlation — degraded mode")
        return
    uid = src.tempo[0].uid
    base_end = max(src.start + 60, split_at - 120)
    errors, recent, base = await asyncio.gather(
        _search(src, uid, ERROR_QUERY, split_at, src.end, 40),
        _search(src, uid, ALL_QUERY, split_at, src.end, 60),
        _search(src, uid, ALL_QUERY, src.start, base_end, 40),
    )
    # Baseline failures only matter when there are failures to compare them with.
    base_errors = await _search(src, uid, ERROR_QUERY, src.start, base_end, 40) if errors else []
    if not (errors or recent or base):
        obs.gaps.append("no traces found in the window: no trace correlation — degraded mode")
        return
    slow = sorted(recent, key=lambda t: -(t.duration_ms or 0.0))[:per_kind]
    base_mid = sorted(base, key=lambda t: t.duration_ms or 0.0)
    base_pick = base_mid[len(base_mid) // 2 - 1 : len(base_mid) // 2 + 2] if len(base_mid) > 3 else base_mid
    err_pick = _distinct_roots(errors, per_kind)
    ids_err = [t.trace_id for t in err_pick]
    ids_slow = [t.trace_id for t in slow if t.trace_id not in ids_err]
    ids_base = [t.trace_id for t in base_pick]
    ids_base_err = [t.trace_id for t in _distinct_roots(base_errors, 2)]
    t_err, t_slow, t_base, t_base_err = await asyncio.gather(
        _fetch(src, uid, ids_err),
        _fetch(src, uid, ids_slow),
        _fetch(src, uid, ids_base),
        _fetch(src, uid, ids_base_err),
    )
    for tr in (*t_err, *t_slow, *t_base):
        for e in _edges(tr, catalog):
            obs.edges.setdefault(e, "traces")
    link_err = src.explore_link(uid, ERROR_QUERY, traceql=True)
    if t_err:
        counts: dict[str, int] = defaultdict(int)
        for tr in t_err:
            for o in _error_origins(tr, catalog):
                counts[o] += 1
        # Errors that already originated there before the onset are the baseline, not news.
        chronic = {o for tr in t_base_err for o in _error_origins(tr, catalog)}
        for comp, n in counts.items():
            if comp in chronic:
                continue
            obs.traces.append(
                TraceFinding(
                    comp,
                    "error_origin",
                    n / len(t_err),
                    f"errors originate in {comp} in {n} of {len(t_err)} failing traces",
                    ERROR_QUERY,
                    link_err,
                )
            )
    post = t_slow or t_err
    if post and t_base:
        link_all = src.explore_link(uid, ALL_QUERY, traceql=True)
        post_self = _mean_self(post, catalog)
        base_self = _mean_self(t_base, catalog)
        for comp, after in post_self.items():
            if comp not in base_self:
                continue  # not on the baseline traces' paths: no like-for-like comparison
            before = base_self[comp]
            ratio = (after + 0.002) / (before + 0.002)
            if after - before > 0.05 and ratio > 1.5:
                obs.traces.append(
                    TraceFinding(
                        comp,
                        "self_time",
                        ratio,
                        f"{comp}'s own time per slow trace {after * 1000:.0f} ms vs {before * 1000:.0f} ms "
                        "in baseline traces",
                        ALL_QUERY,
                        link_all,
                    )
                )


def _distinct_roots(traces: list[TraceSummary], n: int) -> list[TraceSummary]:
    picked: list[TraceSummary] = []
    seen: set[str] = set()
    for t in traces:
        if t.root_name not in seen:
            picked.append(t)
            seen.add(t.root_name)
        if len(picked) == n:
            return picked
    for t in traces:
        if t not in picked and len(picked) < n:
            picked.append(t)
    return picked


def _mean_self(traces: list[Trace], catalog: SignalCatalog) -> dict[str, float]:
    per: dict[str, list[float]] = defaultdict(list)
    for tr in traces:
        st = _self_times(tr, catalog)
        for comp in st:
            per[comp].append(st[comp])
    return {c: median(v) for c, v in per.items()}

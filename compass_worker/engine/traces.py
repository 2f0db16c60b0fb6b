"""Trace evidence: the dependency graph, where errors originate, and where the time goes.

A few traces from after the onset (errors and the slowest) are compared with a few from the
baseline. For each trace, a span's *self time* is its duration minus the time covered by its
children; a client span with no server child is attributed to its peer (a database, cache or third
party that is not traced itself). The component whose self time grew most is where latency lives;
the deepest error span with no erroring child is where errors originate.

Per edge (caller→callee), the caller's wait and the callee's own time (with its link's transit) in the
slow traces after the symptom's onset are compared with the same edge in the baseline — or, when the
baseline traces never took it, with the callee's calls from any caller, fetching a baseline trace
through it if need be — and with the baseline's slowest traces (chronic outliers are no news). An
`edge_self_time` finding's value is its extra own time as a share of the largest, times how clearly
it grew.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Container
from dataclasses import replace
from statistics import median
from typing import TypeVar

from compass_worker.engine.exclusive import exclusive_times, measure
from compass_worker.engine.observations import Observations, TraceFinding
from compass_worker.engine.source import TelemetrySource
from compass_worker.signals.catalog import SignalCatalog
from compass_worker.signals.naming import normalise
from compass_worker.telemetry.grafana.models import Trace, TraceSpan, TraceSummary
from compass_worker.telemetry.grafana.results import Data

ERROR_QUERY = "{ status = error }"
ERROR_LIMIT = 40  # failing traces listed per search
CHRONIC_SURGE = 3.0  # failing traces this much more frequent make a chronic error origin news again
ALL_QUERY = "{ }"
_K = TypeVar("_K")
_Pair = tuple[float, float]  # (seconds waited, seconds of it the callee's own)
BASE_LIMIT = 100  # baseline traces listed (summaries only): enough to find the slow ones' operations
SLOW_BEFORE_ONSET_S = 120.0  # slow traces from this long before the symptom's onset (scrape lag)


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


def _time_owner(
    span: TraceSpan, kids: list[TraceSpan], catalog: SignalCatalog, keeps_transit: Container[str] = ()
) -> str:
    """Who a span's own (uncovered) time belongs to. A client span's time outside its callee's server
    span is transit on the link to that callee (a delayed or lossy network at the callee): it is
    counted against the callee, not the caller, whose own code was not running — unless the caller is
    in `keeps_transit` (its link to every callee slowed: the common end is the caller)."""
    svc = normalise(span.service)
    if span.kind in ("client", "producer") and svc not in keeps_transit:
        callee = next(
            (normalise(k.service) for k in kids if k.kind == "server" and normalise(k.service) != svc), None
        )
        if callee:
            return callee
    return _owner(span, any(k.kind == "server" for k in kids), catalog)


def _span_self(s: TraceSpan, kids: list[TraceSpan]) -> float:
    """A span's own seconds: its duration minus the union of its children's intervals (clipped to it)."""
    covered = measure((max(k.start_ns, s.start_ns), min(k.end_ns, s.end_ns)) for k in kids)
    return max(0, s.duration_ns - covered) / 1e9


def edge_times(
    trace: Trace, catalog: SignalCatalog, keeps_transit: Container[str] = ()
) -> dict[tuple[str, str], tuple[float, float]]:
    """Per caller→callee edge of one trace: (seconds the caller waited on the callee, seconds of that
    which were the callee's own). A caller's span with a callee's server span under it (directly or
    through a client span) waits for the server span's subtree; the callee's own time is the self
    time of the spans it owns in that subtree. An untraced callee (a client span with no server
    child) owns the client span's whole time. Transit (a client span's time outside its callee's
    server span) goes with the callee, except for callers in `keeps_transit`."""
    children: dict[str, list[TraceSpan]] = defaultdict(list)
    for sp in trace.spans:
        if sp.parent_span_id:
            children[sp.parent_span_id].append(sp)
    by_id = {sp.span_id: sp for sp in trace.spans}
    own: dict[str, tuple[str, float]] = {}
    for sp in trace.spans:
        kids = children.get(sp.span_id, [])
        own[sp.span_id] = (_time_owner(sp, kids, catalog, keeps_transit), _span_self(sp, kids))

    def owned_by(root: TraceSpan, who: str) -> float:
        total, todo = 0.0, [root]
        while todo:
            cur = todo.pop()
            o, t = own[cur.span_id]
            if o == who:
                total += t
            todo.extend(
                k for k in children.get(cur.span_id, []) if normalise(k.service) == who or k.kind != "server"
            )
        return total

    out: dict[tuple[str, str], tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    for sp in trace.spans:
        parent = by_id.get(sp.parent_span_id or "")
        svc = normalise(sp.service)
        if sp.kind == "server" and parent is not None and normalise(parent.service) != svc:
            edge = (normalise(parent.service), svc)
            wait, mine = out[edge]
            # Through a client span, the caller waits for all of it; the part outside the server span
            # is transit on the link to the callee, counted with the callee (see `_time_owner`).
            via_client = parent.kind in ("client", "producer")
            waited = (parent.duration_ns if via_client else sp.duration_ns) / 1e9
            transit = own[parent.span_id][1] if via_client and own[parent.span_id][0] == svc else 0.0
            out[edge] = (wait + waited, mine + owned_by(sp, svc) + transit)
        elif sp.kind in ("client", "producer") and not any(
            k.kind == "server" for k in children.get(sp.span_id, [])
        ):
            peer = _peer(sp, catalog)
            if peer and peer != svc:
                wait, mine = out[(svc, peer)]
                out[(svc, peer)] = (wait + sp.duration_ns / 1e9, mine + own[sp.span_id][1])
    return dict(out)


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
    src: TelemetrySource,
    catalog: SignalCatalog,
    obs: Observations,
    split_at: float,
    per_kind: int = 2,
    onset: float | None = None,
    extras: bool = True,
) -> None:
    """`onset`: when the symptom began. The slow traces are taken from then on, so that an earlier,
    unrelated slowdown between the baseline's end and the symptom is not read as this one.
    `extras`: whether the tool-call budget allows the extra baseline traces (tail, new callees)."""
    if not src.tempo:
        obs.gaps.append("no trace datasource (Tempo): no trace correlation — degraded mode")
        return
    uid = src.tempo[0].uid
    base_end = max(src.start + 60, split_at - 120)
    slow_from = max(split_at, onset - SLOW_BEFORE_ONSET_S) if onset is not None else split_at
    errors, recent, base = await asyncio.gather(
        _search(src, uid, ERROR_QUERY, split_at, src.end, ERROR_LIMIT),
        _search(src, uid, ALL_QUERY, slow_from, src.end, 60),
        _search(src, uid, ALL_QUERY, src.start, base_end, BASE_LIMIT),
    )
    # Baseline failures only matter when there are failures to compare them with.
    base_errors = await _search(src, uid, ERROR_QUERY, src.start, base_end, ERROR_LIMIT) if errors else []
    if not (errors or recent or base):
        obs.gaps.append("no traces found in the window: no trace correlation — degraded mode")
        return
    slow = sorted(recent, key=lambda t: -(t.duration_ms or 0.0))[:per_kind]
    base_mid = sorted(base, key=lambda t: t.duration_ms or 0.0)
    base_pick = base_mid[len(base_mid) // 2 - 1 : len(base_mid) // 2 + 2] if len(base_mid) > 3 else base_mid
    if extras:
        base_pick += [t for t in like_for_like(slow, base) if t not in base_pick]
    err_pick = _distinct_roots(errors, per_kind)
    ids_err = [t.trace_id for t in err_pick]
    ids_slow = [t.trace_id for t in slow if t.trace_id not in ids_err]
    ids_base = [t.trace_id for t in base_pick]
    ids_base_err = [t.trace_id for t in _distinct_roots(base_errors, 2)]
    # The slowest baseline traces too: the slow traces after the onset are compared with the baseline's
    # own tail, so that a callee that was always slow in the tail (chronic outliers) is no news.
    ids_tail = [t.trace_id for t in base_mid[::-1][:per_kind] if t.trace_id not in ids_base] if extras else []
    t_err, t_slow, t_base, t_base_err, t_tail = await asyncio.gather(
        _fetch(src, uid, ids_err),
        _fetch(src, uid, ids_slow),
        _fetch(src, uid, ids_base),
        _fetch(src, uid, ids_base_err),
        _fetch(src, uid, ids_tail),
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
        # Errors that already originated there before the onset are the baseline, not news — unless
        # failing traces became much more frequent and it originates at least as large a share of them.
        chronic: dict[str, int] = defaultdict(int)
        for tr in t_base_err:
            for o in _error_origins(tr, catalog):
                chronic[o] += 1
        rate_after = len(errors) / max(60.0, src.end - split_at)
        rate_before = len(base_errors) / max(60.0, base_end - src.start)
        surge = rate_after / rate_before if rate_before > 0 else float("inf")
        if len(base_errors) >= ERROR_LIMIT:
            surge = 1.0  # a capped baseline search cannot say how frequent failures were
        for comp, n in counts.items():
            detail = f"errors originate in {comp} in {n} of {len(t_err)} failing traces"
            if comp in chronic:
                base_share = chronic[comp] / len(t_base_err)
                if surge < CHRONIC_SURGE or n / len(t_err) < base_share:
                    continue
                detail += f" (some before the onset too; failing traces now {surge:.1f}× as frequent)"
            obs.traces.append(
                TraceFinding(comp, "error_origin", n / len(t_err), detail, ERROR_QUERY, link_err)
            )
    post = t_slow or t_err
    if post and t_base:
        if extras:
            t_base += await _baseline_for_new_callees(src, uid, catalog, post, t_base + t_tail, base_end)
        link_all = src.explore_link(uid, ALL_QUERY, traceql=True)
        obs.traces.extend(edge_findings(post, t_base, catalog, ALL_QUERY, link_all, tail=t_tail))
        # Transit on a link counts with the callee, as on the edges (`edge_findings`).
        keepers = transit_keepers(post, t_base, catalog)
        post_self = _mean_self(post, catalog, keepers)
        base_self = _mean_self(t_base, catalog, keepers)
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


NEW_CALLEE_FETCHES = 3  # callees of the slow traces with no baseline call, looked up (2 calls each)


async def _baseline_for_new_callees(
    src: TelemetrySource,
    uid: str,
    catalog: SignalCatalog,
    post: list[Trace],
    base: list[Trace],
    base_end: float,
) -> list[Trace]:
    """Baseline traces through the callees that the slow traces wait on most but the baseline traces
    never called: without one, an edge cannot be compared with itself before the onset."""
    known = _median_by_callee(base, catalog)
    own: dict[str, float] = defaultdict(float)
    for tr in post:
        for (_, callee), (_, mine) in edge_times(tr, catalog).items():
            if callee not in known:
                own[callee] = max(own[callee], mine)
    wanted = [c for c, s in sorted(own.items(), key=lambda kv: -kv[1]) if s > EDGE_MIN_GROWTH_S]
    wanted = wanted[:NEW_CALLEE_FETCHES]
    attr = catalog.traces.service_attribute
    found = await asyncio.gather(
        *(_search(src, uid, f'{{ {attr} = "{c}" }}', src.start, base_end, 20) for c in wanted)
    )
    ids = []
    for summaries in found:
        mid = sorted(summaries, key=lambda s: s.duration_ms or 0.0)
        if mid and mid[len(mid) // 2].trace_id not in ids:
            ids.append(mid[len(mid) // 2].trace_id)
    return await _fetch(src, uid, ids) if ids else []


def like_for_like(slow: list[TraceSummary], base: list[TraceSummary]) -> list[TraceSummary]:
    """For each slow trace, the baseline trace of the same entry operation with the median duration:
    in a system with many endpoints the few median baseline traces rarely take the slow traces' path,
    and an edge can only be compared with the same edge before the onset."""
    picked: list[TraceSummary] = []
    for s in slow:
        same = sorted(
            (b for b in base if (b.root_service, b.root_name) == (s.root_service, s.root_name)),
            key=lambda b: b.duration_ms or 0.0,
        )
        if same and same[len(same) // 2] not in picked:
            picked.append(same[len(same) // 2])
    return picked


EDGE_MIN_GROWTH_S = 0.05
EDGE_MIN_RATIO = 1.5
EDGE_OWN_SHARE = 0.5  # the callee's own time explains at least this share of the caller's extra wait
# A caller whose transit grew to at least this many of its callees, and this share of them, keeps that
# time itself. Both: a frontend calling seven services whose links to two of them slowed (one delayed
# callee, one starved callee queueing its requests) is not the common end.
SHARED_TRANSIT_CALLEES = 2
SHARED_TRANSIT_SHARE = 0.6
# A link counts as slowed with the others only if it grew comparably: at least this share of the
# caller's largest growth (a starved caller stretches every link; one delayed callee plus noise on
# another does not make a common end).
SHARED_TRANSIT_COMPARABLE = 0.25


class _Everyone:
    """Every caller keeps its transit: `edge_times` then gives each callee its server-side time only."""

    def __contains__(self, _: object) -> bool:
        return True


def transit_keepers(post: list[Trace], base: list[Trace], catalog: SignalCatalog) -> frozenset[str]:
    """Callers whose transit (client time outside the callee's server span) grew on the edges to
    several different callees. A delayed network at one callee slows the links to it alone; links to
    every callee slowing at once have one end in common, the caller — its own network, or a starved
    CPU that cannot run its client code (a CPU-throttled caller's client spans stretch by whole
    scheduling periods while its callees serve in microseconds)."""

    def transit(traces: list[Trace]) -> dict[tuple[str, str], float]:
        credited = _median_edges(traces, catalog)
        kept = _median_edges(traces, catalog, _Everyone())
        return {e: own - kept.get(e, (0.0, 0.0))[1] for e, (_, own) in credited.items()}

    before = transit(base)
    growth: dict[str, dict[str, float]] = defaultdict(dict)
    for (caller, callee), t in transit(post).items():
        growth[caller][callee] = t - before.get((caller, callee), 0.0)
    keepers = set()
    for caller, per_callee in growth.items():
        bar = max(EDGE_MIN_GROWTH_S, SHARED_TRANSIT_COMPARABLE * max(per_callee.values()))
        slowed = [c for c, g in per_callee.items() if g > bar]
        if len(slowed) >= SHARED_TRANSIT_CALLEES and len(slowed) >= SHARED_TRANSIT_SHARE * len(per_callee):
            keepers.add(caller)
    return frozenset(keepers)


def edge_findings(
    post: list[Trace],
    base: list[Trace],
    catalog: SignalCatalog,
    query: str,
    link: str | None,
    tail: list[Trace] | None = None,
) -> list[TraceFinding]:
    """Per edge, after vs before: did the caller wait longer on the callee, and was the extra wait the
    callee's own time (evidence for the callee) or time beyond it (its own callees, the network)?
    `tail`: the slowest baseline traces; an edge must have grown beyond what they show as well.
    Transit goes with the callee, except from callers whose links to several callees all slowed
    (`transit_keepers`): that time is the caller's own, and so is its callers' wait on it."""
    keep = transit_keepers(post, base, catalog)
    post_e = _median_edges(post, catalog, keep)
    base_e = _upper(_median_edges(base, catalog, keep), _median_edges(tail or [], catalog, keep))
    by_callee = _upper(_median_by_callee(base, catalog, keep), _median_by_callee(tail or [], catalog, keep))
    found: list[TraceFinding] = []
    clarity: dict[int, float] = {}  # per edge_self_time finding: how clearly its own time grew (0..1)
    for (caller, callee), (wait, own) in sorted(post_e.items()):
        # Like for like: the same edge before the onset; else the callee's calls from any caller (in a
        # system with many endpoints a few baseline traces rarely take the slow traces' path).
        before = base_e.get((caller, callee)) or by_callee.get(callee)
        if before is None:
            continue
        b_wait, b_own = before
        grew = wait - b_wait
        own_grew = own - b_own
        # The wait grew, or the callee's own time grew by more than the wait did: the baseline's wait
        # (its slow tail, an earlier incident further down) was spent beyond the callee, and now the
        # callee's own time (or its link's) fills it.
        if not (_grew(wait, b_wait) or (_grew(own, b_own) and own_grew >= grew)):
            continue
        waits = f"{caller}→{callee}: {caller} waits {wait * 1000:.0f} ms vs {b_wait * 1000:.0f} ms before"
        if own_grew >= EDGE_OWN_SHARE * grew:
            clarity[len(found)] = min(1.0, math.log2((own + 0.002) / (b_own + 0.002)) / 3.0)
            found.append(
                TraceFinding(
                    callee,
                    "edge_self_time",
                    own_grew,  # seconds for now: made a share of the largest below
                    f"{waits}, {own_grew * 1000:.0f} ms of the extra is {callee}'s own time or its link's",
                    query,
                    link,
                )
            )
        else:
            found.append(
                TraceFinding(
                    callee,
                    "edge_passthrough",
                    (wait + 0.002) / (b_wait + 0.002),
                    f"{waits}, but {callee}'s own time moved only {own_grew * 1000:.0f} ms: "
                    "the time lies beyond it",
                    query,
                    link,
                )
            )
    return _as_shares(found, clarity)


def _grew(after: float, before: float) -> bool:
    return after - before > EDGE_MIN_GROWTH_S and (after + 0.002) / (before + 0.002) > EDGE_MIN_RATIO


def _as_shares(found: list[TraceFinding], clarity: dict[int, float]) -> list[TraceFinding]:
    """An edge finding's strength is its extra own time as a share of the largest one (the callee
    whose own time grew most explains the slow traces; one that grew a tenth as much explains little,
    however large its ratio on a fast baseline), times how clearly it grew (an 8× own time is clear,
    2.5× is not: `log2(ratio) / 3`, as for component self time)."""
    top = max((f.value for f in found if f.kind == "edge_self_time"), default=0.0)
    if top <= 0:
        return found
    return [
        replace(f, value=f.value / top * clarity.get(i, 1.0)) if f.kind == "edge_self_time" else f
        for i, f in enumerate(found)
    ]


def _upper(a: dict[_K, _Pair], b: dict[_K, _Pair]) -> dict[_K, _Pair]:
    """Per key, the larger wait and own time of the two baselines (a key in either)."""
    out = dict(a)
    for k, (w, o) in b.items():
        w0, o0 = out.get(k, (w, o))
        out[k] = (max(w, w0), max(o, o0))
    return out


def _median_by_callee(
    traces: list[Trace], catalog: SignalCatalog, keeps_transit: Container[str] = ()
) -> dict[str, tuple[float, float]]:
    """Per callee, over every caller: the median wait on it and the median of its own time."""
    per: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for tr in traces:
        for (_, callee), v in edge_times(tr, catalog, keeps_transit).items():
            per[callee].append(v)
    return {c: (median(w for w, _ in v), median(o for _, o in v)) for c, v in per.items()}


def _median_edges(
    traces: list[Trace], catalog: SignalCatalog, keeps_transit: Container[str] = ()
) -> dict[tuple[str, str], tuple[float, float]]:
    per: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for tr in traces:
        for e, v in edge_times(tr, catalog, keeps_transit).items():
            per[e].append(v)
    return {e: (median(w for w, _ in v), median(o for _, o in v)) for e, v in per.items()}


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


def _mean_self(
    traces: list[Trace], catalog: SignalCatalog, keeps_transit: Container[str] = ()
) -> dict[str, float]:
    """Per component, the median over the traces of its exclusive time (`exclusive.exclusive_times`)."""
    per: dict[str, list[float]] = defaultdict(list)
    for tr in traces:
        st = exclusive_times(tr, lambda s: _peer(s, catalog), keeps_transit)
        for comp in st:
            per[comp].append(st[comp])
    return {c: median(v) for c, v in per.items()}

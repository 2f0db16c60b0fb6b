"""A component's exclusive time in one trace: the wall-clock time its own code held the request.

Per invocation (a span entering a service — the trace's root or a span whose parent belongs to another
service — plus that service's spans below it), the time is the *union* of its spans' intervals less the
union of the intervals it handed to others: its callees' spans, and its client spans to them. Summing
each span's duration-minus-children instead counts concurrent spans twice: an asynchronous service (a
reactive gateway) records a handler span beside its client span, both lasting the whole call, and the
handler, with no children of its own, looked like seconds of the gateway's own time while the time was
spent downstream.

A client span's time outside its callee's server span is transit on the link to the callee: it counts
with the callee (a delayed network at the callee), except for callers in `keeps_transit` (their links to
every callee slowed: the common end is the caller). A client span with no server child is the time of
its peer (an untraced database, cache or third party) when the span names one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Iterable

from compass_worker.signals.naming import normalise
from compass_worker.telemetry.grafana.models import Trace, TraceSpan

_Interval = tuple[int, int]
CLIENT_KINDS = ("client", "producer")


def measure(intervals: Iterable[_Interval]) -> int:
    """Length of the union of the intervals."""
    total, cur_start, cur_end = 0, None, None
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if cur_end is None or cur_start is None or start > cur_end:
            if cur_end is not None and cur_start is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None and cur_start is not None:
        total += cur_end - cur_start
    return total


def exclusive_times(
    trace: Trace, peer_of: Callable[[TraceSpan], str | None], keeps_transit: Container[str] = ()
) -> dict[str, float]:
    """Seconds of exclusive time per component (see the module doc). `peer_of`: the callee a client
    span names, if any."""
    children: dict[str, list[TraceSpan]] = defaultdict(list)
    for s in trace.spans:
        if s.parent_span_id:
            children[s.parent_span_id].append(s)
    by_id = {s.span_id: s for s in trace.spans}
    out: dict[str, float] = defaultdict(float)
    for head in trace.spans:
        parent = by_id.get(head.parent_span_id or "")
        svc = normalise(head.service)
        if parent is not None and normalise(parent.service) == svc:
            continue  # not where the request entered this service
        busy: list[_Interval] = []
        away: list[_Interval] = []
        todo = [head]
        while todo:
            m = todo.pop()
            busy.append((m.start_ns, m.end_ns))
            kids = children.get(m.span_id, [])
            todo.extend(k for k in kids if normalise(k.service) == svc)
            callees = [k for k in kids if normalise(k.service) != svc]
            away.extend((k.start_ns, k.end_ns) for k in callees)
            if m.kind not in CLIENT_KINDS:
                continue
            servers = [k for k in callees if k.kind == "server"]
            if servers and svc not in keeps_transit:
                inside = [(max(k.start_ns, m.start_ns), min(k.end_ns, m.end_ns)) for k in servers]
                transit = (m.end_ns - m.start_ns) - measure(inside)
                out[normalise(servers[0].service)] += max(0, transit) / 1e9
                away.append((m.start_ns, m.end_ns))
            elif not servers:
                peer = peer_of(m)
                if peer and peer != svc:
                    covered = measure((k.start_ns, k.end_ns) for k in kids)
                    out[peer] += max(0, m.end_ns - m.start_ns - covered) / 1e9
                    away.append((m.start_ns, m.end_ns))
        out[svc] += (measure(busy + away) - measure(away)) / 1e9
    return dict(out)

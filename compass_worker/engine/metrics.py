"""Metric discovery and signal fetching: from "what metric names exist" to per-component series.

1. List metric names (all pages) and keep the catalog entries whose metrics exist.
2. One `count by (__name__, <identity labels>)` query tells which identity label each metric carries
   and which components exist — before any signal is fetched.
3. Each chosen entry becomes one PromQL range query grouped by that label: one call covers every
   component. Results are normalised to component names and kept with their query and link.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from compass_worker.engine.observations import Observations, SignalSeries, VersionChange
from compass_worker.engine.source import TelemetrySource
from compass_worker.reasoners.protocol import MetricView, Reasoner
from compass_worker.signals import discovery as sigdisc
from compass_worker.signals import proposals as sigprop
from compass_worker.signals.catalog import CatalogEntry, SignalCatalog, VersionSpec
from compass_worker.signals.naming import is_ip, normalise
from compass_worker.telemetry.grafana.models import LabelMatcher, PromSeries, QueryResult
from compass_worker.telemetry.grafana.results import Data, Failed

_AGG_SUM = frozenset({"requests", "client_throttled", "dns_errors", "restarts", "pool_pending", "queue_lag"})
_AGG_MEAN = frozenset({"available"})
_AGG_MIN = frozenset({"disk_free_ratio", "cert_expiry_seconds", "cache_hit_ratio"})


@dataclass
class Discovery:
    metric_names: frozenset[str] = frozenset()
    labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # metric -> labels
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # label -> values
    # metric -> label -> values: which components each metric describes, known before any signal query
    metric_values: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    components: set[str] = field(default_factory=set)
    # Signal discovery beyond the catalog: mappings inferred for names no convention covers, and the
    # entries they became once their labels were known (fetched like catalog entries, trusted less).
    mappings: dict[str, sigdisc.InferredMapping] = field(default_factory=dict)  # family -> mapping
    inferred: list[CatalogEntry] = field(default_factory=list)


def _fill(template: str, by: str, peer: str, rate: str) -> str:
    # Plain replacement: PromQL's own braces make str.format unusable.
    return template.replace("{by}", by).replace("{peer}", peer).replace("{rate}", rate)


def _alternation(names: Iterable[str]) -> str:
    return "|".join(re.escape(n).replace("\\_", "_") for n in sorted(names))


async def discover(
    src: TelemetrySource,
    catalog: SignalCatalog,
    obs: Observations,
    quantile: int | None = None,
    reasoner: Reasoner | None = None,
) -> Discovery:
    """What the datasource holds and how each metric names its components; `quantile` is the latency
    percentile the alert names (read where a latency family records several); `reasoner` is asked what
    the names that neither the catalog nor name tokens map measure (optional)."""
    disc = Discovery()
    if not src.prometheus:
        obs.gaps.append("no Prometheus-compatible datasource: metrics cannot be checked")
        return disc
    uid = src.prometheus[0].uid
    res = await src.client.metric_names(uid, None, src.start, src.end)
    src.record(uid, "discovery", "list_prometheus_metric_names", src.start, src.end, 0, res)
    if not isinstance(res, Data):
        obs.gaps.append(f"metric names could not be listed ({_why(res)})")
        return disc
    disc.metric_names = frozenset(res.value)
    mappings, meta = await _infer(src, catalog, disc.metric_names, uid, quantile)
    if reasoner is not None:
        mappings += await _proposed(reasoner, catalog, disc.metric_names, mappings, meta, obs)
    entries = catalog.applicable(disc.metric_names)
    wanted_metrics: set[str] = set()
    labels: set[str] = set()
    for e in entries:
        wanted_metrics.update(e.requires)
        labels.update(e.component_labels)
        if e.caller_label:
            labels.add(e.caller_label)
        labels.update(e.peer_labels)
        if e.label_required:
            labels.add(e.label_required)
    for vspec in catalog.versions:
        for m in _version_metrics(vspec, disc.metric_names):
            wanted_metrics.add(m)
            labels.update(vspec.component_labels)
            labels.update(vspec.version_labels)
    for p in catalog.placements:
        if p.metric in disc.metric_names:
            wanted_metrics.add(p.metric)
            labels.update({p.component_from, p.host_label})
    # Extra identity labels are read only off the inferred metrics: catalog metrics keep the exact
    # label view they always had (no new components from labels no convention vouches for).
    catalog_labels = set(labels)
    inferred_names = {m.metric for m in mappings}
    for mp in mappings:
        wanted_metrics.add(mp.metric)
        labels.update((*sigdisc.IDENTITY_LABELS, *sigdisc.QUEUE_LABELS, *sigdisc.GROUP_LABELS))
        # A caller's view of its callees needs the label naming the peer, and a request count its
        # status label, before either can become an edge or an error ratio (`InferredMapping.entry` /
        # `derived` read them off this presence query).
        labels.update((*sigdisc.PEER_LABELS, *sigdisc.STATUS_LABELS, sigdisc.QUANTILE_LABEL))
        labels.update(sigdisc.label_order(catalog, mp.signal))
    labels.update(await _workload_labels(src, uid, inferred_names))
    if not wanted_metrics:
        obs.gaps.append("none of the metric names here match a known convention (signal catalog)")
        return disc
    by = ", ".join(["__name__", *sorted(labels)])
    expr = f'count by ({by}) ({{__name__=~"{_alternation(wanted_metrics)}"}})'
    presence = await src.prom_range(expr, step_s=max(60, int((src.end - src.start) / 12)))
    if not isinstance(presence, Data):
        obs.gaps.append(f"label discovery failed ({_why(presence)})")
        return disc
    for s in presence.value.series:
        name = s.labels.get("__name__", "")
        for k, v in s.labels.items():
            if k == "__name__" or not v or (k not in catalog_labels and name not in inferred_names):
                continue
            disc.labels[name].add(k)
            disc.values[k].add(v)
            disc.metric_values[name][k].add(v)
    for mp in mappings:
        present = disc.labels.get(mp.metric, set()) - {"le"}
        for one in (mp, *mp.derived(present, disc.metric_names)):
            if one.signal not in catalog.signals:
                continue  # a caller-side request rate: only its error ratio is a signal
            values = disc.metric_values.get(mp.metric, {})
            entry = one.entry(present, sigdisc.label_order(catalog, one.signal), values)
            if entry is not None and one.metric != mp.metric:
                # A histogram's `_count` (its request rate) carries the labels its buckets do, less
                # `le`; the presence query asked only about the buckets.
                disc.labels[one.metric] |= present
            if entry is not None and one.family not in disc.mappings:
                disc.mappings[one.family] = one
                disc.inferred.append(entry)
    return disc


async def _infer(
    src: TelemetrySource, catalog: SignalCatalog, names: frozenset[str], uid: str, quantile: int | None
) -> tuple[list[sigdisc.InferredMapping], dict[str, sigdisc.MetricMeta]]:
    """Mappings for the names no catalog entry uses, and the metadata (TYPE/UNIT/HELP) they were read
    with; it is asked for only when such names exist, and many stores keep none (then names alone decide)."""
    unknown = names - sigdisc.covered_by_catalog(catalog, names)
    if not unknown:
        return [], {}
    meta: dict[str, sigdisc.MetricMeta] = {}
    res = await src.client.metric_metadata(uid)
    src.record(uid, "discovery", "list_prometheus_metric_metadata", src.start, src.end, 0, res)
    if isinstance(res, Data):
        meta = {k: sigdisc.MetricMeta(v.type, v.unit, v.help) for k, v in res.value.items()}
    return sigdisc.infer_all(catalog, names, meta, quantile=quantile), meta


async def _proposed(
    reasoner: Reasoner,
    catalog: SignalCatalog,
    names: frozenset[str],
    mapped: list[sigdisc.InferredMapping],
    meta: dict[str, sigdisc.MetricMeta],
    obs: Observations,
) -> list[sigdisc.InferredMapping]:
    """What the reasoner says the still-unmapped names measure, as mappings trusted below every name-token
    inference; each is then fetched and validated against its values like any inferred mapping."""
    offered = sigprop.offered_signals(catalog)
    ask = dict(sigprop.views(sigprop.unmapped(catalog, names, (m.metric for m in mapped)), meta))
    if not ask or not offered:
        return []
    views = [MetricView(name=n, type=m.type, unit=m.unit, help=m.help) for n, m in ask.items()]
    try:
        proposals = await reasoner.propose_mappings(views, offered)
    except Exception as exc:  # a reasoner failing must never stop the investigation
        obs.notes.append(f"signal mapping by the reasoner failed: {type(exc).__name__}")
        return []
    out: list[sigdisc.InferredMapping] = []
    for p in proposals:
        if p.metric not in ask:
            continue  # only names discovery listed and offered: none is invented
        m = sigprop.from_proposal(p.metric, p.signal, p.unit, ask[p.metric], offered)
        if m is None:
            obs.notes.append(f"proposed mapping {p.metric} → {p.signal} ({p.unit}) does not fit its type")
            continue
        out.append(m)
    return out


async def _workload_labels(src: TelemetrySource, uid: str, metrics: set[str]) -> set[str]:
    """Label keys of the inferred metrics that name a workload, a call's far end or its outcome by no
    listed spelling (`apm_service`, `dst_deployment`, `http_client_host`, `http_status`): read off the
    label names, kept by their tokens."""
    if not metrics:
        return set()
    matcher = LabelMatcher(name="__name__", value=_alternation(metrics), op="=~")
    res = await src.client.label_names(uid, [matcher], src.start, src.end)
    src.record(uid, "discovery", "list_prometheus_label_names", src.start, src.end, 0, res)
    if not isinstance(res, Data):
        return set()
    return {k for k in res.value if sigdisc.label_role(k) is not None or sigdisc.is_status_label(k)}


def _version_metrics(v: VersionSpec, names: frozenset[str]) -> list[str]:
    if v.metric:
        return [v.metric] if v.metric in names else []
    if v.metric_regex:
        rx = re.compile(v.metric_regex)
        return sorted(n for n in names if rx.fullmatch(n))
    return []


def choose_labels(entry: CatalogEntry, disc: Discovery) -> tuple[str, str] | None:
    """(by, peer) for an entry, from the labels its first metric actually carries; None if unusable."""
    present = disc.labels.get(entry.requires[0], set())
    if entry.label_required and entry.label_required not in present:
        return None
    comp = [lbl for lbl in entry.component_labels if lbl in present]
    if not comp:
        return None
    by = ", ".join(comp[:2]) if entry.prefer_instance_host else comp[0]
    if not entry.edge:
        return by, ""
    peer = next((lbl for lbl in entry.peer_labels if lbl in present), None)
    if peer is None:
        return None
    return by, peer


def component_of(labels: dict[str, str], order: Iterable[str], known: set[str]) -> str | None:
    """First identity label that names a component; prefers values that are known component names."""
    candidates: list[str] = []
    for lbl in order:
        raw = labels.get(lbl)
        if not raw:
            continue
        name = normalise(raw, label=lbl)
        if not name or is_ip(name):
            continue
        if name in known:
            return name
        candidates.append(name)
    return candidates[0] if candidates else None


def _aggregate(signal: str, rows: list[PromSeries]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if len(rows) == 1:
        return rows[0].timestamps, rows[0].values
    ts = sorted({t for r in rows for t in r.timestamps})
    index = {t: i for i, t in enumerate(ts)}
    mat = np.full((len(rows), len(ts)), np.nan)
    for i, r in enumerate(rows):
        for t, v in zip(r.timestamps, r.values, strict=False):
            mat[i, index[t]] = v
    with np.errstate(all="ignore"):
        if signal in _AGG_SUM:
            out = np.nansum(mat, axis=0)
        elif signal in _AGG_MEAN:
            out = np.nanmean(mat, axis=0)
        elif signal in _AGG_MIN:
            out = np.nanmin(mat, axis=0)
        else:
            out = np.nanmax(mat, axis=0)
    return tuple(ts), tuple(float(v) for v in out)


async def fetch_entries(
    src: TelemetrySource,
    catalog: SignalCatalog,
    entries: list[CatalogEntry],
    disc: Discovery,
    obs: Observations,
) -> None:
    """Fetch entries concurrently; exporter gauges of one `group` (pg_up, mysql_up, redis_up) that name
    components by the same label share a single `__name__=~` query (one tool call instead of three)."""
    grouped: dict[tuple[str, str], list[CatalogEntry]] = defaultdict(list)
    single: list[CatalogEntry] = []
    for e in entries:
        chosen = choose_labels(e, disc)
        if e.group and chosen is not None and not chosen[1]:
            grouped[(e.group, chosen[0])].append(e)
        else:
            single.append(e)
    jobs = [fetch_entry(src, catalog, e, disc, obs) for e in single]
    for (_, by), members in grouped.items():
        if len(members) == 1:
            jobs.append(fetch_entry(src, catalog, members[0], disc, obs))
        else:
            jobs.append(_fetch_group(src, catalog, members, by, disc, obs))
    await asyncio.gather(*jobs)


async def _fetch_group(
    src: TelemetrySource,
    catalog: SignalCatalog,
    members: list[CatalogEntry],
    by: str,
    disc: Discovery,
    obs: Observations,
) -> None:
    names = {e.requires[0]: e for e in members}
    agg = members[0].group_agg
    expr = f'{agg} by (__name__, {by}) ({{__name__=~"{_alternation(names)}"}})'
    res = await src.prom_range(expr)
    if not isinstance(res, Data):
        return
    for name, entry in names.items():
        part = tuple(s for s in res.value.series if s.labels.get("__name__") == name)
        if part:
            sub: Data[QueryResult] = Data(value=res.value.model_copy(update={"series": part}))
            _ingest(catalog, entry, sub, expr, by, "", disc, obs)


async def fetch_entry(
    src: TelemetrySource,
    catalog: SignalCatalog,
    entry: CatalogEntry,
    disc: Discovery,
    obs: Observations,
) -> None:
    chosen = choose_labels(entry, disc)
    if chosen is None:
        return
    by, peer = chosen
    expr = _fill(entry.query, by, peer, src.rate_window)
    res = await src.prom_range(expr)
    if isinstance(res, Failed):
        obs.notes.append(f"query failed for {entry.signal} ({entry.family}): {res.error}")
        return
    if not isinstance(res, Data):
        return
    mapping = disc.mappings.get(entry.family)
    if mapping is None:
        _ingest(catalog, entry, res, expr, by, peer, disc, obs)
        return
    fix = sigdisc.plausible(mapping, (v for s in res.value.series for v in s.values))
    total = sigdisc.cumulative(mapping, (s.values for s in res.value.series))
    mean = mapping.mean_of_total() if total is not None else None
    if mean is not None:
        # A running total of time spent beside a count of the same events: the mean per event.
        query = mean.entry_query()
        expr = _fill(query, by, peer, src.rate_window)
        res = await src.prom_range(expr)
        if not isinstance(res, Data):
            return
        mapping, total = mean, None
        fix = sigdisc.plausible(mapping, (v for s in res.value.series for v in s.values))
    if total is not None:
        fix = sigdisc.Fix(rejected=total)
    unmeasured = sigdisc.never_succeeds(mapping, (s.values for s in res.value.series))
    if unmeasured is not None:
        fix = sigdisc.Fix(rejected=unmeasured)
    if fix.rejected is not None:
        obs.notes.append(f"inferred mapping {mapping.metric} → {mapping.signal} rejected: {fix.rejected}")
        return
    fixed = res.value.model_copy(
        update={
            "series": tuple(
                s.model_copy(update={"values": tuple(fix.apply(v) for v in s.values)})
                for s in res.value.series
            )
        }
    )
    before = len(obs.series)
    _ingest(
        catalog, entry, Data(value=fixed), fix.query(mapping, expr), by, peer, disc, obs, mapping.confidence
    )
    if len(obs.series) > before:
        obs.inferred.append(
            f"{mapping.metric} → {mapping.signal} ({mapping.reason}; confidence {mapping.confidence:.2f})"
        )


def _ingest(
    catalog: SignalCatalog,
    entry: CatalogEntry,
    res: Data[QueryResult],
    expr: str,
    by: str,
    peer: str,
    disc: Discovery,
    obs: Observations,
    trust: float = 1.0,
) -> None:
    spec = catalog.spec(entry.signal)
    order = [lbl.strip() for lbl in by.split(",")]
    groups: dict[tuple[str, str | None], list[PromSeries]] = defaultdict(list)
    for s in res.value.series:
        comp = component_of(s.labels, order, disc.components)
        if comp is None:
            continue
        if entry.caller_label and s.labels.get(entry.caller_label):
            caller = normalise(s.labels[entry.caller_label], label=entry.caller_label)
            if caller and caller != comp:
                obs.edges.setdefault((caller, comp), "metrics")
        peer_name = None
        if peer:
            raw = s.labels.get(peer, "")
            peer_name = normalise(raw, label=peer) if raw else None
            if not peer_name or peer_name == comp:
                continue
        groups[(comp, peer_name)].append(s)
    for (comp, peer_name), rows in groups.items():
        ts, vals = _aggregate(entry.signal, rows)
        if not any(math.isfinite(v) for v in vals):
            continue
        obs.add(
            SignalSeries(
                component=comp,
                signal=entry.signal,
                peer=peer_name,
                timestamps=ts,
                values=vals,
                query=expr,
                link=res.value.explore_url,
                family=entry.family,
                unit=spec.unit,
                bad=spec.bad,
                floor=spec.floor,
                specific=entry.kind != "any" and trust >= 1.0,
                trust=trust,
            )
        )
        if entry.kind != "any":
            obs.kinds[comp] = _stronger(obs.kinds.get(comp), entry.kind)
        if peer_name:
            obs.edges.setdefault((comp, peer_name), "metrics")
            if entry.peer_kind:
                obs.peer_kinds[peer_name] = _stronger(obs.peer_kinds.get(peer_name), entry.peer_kind)


_KIND_RANK = {
    "service": 0,
    "external": 1,
    "volume": 2,
    "host": 3,
    "dns": 4,
    "queue": 5,
    "cache": 6,
    "database": 7,
}


def _stronger(current: str | None, new: str) -> str:
    """Infra kinds beat "service": a postgres exporter says more about a component than an `up` series."""
    if current is None:
        return new
    return new if _KIND_RANK.get(new, 0) > _KIND_RANK.get(current, 0) else current


async def fetch_versions(
    src: TelemetrySource, catalog: SignalCatalog, disc: Discovery, obs: Observations
) -> None:
    # In catalog order, and only for components no earlier convention answered for: kube-state-metrics
    # usually covers every pod, making target_info / build_info queries redundant.
    for spec in catalog.versions:
        for metric in _version_metrics(spec, disc.metric_names):
            present = disc.labels.get(metric, set())
            comp = next((lbl for lbl in spec.component_labels if lbl in present), None)
            ver = next((lbl for lbl in spec.version_labels if lbl in present), None)
            if not (comp and ver):
                continue
            covers = {normalise(v, label=comp) for v in disc.metric_values.get(metric, {}).get(comp, set())}
            if covers and all(obs.get(c, "version_change") is not None for c in covers):
                continue
            await _versions_of(src, metric, comp, ver, disc, obs)


async def _versions_of(
    src: TelemetrySource, metric: str, comp_label: str, ver_label: str, disc: Discovery, obs: Observations
) -> None:
    expr = f"count by ({comp_label}, {ver_label}) ({metric})"
    res = await src.prom_range(expr)
    if not isinstance(res, Data):
        return
    spans: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    for s in res.value.series:
        comp = component_of(s.labels, [comp_label], disc.components)
        version = s.labels.get(ver_label, "")
        seen = [t for t, v in zip(s.timestamps, s.values, strict=False) if math.isfinite(v) and v > 0]
        if comp is None or not version or not seen:
            continue
        prev = spans[comp].get(version)
        first, last = min(seen), max(seen)
        spans[comp][version] = (min(first, prev[0]), max(last, prev[1])) if prev else (first, last)
    margin = 0.1 * (src.end - src.start)
    grid = tuple(sorted({t for s in res.value.series for t in s.timestamps}))
    for comp, versions in spans.items():
        change: VersionChange | None = None
        for version, (first, _last) in sorted(versions.items(), key=lambda kv: kv[1][0]):
            if first > src.start + margin:
                older = tuple(v for v, (f, _) in versions.items() if f < first and v != version)
                if older:
                    change = VersionChange(comp, older, version, first, expr, res.value.explore_url)
                    break
        if change is not None:
            obs.versions[comp] = change
        flag = tuple(1.0 if change is not None and t >= change.at else 0.0 for t in grid)
        obs.add(
            SignalSeries(
                comp,
                "version_change",
                None,
                grid,
                flag,
                expr,
                res.value.explore_url,
                "info metric",
                "flag",
                "up",
            )
        )


async def fetch_placement(
    src: TelemetrySource, catalog: SignalCatalog, disc: Discovery, obs: Observations
) -> None:
    for p in catalog.placements:
        if p.metric not in disc.metric_names:
            continue
        expr = f"count by ({p.component_from}, {p.host_label}) ({p.metric})"
        res = await src.prom_range(expr, step_s=max(60, int((src.end - src.start) / 12)))
        if not isinstance(res, Data):
            continue
        for s in res.value.series:
            comp = component_of(s.labels, [p.component_from], disc.components)
            host_raw = s.labels.get(p.host_label)
            if comp and host_raw:
                obs.hosts[normalise(host_raw, label=p.host_label)].add(comp)


def assign_kinds(catalog: SignalCatalog, disc: Discovery, obs: Observations) -> None:
    """Kinds from discovery alone (a postgres exporter names a database), so that hypotheses fit
    their component before any signal has been fetched."""
    for entry in [*catalog.applicable(disc.metric_names), *disc.inferred]:
        if entry.kind in ("any", "service"):
            continue
        chosen = choose_labels(entry, disc)
        if chosen is None:
            continue
        label = chosen[0].split(",")[0].strip()
        for raw in disc.metric_values.get(entry.requires[0], {}).get(label, set()):
            name = normalise(raw, label=label)
            if name and not is_ip(name):
                obs.kinds[name] = _stronger(obs.kinds.get(name), entry.kind)


def discovered_components(catalog: SignalCatalog, disc: Discovery) -> set[str]:
    names: set[str] = set()
    labels = {lbl for e in catalog.entries for lbl in (*e.component_labels, *e.peer_labels)}
    for lbl in labels:
        for v in disc.values.get(lbl, ()):
            n = normalise(v, label=lbl)
            if n and not is_ip(n):
                names.add(n)
    for entry in disc.inferred:  # only the values inferred metrics carry: no label is trusted wholesale
        lbl = entry.component_labels[0]
        for v in disc.metric_values.get(entry.requires[0], {}).get(lbl, set()):
            n = normalise(v, label=lbl)
            if n and not is_ip(n):
                names.add(n)
    return names


def _why(res: object) -> str:
    if isinstance(res, Failed):
        return res.error
    return "no data"

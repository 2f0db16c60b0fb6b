"""Fault injectors: one function per FAULTS.md id, writing drivers into the simulation.

Each injector produces the real-world evidence FAULTS.md lists for its id — and nothing that would
make another id's refutation false (e.g. pool exhaustion leaves the database's own latency normal).
`CANDIDATES` says where each fault can live in a system, with its variants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from compass_lab.scenarios.blueprint import Blueprint
from compass_lab.scenarios.signals import diurnal, ramp
from compass_lab.scenarios.simulate import Sim
from compass_lab.scenarios.state import Comp, Event, Pod, k8s_suffix
from compass_lab.scenarios.topology import System, expected_rates
from compass_worker.contracts import FAULT_IDS as CONTRACT_FAULT_IDS

# The fault vocabulary of FAULTS.md, shared with every verdict and benchmark.
FAULT_IDS = CONTRACT_FAULT_IDS

# Minutes between onset and `at` needed for the symptom to be visible (slow-building faults).
MIN_LEAD_MIN = {"memory_leak": 12, "disk_full": 9, "queue_backlog": 8, "traffic_surge": 7}

TLS_SERVICES = {"shop": ("payments", "checkout"), "ridehail": ("dispatch", "drivers")}
INTERNAL_QUOTA = {"shop": ("catalog", "cart"), "ridehail": ("geo", "pricing")}
FLAGS = (
    "checkout.new-tax-engine",
    "payments.retry-v2",
    "search.semantic-ranking",
    "pricing.surge-model-b",
    "dispatch.batch-matching",
    "geo.h3-resolution-9",
    "cart.merge-guest-carts",
    "notify.template-v3",
)


@dataclass(frozen=True)
class Candidate:
    component: str
    variant: str


def candidates(system: System, fault: str) -> tuple[Candidate, ...]:
    """Where `fault` can plausibly live in `system`, with a variant name."""
    services = [n.name for n in system.services()]
    callees = [n.name for n in system.services() if system.callers_of(n.name) and n.tech != "worker"]
    sql_clients = sorted({e.caller for e in system.edges if e.protocol == "sql"})
    dbs = [n.name for n in system.nodes if n.kind == "database"]
    externals = [n.name for n in system.nodes if n.kind == "external"]
    queues = [n.name for n in system.nodes if n.kind == "queue"]
    caches = [
        n.name
        for n in system.nodes
        if n.tech == "redis" and any(e.fallback_of == n.name for e in system.edges)
    ]
    workers = [n.name for n in system.services() if n.tech == "worker"]
    out: list[Candidate] = []
    if fault == "cpu_saturation":
        out = [Candidate(s, "hot_loop") for s in services if s != system.entry and s not in workers]
        out += [Candidate(h, "noisy_neighbour") for h in system.hosts]
    elif fault == "memory_leak":
        out = [Candidate(s, "oom") for s in services if s != system.entry]
    elif fault == "db_connection_pool_exhaustion":
        out = [Candidate(s, v) for s in sql_clients for v in ("leak", "burst")]
    elif fault == "db_slow_queries":
        out = [Candidate(d, v) for d in dbs for v in ("lock_contention", "missing_index")]
    elif fault == "bad_deploy":
        out = [
            Candidate(s, v)
            for s in services
            for v in ("errors", "latency")
            if not (s in workers and v == "latency")
        ]
    elif fault == "config_change":
        out = [Candidate(s, v) for s in services for v in ("errors", "latency") if s not in workers]
    elif fault == "dependency_latency":
        out = [Candidate(s, "slow") for s in callees] + [Candidate(x, "slow") for x in externals]
    elif fault == "dependency_outage":
        out = [Candidate(s, "crashloop") for s in callees] + [Candidate(d, "down") for d in dbs]
        out += [Candidate(x, "down") for x in externals] + [Candidate(q, "down") for q in queues]
    elif fault == "network_packet_loss":
        out = [Candidate(h, "retransmits") for h in system.hosts]
    elif fault == "dns_failure":
        out = [Candidate("coredns", "upstream_servfail"), Candidate("coredns", "kube_api_watch_lost")]
    elif fault == "disk_full":
        written = {e.callee for e in system.edges if e.operation in ("INSERT", "UPDATE")}
        out = [Candidate(d, "pvc") for d in dbs if d in written] + [Candidate(q, "pvc") for q in queues]
        out += [Candidate(w, "pvc") for w in workers] + [Candidate(h, "rootfs") for h in system.hosts]
    elif fault == "certificate_expiry":
        out = [Candidate(x, "expired") for x in externals]
        out += [Candidate(s, "expired") for s in TLS_SERVICES.get(system.name, system.tls_services)]
    elif fault == "rate_limited":
        out = [Candidate(x, "quota") for x in externals]
        out += [Candidate(s, "quota") for s in INTERNAL_QUOTA.get(system.name, system.quota_services)]
    elif fault == "traffic_surge":
        out = [Candidate(s, "surge") for s in _surge_targets(system)]
    elif fault == "cache_failure":
        out = [Candidate(c, v) for c in caches for v in ("down", "evictions", "flush")]
    elif fault == "queue_backlog":
        out = [Candidate(q, v) for q in queues for v in ("rebalance_storm", "partition_stuck")]
    if not out:
        raise ValueError(f"fault {fault!r} has no candidate component in system {system.name!r}")
    return tuple(out)


def _surge_targets(system: System) -> list[str]:
    """Services that saturate before anything upstream of them when extra traffic reaches them."""
    rates = expected_rates(system)
    out = []
    for node in system.services():
        if node.tech == "worker":
            continue
        path = surge_path(system, node.name)
        need = {p: _headroom_rps(system, p, rates) for p in path}
        if need[node.name] <= min(need.values()) * 1.05:
            out.append(node.name)
    return out


def _headroom_rps(system: System, name: str, rates: dict[str, float]) -> float:
    node = system.node(name)
    per_pod = (node.cpu_limit * 1.1 - node.cpu_idle) / node.cpu_per_rps
    return per_pod * node.replicas - rates[name]


def surge_path(system: System, target: str) -> list[str]:
    """Shortest chain of HTTP calls from the entry point to `target`."""
    frontier: list[list[str]] = [[system.entry]]
    while frontier:
        path = frontier.pop(0)
        if path[-1] == target:
            return path
        for e in system.calls_of(path[-1]):
            if e.protocol == "http" and e.callee not in path:
                frontier.append([*path, e.callee])
    return [target]


# ------------------------------------------------------------------------------------- helpers
def rollout(sim: Sim, name: str, idx: int, rng: np.random.Generator) -> tuple[str, str]:
    """A rolling update at `idx`: new ReplicaSet pods appear, old ones terminate a little later."""
    comp = sim.comps[name]
    old = comp.pods[0].version
    major, minor, patch = (int(x) for x in old.split("."))
    new = f"{major}.{minor + 1}.0" if rng.random() < 0.5 else f"{major}.{minor}.{patch + 1}"
    rs_hash = k8s_suffix(rng, 10)
    alive = [p for p in comp.pods if p.end > idx]
    for k, pod in enumerate(alive):
        start = idx + 2 * k
        ip = f"10.{int(rng.integers(1, 4))}.{int(rng.integers(0, 255))}.{int(rng.integers(2, 254))}"
        image = sim.image(comp.node, new)
        comp.pods.append(
            Pod(f"{name}-{rs_hash}-{k8s_suffix(rng, 5)}", pod.host, ip, new, image, start, sim.n)
        )
        pod.end = min(pod.end, start + 2)
    sim.events.append(Event("deploy", name, idx, (("from", old), ("to", new))))
    return old, new


def new_share(sim: Sim, name: str, version: str) -> np.ndarray:
    comp = sim.comps[name]
    ready = [p.ready(sim.n).astype(np.float64) for p in comp.pods]
    total = np.maximum(np.sum(ready, axis=0), 1e-9)
    new = np.sum([r for r, p in zip(ready, comp.pods, strict=True) if p.version == version], axis=0)
    out: np.ndarray = new / total
    return out


def _diurnal_at_onset(sim: Sim, bp: Blueprint) -> float:
    """Traffic level at onset relative to the daily mean (the entry rate follows the same curve)."""
    return float(diurnal(np.array([bp.onset or bp.at]), 0.35, 18.0)[0] * sim.entry_mult[bp.onset_idx])


def pods_on(comp: Comp, host: str) -> float:
    if not comp.pods:
        return 0.0
    return sum(1 for p in comp.pods if p.host == host) / len(comp.pods)


# ------------------------------------------------------------------------------------- injectors
Injector = Callable[[Sim, Blueprint, np.random.Generator], None]


def _cpu_saturation(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    io, m, name = bp.onset_idx, bp.magnitude, str(bp.component)
    r = ramp(sim.n, io, int(rng.integers(2, 5)))
    if bp.variant == "noisy_neighbour":
        host = sim.hosts[name]
        host.neighbour_cores = host.neighbour_cores + r * host.cpus * (0.8 + 0.18 * m)
        for comp in sim.comps.values():
            share = pods_on(comp, name)
            if share:
                comp.host_slow = comp.host_slow * (1.0 + r * share * (1.5 + 4.0 * m))
        sim.events.append(Event("neighbour", name, io, (("pod", f"batch-reindex-{k8s_suffix(rng, 5)}"),)))
        return
    comp = sim.comps[name]
    comp.cpu_extra = comp.cpu_extra + r * comp.node.cpu_limit * (1.0 + 0.5 * m)


def _memory_leak(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    sim.leak_start[str(bp.component)] = bp.onset_idx
    sim.leak_minutes = 3.0 + 3.0 * (1.0 - bp.magnitude) + float(rng.uniform(0, 1))


def _pool_exhaustion(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    comp = sim.comps[str(bp.component)]
    length = 8 if bp.variant == "leak" else 2
    comp.pool_pressure = ramp(sim.n, bp.onset_idx, length) * (0.55 + 0.45 * bp.magnitude)


def _db_slow_queries(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    comp = sim.comps[str(bp.component)]
    r = ramp(sim.n, bp.onset_idx, int(rng.integers(2, 5)))
    weak = bp.lookalike_group is not None
    weak = bp.lookalike_group == "db-pool-vs-slow-queries"  # DB-side signal only moderately up
    factor = (6.0 + 8.0 * bp.magnitude) if weak else (12.0 + 60.0 * bp.magnitude)
    comp.own_mult = comp.own_mult * (1.0 + r * (factor - 1.0))
    comp.sigma_add = comp.sigma_add + r * 0.35
    comp.sig["slow"] = r * factor
    if bp.variant == "lock_contention":
        comp.sig["locks"] = r * (15.0 + 60.0 * bp.magnitude)
    else:
        comp.cpu_mult = comp.cpu_mult * (1.0 + r * (1.0 + 1.5 * bp.magnitude))


def _bad_deploy(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    name = str(bp.component)
    _, new = rollout(sim, name, bp.onset_idx, rng)
    share = new_share(sim, name, new)
    comp = sim.comps[name]
    if bp.variant == "latency":
        comp.own_add = comp.own_add + share * (0.08 + 0.6 * bp.magnitude)
    else:
        comp.add_err("500", share * (0.03 + 0.35 * bp.magnitude))


def _config_change(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    name = str(bp.component)
    comp = sim.comps[name]
    io = bp.onset_idx
    flag = FLAGS[int(rng.integers(0, len(FLAGS)))]
    sim.events.append(
        Event(
            "config_reload", name, io, (("flag", flag), ("old", "false"), ("new", "true"), ("harmful", "yes"))
        )
    )
    r = ramp(sim.n, io + 1, 2)
    if bp.variant == "latency":
        comp.own_add = comp.own_add + r * (0.08 + 0.6 * bp.magnitude)
    else:
        comp.add_err("500", r * (0.03 + 0.35 * bp.magnitude))
    if bp.lookalike_group is not None:  # an earlier, harmless rollout of the same service
        rollout(sim, name, io - int(rng.integers(80, 140)), rng)


def _dependency_latency(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    comp = sim.comps[str(bp.component)]
    r = ramp(sim.n, bp.onset_idx, int(rng.integers(2, 5)))
    weak = bp.lookalike_group is not None
    added = (0.05 + 0.15 * bp.magnitude) if weak else (0.12 + 0.9 * bp.magnitude)
    if comp.node.kind == "external":
        added *= 2.0
    comp.own_add = comp.own_add + r * added
    comp.sigma_add = comp.sigma_add + r * 0.2


def _dependency_outage(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    name = str(bp.component)
    comp = sim.comps[name]
    io = bp.onset_idx
    comp.unavailable = np.clip(comp.unavailable + ramp(sim.n, io, 2), 0.0, 1.0)
    if bp.variant == "crashloop":
        for k, pod in enumerate(comp.pods):
            at, backoff = io + k, 2
            while at < sim.n:
                pod.restarts.append((at, "Error"))
                backoff = min(backoff * 2, 20)
                at += backoff + int(rng.integers(0, 2))
            pod.down.append((io + k, sim.n))


def _network_packet_loss(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    host_name = str(bp.component)
    host = sim.hosts[host_name]
    r = ramp(sim.n, bp.onset_idx, 2)
    m = bp.magnitude
    weak = bp.lookalike_group is not None
    host.retrans_extra = host.retrans_extra + r * ((0.008 + 0.012 * m) if weak else (0.02 + 0.06 * m))
    for (caller, callee), link in sim.links.items():
        share = max(pods_on(sim.comps[callee], host_name), pods_on(sim.comps[caller], host_name))
        if share == 0.0 or sim.comps[callee].node.kind == "external":
            continue
        link.extra_lat = link.extra_lat + r * share * (0.2 + 0.9 * m)
        link.sigma_add = link.sigma_add + r * share * 0.5
        link.add_conn_err("timeout", r * share * (0.004 + 0.04 * m))
        link.add_conn_err("reset", r * share * 0.01 * m)


def _dns_failure(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    r = ramp(sim.n, bp.onset_idx, 2)
    dns = sim.comps["coredns"]
    m = bp.magnitude
    if bp.variant == "upstream_servfail":
        fail = r * (0.5 + 0.45 * m)
        for (_caller, callee), link in sim.links.items():
            if sim.comps[callee].node.kind == "external":
                link.add_conn_err("dns", fail)
        dns.sig["forward_fail"] = fail
    else:
        fail = r * (0.03 + 0.12 * m)
        for link in sim.links.values():
            if link.edge.protocol in ("http", "sql", "redis", "produce"):
                link.add_conn_err("dns", fail)
        dns.sig["internal_fail"] = r
        dns.own_mult = dns.own_mult * (1.0 + r * (3.0 + 10.0 * m))
    dns.sig["lookup_fail"] = fail


def _disk_full(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    name = str(bp.component)
    io = bp.onset_idx
    fill = ramp(sim.n, io, int(rng.integers(12, 20)))
    full = np.clip((fill - 0.97) / 0.03, 0.0, 1.0)
    sev = 0.6 + 0.4 * bp.magnitude
    if bp.variant == "rootfs":
        sim.hosts[name].fs_fill = fill
        for comp in sim.comps.values():
            share = pods_on(comp, name)
            if share and comp.node.is_service:
                comp.add_err("500", full * share * sev * 0.5)
            elif share:
                comp.add_err("write", full * share * sev)
        return
    comp = sim.comps[name]
    comp.disk_fill = fill
    comp.add_err("500" if comp.node.is_service else "write", full * sev)


def _certificate_expiry(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    comp = sim.comps[str(bp.component)]
    comp.tls_fail = np.clip(comp.tls_fail + ramp(sim.n, bp.onset_idx, int(rng.integers(2, 6))), 0.0, 1.0)
    sim.events.append(Event("cert_expired", comp.node.name, bp.onset_idx))


def _rate_limited(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    name = str(bp.component)
    comp = sim.comps[name]
    base = expected_rates(sim.system)[name] * _diurnal_at_onset(sim, bp)
    quota = base * (0.85 - 0.45 * bp.magnitude)
    r = ramp(sim.n, bp.onset_idx, 2)
    comp.quota = np.where(r > 0, quota, np.inf)


def _traffic_surge(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    name = str(bp.component)
    level = _diurnal_at_onset(sim, bp)
    rates = {k: v * level for k, v in expected_rates(sim.system).items()}
    extra = _headroom_rps(sim.system, name, rates) * (1.1 + 0.6 * bp.magnitude)
    r = ramp(sim.n, bp.onset_idx, int(rng.integers(4, 9)))
    path = surge_path(sim.system, name)
    sim.surge_path = path
    for p in path:
        sim.comps[p].surge = sim.comps[p].surge + r * extra


def _cache_failure(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    comp = sim.comps[str(bp.component)]
    io = bp.onset_idx
    m = bp.magnitude
    if bp.variant == "down":
        comp.unavailable = np.clip(comp.unavailable + ramp(sim.n, io, 1), 0.0, 1.0)
    elif bp.variant == "evictions":
        drop = ramp(sim.n, io, int(rng.integers(3, 7))) * (0.35 + 0.5 * m)
        comp.hit_drop = comp.hit_drop + drop
        comp.sig["evict"] = drop
    else:  # FLUSHALL / keyspace wiped: hit ratio collapses, then slowly recovers as keys refill
        idx = np.arange(sim.n, dtype=np.float64)
        decay = np.where(idx >= io, np.exp(-(idx - io) / (60.0 + 40.0 * m)), 0.0)
        comp.hit_drop = comp.hit_drop + decay * (0.75 + 0.15 * m)
        sim.events.append(Event("flushall", comp.node.name, io))


def _queue_backlog(sim: Sim, bp: Blueprint, rng: np.random.Generator) -> None:
    comp = sim.comps[str(bp.component)]
    r = ramp(sim.n, bp.onset_idx, 2)
    drop = (0.5 + 0.3 * bp.magnitude) if bp.variant == "rebalance_storm" else 0.56
    comp.consume_mult = comp.consume_mult * (1.0 - r * drop)
    comp.sig["stuck_partition"] = np.full(sim.n, float(rng.integers(0, 3)))


INJECTORS: dict[str, Injector] = {
    "cpu_saturation": _cpu_saturation,
    "memory_leak": _memory_leak,
    "db_connection_pool_exhaustion": _pool_exhaustion,
    "db_slow_queries": _db_slow_queries,
    "bad_deploy": _bad_deploy,
    "config_change": _config_change,
    "dependency_latency": _dependency_latency,
    "dependency_outage": _dependency_outage,
    "network_packet_loss": _network_packet_loss,
    "dns_failure": _dns_failure,
    "disk_full": _disk_full,
    "certificate_expiry": _certificate_expiry,
    "rate_limited": _rate_limited,
    "traffic_surge": _traffic_surge,
    "cache_failure": _cache_failure,
    "queue_backlog": _queue_backlog,
}


def inject(sim: Sim, bp: Blueprint) -> None:
    if bp.fault is None:
        return
    INJECTORS[bp.fault](sim, bp, np.random.default_rng([bp.seed, 71]))


def affected_services(sim: Sim, bp: Blueprint) -> list[str]:
    """Services where a host- or DNS-level fault shows first (for picking a symptom)."""
    if bp.fault == "dns_failure":
        return sorted({c for (c, _), link in sim.links.items() if "dns" in link.conn_err})
    host = str(bp.component)
    return [c.node.name for c in sim.comps.values() if c.node.is_service and pods_on(c, host)]

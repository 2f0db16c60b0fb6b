"""Baseline set-up and propagation: drivers in, observable per-component signals out.

Traffic flows down the call graph (callers → callees, producers → queue → consumers); latency and
errors flow back up, each hop delayed by its link's `delay` so a fault's cause always leads its
symptoms. Load couples back into latency where it would in reality (CPU saturation, DB load from
cache misses, connection-pool queueing).
"""

from __future__ import annotations

import zlib
from statistics import NormalDist

import numpy as np

from compass_lab.model import FloatArray
from compass_lab.scenarios.blueprint import STEP_S, Blueprint
from compass_lab.scenarios.signals import diurnal, noise, shift
from compass_lab.scenarios.state import Comp, Event, HostState, Link, Pod, k8s_suffix, ones, zeros
from compass_lab.scenarios.topology import Node

GATEWAY_CODE_OF_KIND = {"refused": "503", "timeout": "504", "reset": "502", "dns": "502", "tls": "502"}
RTT_S = 0.0008
POOL_TIMEOUT_S = 3.0
RETRIES = 2  # client retries on 429 / timeouts / resets


def quantile(mean: FloatArray, sigma: FloatArray | float, p: float) -> FloatArray:
    """Quantile p of a lognormal with the given mean and shape."""
    z = NormalDist().inv_cdf(p)
    out: FloatArray = mean * np.exp(-(np.asarray(sigma) ** 2) / 2.0 + z * np.asarray(sigma))
    return out


_PS = np.linspace(0.5, 0.99, 99)
_ZS = np.array([NormalDist().inv_cdf(float(p)) for p in _PS])


def tail_contribution(mean: FloatArray, sigma: FloatArray, per_req: FloatArray) -> FloatArray:
    """What a downstream call adds to the caller's p99.

    If only a fraction q of requests make the call, the caller's p99 holds the callee's
    (1 - 0.01/q) quantile; calls made several times per request add one p99 and the rest at the mean.
    """
    q = np.maximum(per_req, 1e-6)
    p = np.clip(1.0 - 0.01 / np.minimum(q, 1.0), 0.5, 0.99)
    z = np.interp(p, _PS, _ZS)
    one = mean * np.exp(-(sigma**2) / 2.0 + z * sigma)
    out: FloatArray = np.where(q > 0.011, one, mean * q) + np.maximum(q - 1.0, 0.0) * mean
    return out


def sigma_from_tail(mean: FloatArray, p99: FloatArray) -> FloatArray:
    """The lognormal shape whose p99/mean ratio is the given one (smaller root, clipped)."""
    log_ratio = np.log(np.clip(p99 / np.maximum(mean, 1e-9), 1.05, 14.0))
    out: FloatArray = 2.326 - np.sqrt(np.maximum(2.326**2 - 2.0 * log_ratio, 0.0))
    return np.clip(out, 0.15, 2.2)


class Sim:
    def __init__(self, bp: Blueprint) -> None:
        self.bp = bp
        self.system = bp.system
        self.n = bp.n
        self.ts = bp.ts()
        self.rng = np.random.default_rng([bp.seed, 11])
        self.entry_mult = ones(self.n)  # benign traffic bumps on the entry point
        self.comps: dict[str, Comp] = {}
        self.links: dict[tuple[str, str], Link] = {}
        self.hosts = {h: HostState(h, self.n) for h in self.system.hosts}
        self.surge_path: list[str] = []
        self.host_busy: dict[str, FloatArray] = {}
        self.events: list[Event] = []
        self.leak_start: dict[str, int] = {}  # service -> sample where its memory starts leaking
        self.leak_minutes = 5.0  # time for a leaking pod to go from baseline to its limit
        self._setup()

    # ---------------------------------------------------------------------------------- set-up
    def _setup(self) -> None:
        rng = self.rng
        for node in self.system.nodes:
            comp = Comp(node, self.n)
            comp.own_mult = noise(rng, self.n, 0.035)
            comp.pool_max = int(rng.choice([5, 6, 8, 10]))
            # benign baseline errors: most services drop a few requests now and then
            if node.is_service:
                base_err = float(rng.choice([0.0003, 0.0008, 0.0015, 0.003]))
                comp.add_err("500", base_err * noise(rng, self.n, 0.25))
            comp.pods = self._initial_pods(node)
            self.comps[node.name] = comp
        for edge in self.system.edges:
            link = Link(edge, self.n, delay=int(rng.integers(2, 9)))  # 30-120 s per hop
            self.links[(edge.caller, edge.callee)] = link

    def _initial_pods(self, node: Node) -> list[Pod]:
        rng = self.rng
        if node.tech == "external":
            return []
        version = f"{int(rng.integers(1, 4))}.{int(rng.integers(2, 40))}.{int(rng.integers(0, 12))}"
        hosts = node.hosts or self.system.hosts[:1]
        pods = []
        stateful = node.tech in ("postgres", "mysql", "redis", "kafka")
        rs_hash = k8s_suffix(rng, 10 if node.tech != "coredns" else 9)
        for i in range(node.replicas):
            name = f"{node.name}-{i}" if stateful else f"{node.name}-{rs_hash}-{k8s_suffix(rng, 5)}"
            ip = f"10.{int(rng.integers(1, 4))}.{int(rng.integers(0, 255))}.{int(rng.integers(2, 254))}"
            pods.append(Pod(name, hosts[i % len(hosts)], ip, version, self.image(node, version), 0, self.n))
        return pods

    def image(self, node: Node, version: str) -> str:
        infra = {
            "postgres": "docker.io/library/postgres:16.4",
            "mysql": "docker.io/library/mysql:8.0.39",
            "redis": "docker.io/library/redis:7.2.5",
            "kafka": "docker.io/bitnami/kafka:3.7.1",
            "coredns": "registry.k8s.io/coredns/coredns:v1.11.1",
        }
        return infra.get(node.tech, f"ghcr.io/acme-{self.system.name}/{node.name}:{version}")

    # ---------------------------------------------------------------------------------- run
    def run(self) -> None:
        self._memory()
        for _ in range(2):  # second pass lets queue consumption see consumer latency
            self._traffic()
            self._latency()
        self._host_signals()

    def _traffic(self) -> None:
        sysm = self.system
        n = self.n
        base = sysm.base_rps * diurnal(self.ts, 0.35, 18.0) * self.entry_mult
        entry_rate = base * noise(np.random.default_rng([self.bp.seed, 21]), n, 0.05)
        for name in sysm.topo_order():
            comp = self.comps[name]
            node = comp.node
            if name == sysm.entry:
                comp.rate = entry_rate + comp.surge
            elif node.tech == "worker":
                queue = next(e.callee for e in sysm.calls_of(name) if e.protocol == "consume")
                comp.rate = self.comps[queue].sig.get("consume", zeros(n)).copy()
            elif node.tech == "kafka":
                comp.rate = sum(
                    (
                        self.links[(e.caller, name)].rate
                        for e in sysm.callers_of(name)
                        if e.protocol == "produce"
                    ),
                    zeros(n),
                )
                self._queue(comp)
            else:
                comp.rate = sum(
                    (
                        self.links[(e.caller, name)].rate * (1.0 - self._dns(e.caller, name))
                        for e in sysm.callers_of(name)
                        if e.protocol != "consume"
                    ),
                    zeros(n),
                )
            if comp.base_rate == 1.0:
                comp.base_rate = float(np.median(comp.rate[: self.bp.onset_idx - 20])) or 1e-6
            self._quota(comp)
            for edge in sysm.calls_of(name):
                if edge.protocol == "consume":
                    continue
                link = self.links[(name, edge.callee)]
                served = comp.rate * (1.0 - comp.unavailable) * (1.0 - comp.tls_fail)
                own_rate = served - (comp.surge if name in self.surge_path else 0.0)
                calls = own_rate * edge.cpr
                if edge.fallback_of:
                    cache = self.comps[edge.fallback_of]
                    miss = self._miss_ratio(cache)
                    calls = calls * miss / 0.08
                if name in self.surge_path:
                    nxt = self.surge_path.index(name) + 1
                    if nxt < len(self.surge_path) and self.surge_path[nxt] == edge.callee:
                        calls = calls + comp.surge
                retryable = self._retryable_failure(link)
                link.rate = calls * (1.0 + retryable + retryable**2)

    def _dns(self, caller: str, callee: str) -> FloatArray:
        out: FloatArray = self.links[(caller, callee)].conn_err.get("dns", zeros(self.n))
        return out

    def _miss_ratio(self, cache: Comp) -> FloatArray:
        hit = np.clip(0.92 - cache.hit_drop, 0.0, 1.0) * (1.0 - cache.unavailable)
        cache.sig["hit"] = hit
        out: FloatArray = np.clip(1.0 - hit, 0.0, 1.0)
        return out

    def _retryable_failure(self, link: Link) -> FloatArray:
        callee = self.comps[link.edge.callee]
        r429 = shift(callee.sig.get("r429", zeros(self.n)), link.delay)
        tmo = link.conn_err.get("timeout", zeros(self.n)) + link.conn_err.get("reset", zeros(self.n))
        out: FloatArray = np.clip(r429 + tmo, 0.0, 0.95)
        return out

    def _quota(self, comp: Comp) -> None:
        if not np.isfinite(comp.quota).any():
            comp.sig["r429"] = zeros(self.n)
            return
        ratio = np.where(np.isfinite(comp.quota), 1.0 - comp.quota / np.maximum(comp.rate, 1e-9), 0.0)
        comp.sig["r429"] = np.clip(ratio, 0.0, 0.97)

    def _queue(self, comp: Comp) -> None:
        """Kafka: produced vs consumed messages; lag integrates the difference."""
        n = self.n
        produce = comp.rate * (1.0 - comp.unavailable)
        consumer = next(
            (e.caller for e in self.system.callers_of(comp.node.name) if e.protocol == "consume"), ""
        )
        slow = ones(n)
        if consumer:
            c = self.comps[consumer]
            if c.mean.any():
                base = float(np.median(c.mean[: self.bp.onset_idx - 20])) or 1e-3
                slow = np.maximum(c.mean / base, 1.0) ** 0.8
            slow = slow / np.maximum(c.ready_fraction(), 0.05)
        capacity = float(np.percentile(produce[: max(self.bp.onset_idx - 20, 10)], 95)) * 1.5
        cap = capacity * comp.consume_mult / slow
        lag = np.zeros(n)
        consume = np.zeros(n)
        backlog = 30.0
        for i in range(n):
            want = produce[i] + backlog / STEP_S
            got = min(want, cap[i])
            backlog = max(backlog + (produce[i] - got) * STEP_S, 0.0)
            consume[i] = got
            lag[i] = backlog
        jitter = noise(np.random.default_rng([self.bp.seed, 31]), n, 0.2)
        in_flight = (
            produce * 1.8 * noise(np.random.default_rng([self.bp.seed, 32]), n, 0.35)
        )  # batches in flight
        comp.sig["lag"] = lag * jitter + in_flight
        comp.sig["consume"] = consume
        comp.sig["produce"] = produce

    def _latency(self) -> None:
        sysm = self.system
        n = self.n
        for name in reversed(sysm.topo_order()):
            comp = self.comps[name]
            node = comp.node
            if not node.is_service:
                self._infra_latency(comp)
                continue
            self._cpu(comp)
            err: dict[str, FloatArray] = {c: r.copy() for c, r in comp.own_err.items()}
            own = (node.base_lat * comp.own_mult + comp.own_add) * comp.host_slow * self._cpu_factor(comp)
            own_sigma = node.sigma + comp.sigma_add
            mean = own.copy()
            tail = quantile(own, own_sigma, 0.99)  # approximate p99, built from the parts of a request
            ok = ones(n)
            first_hop = sysm.calls_of(name)[0].callee if sysm.calls_of(name) else ""
            for edge in sysm.calls_of(name):
                link = self.links[(name, edge.callee)]
                if edge.protocol == "consume":
                    continue
                self._link_view(link)
                per_req = link.rate / np.maximum(comp.rate, 1e-9)
                if edge.protocol == "sql":
                    wait = self._pool(comp, link)
                    mean = mean + wait
                    tail = tail + 2.5 * wait
                mean = mean + per_req * link.mean
                tail = tail + tail_contribution(link.mean, link.sigma, per_req)
                f = np.clip(link.fail, 0.0, 1.0)
                # a request that makes `cpr` calls fails if any of them does (at most ~3 matter)
                p_fail = edge.cpr * f if edge.cpr <= 1.0 else 1.0 - (1.0 - f) ** min(edge.cpr, 3.0)
                p_fail = p_fail * edge.critical
                ok = ok * (1.0 - p_fail)
                code = "500"
                if node.tech == "gateway":  # proxies answer 502/503/504 depending on how the upstream failed
                    kinds = {k: float(v.max()) for k, v in link.conn_err.items()}
                    top = max(kinds, key=lambda k: kinds[k]) if kinds and max(kinds.values()) > 0.01 else ""
                    code = GATEWAY_CODE_OF_KIND.get(top, "502")
                    code = "502" if code not in ("503", "504") or edge.callee != first_hop else code
                err[code] = err.get(code, zeros(n)) + p_fail
            if comp.pool_timeouts.any():
                err["500"] = err.get("500", zeros(n)) + comp.pool_timeouts / np.maximum(comp.rate, 1e-9)
            sat = np.clip(0.4 * (comp.cpu_demand / node.cpu_limit - 1.0), 0.0, 0.6)
            err["503"] = err.get("503", zeros(n)) + sat
            total = sum(err.values(), zeros(n))
            scale = np.where(total > 0.98, 0.98 / np.maximum(total, 1e-9), 1.0)
            comp.err = {c: np.clip(r * scale, 0.0, 1.0) for c, r in err.items()}
            comp.mean = mean
            comp.sigma = sigma_from_tail(mean, tail)
            comp.sig["own_mean"] = own + comp.pool_wait
            comp.sig["own_err"] = np.clip(
                sum((r for c, r in comp.own_err.items() if c != "write"), zeros(n))
                + comp.pool_timeouts / np.maximum(comp.rate, 1e-9)
                + sat,
                0.0,
                1.0,
            )
            if comp.sig.get("r429", zeros(n)).any():
                comp.err["429"] = comp.sig["r429"]

    def _infra_latency(self, comp: Comp) -> None:
        node = comp.node
        n = self.n
        load = self._db_load(comp)
        slow_load = (
            1.0 + 1.2 * np.maximum(load - 1.5, 0.0) ** 1.3 if node.tech in ("postgres", "mysql") else 1.0
        )
        comp.mean = (node.base_lat * comp.own_mult + comp.own_add) * slow_load * comp.host_slow
        comp.sigma = node.sigma + comp.sigma_add
        comp.err = {c: np.clip(r, 0.0, 1.0) for c, r in comp.own_err.items()}
        if node.tech == "redis":
            self._miss_ratio(comp)
        comp.cpu_demand = (node.cpu_idle + node.cpu_per_rps * comp.rate) * comp.cpu_mult + comp.cpu_extra
        comp.cpu = np.minimum(comp.cpu_demand, node.cpu_limit)
        comp.throttle = np.clip(0.01 + 0.9 * (comp.cpu_demand / node.cpu_limit - 0.95), 0.0, 0.95)
        if comp.sig.get("r429", zeros(n)).any():
            comp.err["429"] = comp.sig["r429"]

    def _db_load(self, comp: Comp) -> FloatArray:
        """Load relative to baseline; cache-miss fallbacks are the expensive queries the cache saved."""
        weighted = zeros(self.n)
        for e in self.system.callers_of(comp.node.name):
            weighted = weighted + self.links[(e.caller, e.callee)].rate * (5.0 if e.fallback_of else 1.0)
        base = comp.sig.get("base_load")
        if base is None:
            base = np.full(self.n, float(np.median(weighted[: max(self.bp.onset_idx - 20, 10)])) or 1e-6)
            comp.sig["base_load"] = base
        out: FloatArray = weighted / base
        return out

    def _link_view(self, link: Link) -> None:
        """The caller's view of its callee, `delay` samples late."""
        n = self.n
        callee = self.comps[link.edge.callee]
        d = link.delay
        refused = shift(callee.unavailable, d)
        tls = shift(callee.tls_fail, d)
        fast_fail = np.clip(refused + tls + link.conn_err.get("dns", zeros(n)), 0.0, 1.0)
        mean = shift(callee.mean, d) + RTT_S + link.extra_lat
        link.mean = (1.0 - fast_fail) * mean + fast_fail * 0.003
        link.sigma = shift(callee.sigma, d) + link.sigma_add
        if link.base_mean == 0.0:
            link.base_mean = float(np.median(link.mean[: self.bp.onset_idx - 20]))
            link.base_sigma = float(np.median(link.sigma[: self.bp.onset_idx - 20]))
        served = 1.0 - fast_fail
        codes: dict[str, FloatArray] = {}
        for code, ratio in callee.err.items():
            if code == "write":
                if link.edge.operation in ("INSERT", "UPDATE", "publish"):
                    codes["500"] = codes.get("500", zeros(n)) + shift(ratio, d) * served
                continue
            codes[code] = codes.get(code, zeros(n)) + shift(ratio, d) * served
        link.codes = codes
        conn = dict(link.conn_err)
        if refused.any():
            conn["refused"] = np.clip(conn.get("refused", zeros(n)) + refused, 0.0, 1.0)
        if tls.any():
            conn["tls"] = np.clip(conn.get("tls", zeros(n)) + tls, 0.0, 1.0)
        link.conn_err = conn
        r429 = codes.get("429", zeros(n))
        retryable = np.clip(r429 + conn.get("timeout", zeros(n)) + conn.get("reset", zeros(n)), 0, 0.97)
        hard = sum((r for c, r in codes.items() if c != "429"), zeros(n))
        hard = hard + sum((r for k, r in conn.items() if k not in ("timeout", "reset")), zeros(n))
        link.fail = np.clip(hard + retryable ** (1 + RETRIES), 0.0, 1.0)

    def _pool(self, comp: Comp, link: Link) -> FloatArray:
        """Connection pool of a service towards its SQL database; returns the added mean wait."""
        pods = max(comp.node.replicas, 1)
        hold = link.mean + 0.004  # the app keeps the connection a little longer than the query
        demand = link.rate / pods * hold
        natural = np.clip((demand / comp.pool_max - 0.9) / 0.6, 0.0, 1.0)
        pressure = np.maximum(natural, comp.pool_pressure)
        # crc32, not hash(): str hashes are salted per process, which made the telemetry differ between
        # the lab server and the benchmark's own process
        rng = np.random.default_rng([self.bp.seed, 41, zlib.crc32(comp.node.name.encode()) % 1000])
        jitter = rng.poisson(0.6, self.n).astype(np.float64)
        used = np.minimum(demand + jitter * 0.5, comp.pool_max)
        comp.pool_used = np.where(pressure > 0.05, comp.pool_max, np.round(used))
        per_pod_rate = comp.rate / pods
        comp.pool_pending = np.round(pressure * per_pod_rate * POOL_TIMEOUT_S * 0.35)
        comp.pool_wait = 0.0002 + pressure**1.5 * POOL_TIMEOUT_S * 0.8
        comp.pool_timeouts = comp.rate * np.clip(pressure - 0.25, 0.0, 1.0) * 0.6
        out: FloatArray = comp.pool_wait
        return out

    def _cpu(self, comp: Comp) -> None:
        node = comp.node
        ready = np.maximum(comp.ready_fraction() * node.replicas, 0.5)
        rng = np.random.default_rng([self.bp.seed, 51, len(node.name)])
        comp.cpu_demand = (node.cpu_idle + node.cpu_per_rps * comp.rate / ready) * comp.cpu_mult
        comp.cpu_demand = comp.cpu_demand * noise(rng, self.n, 0.05) + comp.cpu_extra
        comp.cpu = np.minimum(comp.cpu_demand, node.cpu_limit * 0.985)
        over = comp.cpu_demand / node.cpu_limit
        comp.throttle = np.clip(0.015 + 1.4 * np.maximum(over - 0.7, 0.0), 0.0, 0.97)

    def _cpu_factor(self, comp: Comp) -> FloatArray:
        over = comp.cpu_demand / comp.node.cpu_limit
        out: FloatArray = 1.0 + 9.0 * np.maximum(over - 0.88, 0.0) ** 1.2
        return out

    def _host_signals(self) -> None:
        """Per-host CPU (own pods + neighbours) feeds back as a slow-down of pods on a busy host."""
        for host in self.hosts.values():
            used = zeros(self.n)
            for comp in self.comps.values():
                for pod in comp.pods:
                    if pod.host == host.name:
                        used = used + comp.cpu * pod.alive(self.n)
            self.host_busy[host.name] = np.clip((used + host.neighbour_cores + 0.3) / host.cpus, 0.0, 1.0)

    # ---------------------------------------------------------------------------------- memory
    def _memory(self) -> None:
        """Working set per pod; a leaking service's pods climb to their limit and get OOM-killed."""
        for comp in self.comps.values():
            node = comp.node
            for k, pod in enumerate(comp.pods):
                rng = np.random.default_rng([self.bp.seed, 61, k, len(node.name)])
                idx = np.arange(self.n, dtype=np.float64)
                mem = node.mem_base * (1.0 + 0.05 * rng.standard_normal()) * noise(rng, self.n, 0.01)
                if node.lang == "java":  # GC sawtooth
                    mem = mem * (1.0 + 0.06 * ((idx + k * 7) % 23) / 23.0)
                start = self.leak_start.get(node.name)
                if start is not None:
                    mem = mem + self._leak(comp, pod, k, start, mem)
                comp.mem[pod.name] = mem

    def _leak(self, comp: Comp, pod: Pod, k: int, start: int, base: FloatArray) -> FloatArray:
        node = comp.node
        span = (node.mem_limit - float(np.median(base))) * (1.0 + 0.15 * k)
        per_sample = span / (self.leak_minutes * 4.0)
        extra = np.zeros(self.n)
        level = 0.0
        begin = start + 3 * k  # replicas started leaking a little apart
        for i in range(max(begin, 0), self.n):
            level += per_sample
            if base[i] + level >= node.mem_limit:
                extra[i] = node.mem_limit - base[i]
                pod.restarts.append((i + 1, "OOMKilled"))
                pod.down.append((i + 1, i + 3))
                level = 0.0
                burst = np.zeros(self.n)
                burst[i : i + 2] = 0.5 / node.replicas
                comp.add_err("500", burst)
                gone = np.zeros(self.n)
                gone[i + 1 : i + 3] = 0.6 / node.replicas
                comp.unavailable = np.clip(comp.unavailable + gone, 0.0, 1.0)
                continue
            extra[i] = level
        # GC thrash near the limit slows the service down
        frac = (base + extra) / node.mem_limit
        comp.own_mult = comp.own_mult * (1.0 + 0.6 * np.clip((frac - 0.85) / 0.15, 0.0, 1.0) / node.replicas)
        return extra

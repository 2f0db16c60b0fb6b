"""Mutable simulation state: per-component and per-call-edge signals on the scenario's time grid.

Faults and distractors write *drivers* (multipliers, injected error ratios, outage masks); the
propagation in `simulate.py` turns drivers into the observable signals the renderers read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compass_lab.model import FloatArray
from compass_lab.scenarios.topology import Edge, Node

_POD_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def k8s_suffix(rng: np.random.Generator, length: int) -> str:
    return "".join(_POD_ALPHABET[int(i)] for i in rng.integers(0, len(_POD_ALPHABET), length))


@dataclass
class Pod:
    name: str
    host: str
    ip: str
    version: str
    image: str
    start: int  # first sample where the pod exists
    end: int  # exclusive
    restarts: list[tuple[int, str]] = field(default_factory=list)  # (sample, last terminated reason)
    down: list[tuple[int, int]] = field(default_factory=list)  # not-ready windows [a, b)

    def alive(self, n: int) -> np.ndarray:
        idx = np.arange(n)
        out: np.ndarray = (idx >= self.start) & (idx < self.end)
        return out

    def ready(self, n: int) -> np.ndarray:
        out = self.alive(n).copy()
        for a, b in self.down:
            out[max(a, 0) : max(b, 0)] = False
        return out


def zeros(n: int) -> FloatArray:
    return np.zeros(n, dtype=np.float64)


def ones(n: int) -> FloatArray:
    return np.ones(n, dtype=np.float64)


@dataclass
class Comp:
    """One component. Drivers first, derived signals after `simulate.run`."""

    node: Node
    n: int
    # --- drivers -------------------------------------------------------------------------------
    own_mult: FloatArray = field(init=False)  # own service-time multiplier
    own_add: FloatArray = field(init=False)  # seconds added to its own service time (slow code path)
    sigma_add: FloatArray = field(init=False)
    own_err: dict[str, FloatArray] = field(default_factory=dict)  # code ("500", "write", ...) -> ratio
    unavailable: FloatArray = field(init=False)  # 0..1 of capacity down (refuses connections)
    cpu_mult: FloatArray = field(init=False)
    cpu_extra: FloatArray = field(init=False)  # cores per pod burnt regardless of load (hot loop)
    tls_fail: FloatArray = field(init=False)  # its serving certificate is rejected
    quota: FloatArray = field(init=False)  # accepted req/s before 429 (inf = none)
    surge: FloatArray = field(init=False)  # extra inbound req/s reaching it through `surge_path`
    pool_pressure: FloatArray = field(init=False)  # app-side connection pool starvation 0..1
    hit_drop: FloatArray = field(init=False)  # caches: absolute drop of the hit ratio
    consume_mult: FloatArray = field(init=False)  # queues: consumer throughput multiplier
    disk_fill: FloatArray = field(init=False)  # 0..1 of the remaining free space consumed
    host_slow: FloatArray = field(init=False)  # latency multiplier from a saturated host
    # --- derived ---------------------------------------------------------------------------------
    rate: FloatArray = field(init=False)
    mean: FloatArray = field(init=False)
    sigma: FloatArray = field(init=False)
    err: dict[str, FloatArray] = field(default_factory=dict)  # served status code -> ratio
    cpu: FloatArray = field(init=False)  # cores used per ready pod
    cpu_demand: FloatArray = field(init=False)
    throttle: FloatArray = field(init=False)  # fraction of CFS periods throttled
    pool_used: FloatArray = field(init=False)
    pool_pending: FloatArray = field(init=False)
    pool_wait: FloatArray = field(init=False)
    pool_timeouts: FloatArray = field(init=False)  # req/s failing to get a connection
    pool_max: int = 10
    sig: dict[str, FloatArray] = field(default_factory=dict)  # kind-specific signals (hit, lag, ...)
    pods: list[Pod] = field(default_factory=list)
    mem: dict[str, FloatArray] = field(default_factory=dict)  # pod name -> working set bytes
    base_rate: float = 1.0

    def __post_init__(self) -> None:
        n = self.n
        self.own_mult = ones(n)
        self.own_add = zeros(n)
        self.sigma_add = zeros(n)
        self.unavailable = zeros(n)
        self.cpu_mult = ones(n)
        self.cpu_extra = zeros(n)
        self.tls_fail = zeros(n)
        self.quota = np.full(n, np.inf)
        self.surge = zeros(n)
        self.pool_pressure = zeros(n)
        self.hit_drop = zeros(n)
        self.consume_mult = ones(n)
        self.disk_fill = zeros(n)
        self.host_slow = ones(n)
        for name in ("rate", "mean", "sigma", "cpu", "cpu_demand", "throttle"):
            setattr(self, name, zeros(n))
        for name in ("pool_used", "pool_pending", "pool_wait", "pool_timeouts"):
            setattr(self, name, zeros(n))

    def add_err(self, code: str, ratio: FloatArray) -> None:
        self.own_err[code] = self.own_err.get(code, zeros(self.n)) + ratio

    def ready_fraction(self) -> FloatArray:
        if not self.pods:
            return ones(self.n)
        ready = np.sum([p.ready(self.n) for p in self.pods], axis=0).astype(np.float64)
        out: FloatArray = ready / max(self.node.replicas, 1)
        return out


@dataclass
class Link:
    """One caller → callee call path, as the caller's client instrumentation sees it."""

    edge: Edge
    n: int
    delay: int  # samples of propagation delay from callee to caller
    extra_lat: FloatArray = field(init=False)  # network-added mean latency (retransmits)
    sigma_add: FloatArray = field(init=False)
    conn_err: dict[str, FloatArray] = field(default_factory=dict)  # refused/timeout/dns/tls/reset
    rate: FloatArray = field(init=False)  # calls/s including retries
    mean: FloatArray = field(init=False)
    sigma: FloatArray = field(init=False)
    codes: dict[str, FloatArray] = field(default_factory=dict)  # answered error codes -> ratio of calls
    fail: FloatArray = field(init=False)  # ratio of *logical* calls that end failed after retries
    base_mean: float = 0.0
    base_sigma: float = 0.0

    def __post_init__(self) -> None:
        self.extra_lat = zeros(self.n)
        self.sigma_add = zeros(self.n)
        self.rate = zeros(self.n)
        self.mean = zeros(self.n)
        self.sigma = zeros(self.n)
        self.fail = zeros(self.n)

    def add_conn_err(self, kind: str, ratio: FloatArray) -> None:
        self.conn_err[kind] = np.clip(self.conn_err.get(kind, zeros(self.n)) + ratio, 0.0, 1.0)


@dataclass
class HostState:
    name: str
    n: int
    cpus: int = 8
    neighbour_cores: FloatArray = field(init=False)  # CPU burnt by pods outside the system
    retrans_extra: FloatArray = field(init=False)  # added retransmit ratio
    fs_fill: FloatArray = field(init=False)  # 0..1 of the free root filesystem consumed

    def __post_init__(self) -> None:
        self.neighbour_cores = zeros(self.n)
        self.retrans_extra = zeros(self.n)
        self.fs_fill = zeros(self.n)


@dataclass(frozen=True)
class Event:
    """A change that leaves traces in logs: rollout, config reload, restart, certificate expiry..."""

    kind: str  # "deploy" | "config_reload" | "restart" | "cert_expired" | "chatty" | ...
    component: str
    idx: int
    detail: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str = "") -> str:
        return dict(self.detail).get(key, default)

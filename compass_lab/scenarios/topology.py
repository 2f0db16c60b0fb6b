"""The simulated systems: components, their call graph and their baseline behaviour.

Names are the names the telemetry uses: a service's `service_name`/`job`, a database's exporter
instance host part and its clients' `server.address`, a host's node name. Third-party APIs are
reached through a Kubernetes ExternalName service of the same name, so clients' `server.address`
and the blackbox probe target both carry the component name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from compass_lab.model import Component

Tech = Literal[
    "gateway", "api", "worker", "postgres", "mysql", "redis", "kafka", "external", "coredns", "host"
]
Protocol = Literal["http", "sql", "redis", "produce", "consume"]
Lang = Literal["go", "java", "node", "python"]

_KIND_OF_TECH: dict[Tech, Literal["service", "database", "cache", "queue", "host", "dns", "external"]] = {
    "gateway": "service",
    "api": "service",
    "worker": "service",
    "postgres": "database",
    "mysql": "database",
    "redis": "cache",
    "kafka": "queue",
    "external": "external",
    "coredns": "dns",
    "host": "host",
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    share: float  # fraction of the service's inbound requests


@dataclass(frozen=True)
class Node:
    """One component with its baseline behaviour (latencies in seconds, rates in per-second)."""

    name: str
    tech: Tech
    port: int = 8080
    replicas: int = 2
    base_lat: float = 0.02  # own mean time per request (excluding downstream calls)
    sigma: float = 0.55  # lognormal shape of the latency distribution
    cpu_per_rps: float = 0.004  # cores per inbound request/s
    cpu_idle: float = 0.05
    cpu_limit: float = 1.0  # cores per pod
    mem_base: float = 300e6  # working set bytes per pod
    mem_limit: float = 768e6
    routes: tuple[Route, ...] = ()
    lang: Lang = "go"
    hosts: tuple[str, ...] = ()  # nodes that run its pods, one per replica
    topic: str = ""  # kafka topic (queues) / consumed topic (workers)
    database: str = ""  # database name (postgres/mysql)

    @property
    def kind(self) -> Literal["service", "database", "cache", "queue", "host", "dns", "external"]:
        return _KIND_OF_TECH[self.tech]

    @property
    def is_service(self) -> bool:
        return self.tech in ("gateway", "api", "worker")


@dataclass(frozen=True)
class Edge:
    caller: str
    callee: str
    protocol: Protocol
    cpr: float  # calls per inbound request of the caller
    critical: float  # probability that a failed call fails the caller's request
    operation: str  # "POST /v1/charges", "SELECT", "GET", "publish"
    fallback_of: str = ""  # for a DB read behind a cache: the cache whose misses fall through here
    timeout_s: float = 5.0


@dataclass(frozen=True)
class System:
    name: str
    namespace: str
    entry: str
    base_rps: float
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    hosts: tuple[str, ...]
    # services serving internal TLS (probed by blackbox) and services enforcing an internal quota;
    # the library's systems list theirs in `faults.TLS_SERVICES` / `faults.INTERNAL_QUOTA` instead
    tls_services: tuple[str, ...] = ()
    quota_services: tuple[str, ...] = ()

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def callers_of(self, name: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.callee == name)

    def calls_of(self, name: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.caller == name)

    def services(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.is_service)

    def topo_order(self) -> tuple[str, ...]:
        """Callers before callees (consumers after their queue)."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for e in self.callers_of(name):
                if e.protocol != "consume":
                    visit(e.caller)
            for e in self.calls_of(name):
                if e.protocol == "consume":
                    visit(e.callee)
            order.append(name)

        for n in self.nodes:
            visit(n.name)
        return tuple(order)

    def ancestors(self, name: str) -> tuple[str, ...]:
        """Components whose requests (transitively) reach `name`, nearest first."""
        out: list[str] = []
        frontier = [name]
        while frontier:
            nxt: list[str] = []
            for cur in frontier:
                for e in self.edges:
                    upstream = e.caller if e.callee == cur and e.protocol != "consume" else ""
                    if e.protocol == "consume" and e.callee == cur:
                        upstream = e.caller  # the consumer suffers when its queue does
                    if upstream and upstream not in out and upstream != name:
                        out.append(upstream)
                        nxt.append(upstream)
            frontier = nxt
        return tuple(out)

    def components(self) -> tuple[Component, ...]:
        comps: list[Component] = []
        for n in self.nodes:
            deps = tuple(dict.fromkeys(e.callee for e in self.calls_of(n.name)))
            comps.append(Component(name=n.name, kind=n.kind, depends_on=deps))
        for h in self.hosts:
            comps.append(Component(name=h, kind="host"))
        return tuple(comps)


def _r(*routes: tuple[str, str, float]) -> tuple[Route, ...]:
    return tuple(Route(m, p, s) for m, p, s in routes)


_SHOP_HOSTS = ("ip-10-0-11-23.ec2.internal", "ip-10-0-12-87.ec2.internal", "ip-10-0-13-145.ec2.internal")
_H1, _H2, _H3 = _SHOP_HOSTS

SHOP = System(
    name="shop",
    namespace="shop",
    entry="edge-gateway",
    base_rps=180.0,
    hosts=_SHOP_HOSTS,
    nodes=(
        Node(
            "edge-gateway",
            "gateway",
            8080,
            2,
            0.003,
            0.45,
            0.002,
            0.05,
            0.5,
            120e6,
            512e6,
            _r(("GET", "/", 0.45), ("GET", "/api/*", 0.4), ("POST", "/api/*", 0.15)),
            "go",
            (_H1, _H2),
        ),
        Node(
            "web-frontend",
            "api",
            8080,
            2,
            0.018,
            0.5,
            0.005,
            0.08,
            1.5,
            380e6,
            1024e6,
            _r(("GET", "/", 0.35), ("GET", "/product/{id}", 0.45), ("POST", "/cart/checkout", 0.2)),
            "node",
            (_H2, _H3),
        ),
        Node(
            "catalog",
            "api",
            8080,
            2,
            0.012,
            0.5,
            0.006,
            0.06,
            1.0,
            420e6,
            1024e6,
            _r(("GET", "/api/products/{id}", 0.7), ("GET", "/api/products/search", 0.3)),
            "java",
            (_H1, _H3),
        ),
        Node(
            "cart",
            "api",
            8080,
            2,
            0.008,
            0.5,
            0.005,
            0.05,
            1.0,
            260e6,
            768e6,
            _r(("GET", "/api/cart", 0.6), ("POST", "/api/cart/items", 0.4)),
            "go",
            (_H1, _H2),
        ),
        Node(
            "checkout",
            "api",
            8080,
            2,
            0.025,
            0.55,
            0.03,
            0.05,
            1.0,
            340e6,
            1024e6,
            _r(
                ("POST", "/api/checkout", 1.0),
            ),
            "java",
            (_H2, _H3),
        ),
        Node(
            "payments",
            "api",
            8080,
            2,
            0.03,
            0.55,
            0.04,
            0.05,
            1.0,
            360e6,
            1024e6,
            _r(("POST", "/v1/payments", 0.85), ("GET", "/v1/payments/{id}", 0.15)),
            "java",
            (_H3, _H1),
        ),
        Node(
            "fulfillment",
            "worker",
            8080,
            2,
            0.04,
            0.5,
            0.05,
            0.04,
            1.0,
            300e6,
            768e6,
            (),
            "python",
            (_H2, _H3),
            topic="orders",
        ),
        Node(
            "payments-db",
            "postgres",
            5432,
            1,
            0.004,
            0.7,
            0.01,
            0.2,
            4.0,
            2.0e9,
            8e9,
            (),
            "go",
            (_H3,),
            database="payments",
        ),
        Node(
            "catalog-db",
            "mysql",
            3306,
            1,
            0.008,
            0.7,
            0.01,
            0.2,
            4.0,
            3.0e9,
            8e9,
            (),
            "go",
            (_H1,),
            database="catalog",
        ),
        Node("catalog-cache", "redis", 6379, 1, 0.0004, 0.4, 0.0005, 0.05, 1.0, 600e6, 2e9, (), "go", (_H2,)),
        Node("cart-cache", "redis", 6379, 1, 0.0004, 0.4, 0.0005, 0.05, 1.0, 300e6, 1e9, (), "go", (_H3,)),
        Node(
            "orders-queue",
            "kafka",
            9092,
            1,
            0.004,
            0.5,
            0.001,
            0.3,
            2.0,
            1.5e9,
            4e9,
            (),
            "java",
            (_H1,),
            topic="orders",
        ),
        Node("psp-api", "external", 443, 1, 0.18, 0.45),
        Node("coredns", "coredns", 53, 2, 0.0008, 0.6, 0.0002, 0.02, 0.5, 40e6, 170e6, (), "go", (_H1, _H2)),
    ),
    edges=(
        Edge("edge-gateway", "web-frontend", "http", 1.0, 1.0, "GET /"),
        Edge("web-frontend", "catalog", "http", 0.8, 0.9, "GET /api/products/{id}"),
        Edge("web-frontend", "cart", "http", 0.45, 0.7, "GET /api/cart"),
        Edge("web-frontend", "checkout", "http", 0.06, 1.0, "POST /api/checkout"),
        Edge("catalog", "catalog-cache", "redis", 2.0, 0.1, "GET"),
        Edge("catalog", "catalog-db", "sql", 0.05, 0.9, "SELECT", fallback_of="catalog-cache"),
        Edge("cart", "cart-cache", "redis", 1.5, 0.9, "HGETALL"),
        Edge("cart", "catalog", "http", 0.3, 0.6, "GET /api/products/{id}"),
        Edge("checkout", "cart", "http", 1.0, 1.0, "GET /api/cart"),
        Edge("checkout", "payments", "http", 1.0, 1.0, "POST /v1/payments"),
        Edge("checkout", "payments-db", "sql", 2.0, 1.0, "INSERT"),
        Edge("checkout", "orders-queue", "produce", 1.0, 0.9, "publish"),
        Edge("payments", "payments-db", "sql", 3.0, 1.0, "SELECT"),
        Edge("payments", "psp-api", "http", 0.85, 1.0, "POST /v1/charges", timeout_s=10.0),
        Edge("fulfillment", "orders-queue", "consume", 1.0, 1.0, "process"),
        Edge("fulfillment", "payments-db", "sql", 2.0, 1.0, "UPDATE"),
    ),
)

_RIDE_HOSTS = (
    "gke-ride-prod-pool-1-8c1f2a3b-qz4t",
    "gke-ride-prod-pool-1-8c1f2a3b-w7mn",
    "gke-ride-prod-pool-1-8c1f2a3b-x2rd",
)
_G1, _G2, _G3 = _RIDE_HOSTS

RIDEHAIL = System(
    name="ridehail",
    namespace="ride",
    entry="api-gateway",
    base_rps=140.0,
    hosts=_RIDE_HOSTS,
    nodes=(
        Node(
            "api-gateway",
            "gateway",
            8080,
            2,
            0.002,
            0.45,
            0.002,
            0.05,
            0.5,
            110e6,
            512e6,
            _r(("POST", "/v2/rides", 0.25), ("GET", "/v2/*", 0.75)),
            "go",
            (_G1, _G2),
        ),
        Node(
            "dispatch",
            "api",
            8080,
            3,
            0.02,
            0.5,
            0.008,
            0.06,
            1.0,
            420e6,
            1024e6,
            _r(("POST", "/dispatch/requests", 0.6), ("GET", "/dispatch/requests/{id}", 0.4)),
            "java",
            (_G1, _G2, _G3),
        ),
        Node(
            "pricing",
            "api",
            8080,
            2,
            0.01,
            0.5,
            0.007,
            0.05,
            1.0,
            380e6,
            1024e6,
            _r(("GET", "/quote", 0.8), ("POST", "/quote/batch", 0.2)),
            "java",
            (_G2, _G3),
        ),
        Node(
            "geo",
            "api",
            8080,
            2,
            0.015,
            0.55,
            0.006,
            0.05,
            1.0,
            300e6,
            768e6,
            _r(("GET", "/eta", 0.6), ("GET", "/route", 0.4)),
            "go",
            (_G1, _G3),
        ),
        Node(
            "drivers",
            "api",
            8080,
            2,
            0.01,
            0.5,
            0.005,
            0.05,
            1.0,
            280e6,
            768e6,
            _r(("GET", "/drivers/nearby", 0.7), ("PUT", "/drivers/{id}/state", 0.3)),
            "python",
            (_G2, _G1),
        ),
        Node(
            "trip-worker",
            "worker",
            8080,
            2,
            0.03,
            0.5,
            0.04,
            0.04,
            1.0,
            260e6,
            768e6,
            (),
            "go",
            (_G3, _G1),
            topic="trip-events",
        ),
        Node(
            "notifications",
            "api",
            8080,
            2,
            0.01,
            0.5,
            0.004,
            0.04,
            0.5,
            200e6,
            512e6,
            _r(
                ("POST", "/notify", 1.0),
            ),
            "node",
            (_G2, _G3),
        ),
        Node(
            "geo-db",
            "mysql",
            3306,
            1,
            0.006,
            0.7,
            0.01,
            0.2,
            4.0,
            4.0e9,
            12e9,
            (),
            "go",
            (_G1,),
            database="geo",
        ),
        Node(
            "drivers-db",
            "postgres",
            5432,
            1,
            0.003,
            0.7,
            0.01,
            0.2,
            4.0,
            2.5e9,
            8e9,
            (),
            "go",
            (_G2,),
            database="drivers",
        ),
        Node("pricing-cache", "redis", 6379, 1, 0.0004, 0.4, 0.0005, 0.05, 1.0, 800e6, 2e9, (), "go", (_G3,)),
        Node(
            "trips-queue",
            "kafka",
            9092,
            1,
            0.004,
            0.5,
            0.001,
            0.3,
            2.0,
            1.5e9,
            4e9,
            (),
            "java",
            (_G2,),
            topic="trip-events",
        ),
        Node("sms-gateway", "external", 443, 1, 0.25, 0.5),
        Node("maps-api", "external", 443, 1, 0.09, 0.5),
        Node("coredns", "coredns", 53, 2, 0.0008, 0.6, 0.0002, 0.02, 0.5, 40e6, 170e6, (), "go", (_G1, _G3)),
    ),
    edges=(
        Edge("api-gateway", "dispatch", "http", 0.25, 1.0, "POST /dispatch/requests"),
        Edge("api-gateway", "pricing", "http", 0.45, 1.0, "GET /quote"),
        Edge("api-gateway", "drivers", "http", 0.3, 1.0, "GET /drivers/nearby"),
        Edge("dispatch", "geo", "http", 1.0, 0.9, "GET /eta"),
        Edge("dispatch", "pricing", "http", 1.0, 0.9, "GET /quote"),
        Edge("dispatch", "drivers", "http", 1.0, 1.0, "GET /drivers/nearby"),
        Edge("dispatch", "trips-queue", "produce", 1.0, 0.9, "publish"),
        Edge("pricing", "pricing-cache", "redis", 1.5, 0.1, "GET"),
        Edge("pricing", "geo-db", "sql", 0.05, 0.9, "SELECT", fallback_of="pricing-cache"),
        Edge("geo", "geo-db", "sql", 1.5, 1.0, "SELECT"),
        Edge("geo", "maps-api", "http", 0.3, 0.8, "GET /v1/directions", timeout_s=3.0),
        Edge("drivers", "drivers-db", "sql", 2.0, 1.0, "SELECT"),
        Edge("trip-worker", "trips-queue", "consume", 1.0, 1.0, "process"),
        Edge("trip-worker", "drivers-db", "sql", 1.0, 1.0, "UPDATE"),
        Edge("trip-worker", "notifications", "http", 1.0, 0.5, "POST /notify"),
        Edge("notifications", "sms-gateway", "http", 0.7, 0.9, "POST /v1/messages", timeout_s=8.0),
    ),
)

SYSTEMS: dict[str, System] = {s.name: s for s in (SHOP, RIDEHAIL)}


def expected_rates(system: System) -> dict[str, float]:
    """Steady-state inbound rate of every component at `base_rps` (no diurnal trend, no faults)."""
    rates = {n.name: 0.0 for n in system.nodes}
    rates[system.entry] = system.base_rps
    for name in system.topo_order():
        node = system.node(name)
        if node.tech == "worker":
            queue = next(e.callee for e in system.calls_of(name) if e.protocol == "consume")
            rates[name] = rates[queue]
        for e in system.calls_of(name):
            if e.protocol != "consume":
                rates[e.callee] += rates[name] * e.cpr
    return rates

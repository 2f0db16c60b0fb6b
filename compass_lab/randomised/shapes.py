"""Generated topologies: random systems of 6-40 components in one of six shapes.

A shape is how services call each other; everything else (names, sizes, languages, which data stores
hang where, fan-out, replica counts) is drawn from the scenario's own seed. The systems are the library's
`System`s, so the library's simulator, fault injectors and renderers run on them unchanged.

- `layered`: gateway → one BFF → a layer of domain services → their own data stores (depth 3-4).
- `fanout`: gateway → many shallow leaf services, each with at most one store (depth 2-3).
- `chain`: a deep call chain (5-8 services) with side branches and stores along it (depth 5-9).
- `hub`: gateway → an aggregator calling many spokes that share one database; an event pipeline
  behind it (producer → queue → workers → spokes).
- `diamond`: gateway → two front services (web and mobile BFFs) that share the domain services behind
  them; core services reached through two of those, a deep tail below (depth 4-6); databases and caches
  shared by two callers. Every fault below the fronts is seen through more than one path.
- `pipeline`: an ingest gateway → 3-5 synchronous stages, each calling the next and keeping its own
  store; a middle stage publishes to a Kafka topic whose consumer group writes to a database shared with
  two or more stages (3+ services on one database); depth 4-6. A fault deep in the stages or on the
  shared database surfaces several hops up, and the event side shares the database with the stages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from compass_lab.randomised.names import Namer
from compass_lab.scenarios.topology import Edge, Lang, Node, Route, System, Tech, expected_rates

Shape = Literal["layered", "fanout", "chain", "hub", "diamond", "pipeline"]
SHAPES: tuple[Shape, ...] = ("layered", "fanout", "chain", "hub", "diamond", "pipeline")
Need = Literal["sql", "cache", "queue", "external"]

HOST_CPUS = 8.0  # the simulator's hosts (`state.HostState.cpus`)
_LANGS: tuple[Lang, ...] = ("go", "java", "node", "python")
_VERBS = ("GET", "GET", "GET", "POST", "PUT")
_PATHS = ("items", "{id}", "search", "batch", "status", "lookup", "summary", "events", "validate")


@dataclass
class _Spec:
    """A component before its capacity is sized."""

    node: Node
    layer: int


class _Builder:
    def __init__(self, rng: np.random.Generator, hosts: int) -> None:
        self.rng = rng
        self.names = Namer(rng)
        self.hosts = self.names.hosts(hosts)
        self.specs: dict[str, _Spec] = {}
        self.edges: list[Edge] = []

    # --------------------------------------------------------------------------- components
    def _place(self, replicas: int) -> tuple[str, ...]:
        start = int(self.rng.integers(0, len(self.hosts)))
        return tuple(self.hosts[(start + k) % len(self.hosts)] for k in range(replicas))

    def _routes(self, domain: str, entry: bool = False) -> tuple[Route, ...]:
        rng = self.rng
        count = 2 if entry else int(rng.integers(1, 4))
        shares = rng.dirichlet(np.ones(count) * 2.0)
        prefix = f"/{rng.choice(('api', 'v1', 'v2', 'internal'))}/{domain}"
        routes: list[Route] = []
        for k in range(count):
            path = f"{prefix}/{_PATHS[int(rng.integers(0, len(_PATHS)))]}" if k else prefix
            if any(r.path == path for r in routes):
                path = f"{path}/{k}"
            routes.append(Route(str(rng.choice(_VERBS)) if k else "GET", path, float(shares[k])))
        return tuple(routes)

    def service(self, layer: int, *, gateway: bool = False, worker: str = "") -> str:
        rng = self.rng
        domain = self.names.domain()
        if gateway:
            name = self.names.gateway()
        elif worker:
            name = self.names.worker(domain)
        else:
            name = self.names.service(domain)
        replicas = int(rng.integers(2, 4))
        lang: Lang = "go" if gateway else _LANGS[int(rng.integers(0, len(_LANGS)))]
        mem_limit = float(rng.choice((512e6, 768e6, 1024e6, 1536e6)))
        tech: Tech = "gateway" if gateway else ("worker" if worker else "api")
        node = Node(
            name,
            tech,
            port=int(rng.choice((8080, 8000, 3000, 9000))) if not gateway else 8080,
            replicas=replicas,
            base_lat=float(rng.uniform(0.002, 0.004) if gateway else rng.uniform(0.005, 0.04)),
            sigma=float(rng.uniform(0.42, 0.6)),
            cpu_idle=float(rng.uniform(0.03, 0.08)),
            cpu_limit=0.5 if gateway else float(rng.choice((0.5, 1.0, 1.0, 2.0))),
            mem_base=mem_limit * float(rng.uniform(0.3, 0.5)),
            mem_limit=mem_limit,
            routes=() if worker else self._routes(domain, gateway),
            lang=lang,
            hosts=self._place(replicas),
            topic=worker,
        )
        self.specs[name] = _Spec(node, layer)
        return name

    def database(self, layer: int) -> str:
        rng = self.rng
        tech: Tech = "postgres" if rng.random() < 0.55 else "mysql"
        domain = self.names.domain()
        name = self.names.database(domain, tech)
        node = Node(
            name,
            tech,
            port=5432 if tech == "postgres" else 3306,
            replicas=1,
            base_lat=float(rng.uniform(0.003, 0.008)),
            sigma=0.7,
            cpu_idle=0.2,
            cpu_limit=4.0,
            mem_base=float(rng.uniform(1.5e9, 4e9)),
            mem_limit=8e9 if rng.random() < 0.6 else 12e9,
            hosts=self._place(1),
            database=domain.replace("-", "_"),
        )
        self.specs[name] = _Spec(node, layer)
        return name

    def cache(self, layer: int) -> str:
        name = self.names.cache(self.names.domain())
        mem = float(self.rng.choice((1e9, 2e9)))
        node = Node(name, "redis", 6379, 1, 0.0004, 0.4, 0.0005, 0.05, 1.0, mem * 0.3, mem, (), "go")
        self.specs[name] = _Spec(replace(node, hosts=self._place(1)), layer)
        return name

    def queue(self, layer: int) -> str:
        domain = self.names.domain()
        name = self.names.queue(domain)
        topic = f"{domain}.{self.rng.choice(('events', 'created', 'updates', 'commands'))}"
        node = Node(name, "kafka", 9092, 1, 0.004, 0.5, 0.001, 0.3, 2.0, 1.5e9, 4e9, (), "java", topic=topic)
        self.specs[name] = _Spec(replace(node, hosts=self._place(1)), layer)
        return name

    def external(self) -> str:
        name = self.names.external()
        node = Node(name, "external", 443, 1, float(self.rng.uniform(0.06, 0.25)), 0.48)
        self.specs[name] = _Spec(node, 99)
        return name

    def coredns(self) -> None:
        node = Node("coredns", "coredns", 53, 2, 0.0008, 0.6, 0.0002, 0.02, 0.5, 40e6, 170e6, (), "go")
        self.specs["coredns"] = _Spec(replace(node, hosts=self._place(2)), 99)

    # --------------------------------------------------------------------------- calls
    def call(self, caller: str, callee: str, cpr: float, critical: float = 1.0) -> None:
        route = self.specs[callee].node.routes
        r = route[int(self.rng.integers(0, len(route)))]
        timeout = float(self.rng.choice((2.0, 3.0, 5.0, 10.0)))
        self.edges.append(
            Edge(caller, callee, "http", cpr, critical, f"{r.method} {r.path}", timeout_s=timeout)
        )

    def call_external(self, caller: str, callee: str) -> None:
        path = f"/v{self.rng.integers(1, 4)}/{self.rng.choice(('charges', 'messages', 'lookup', 'verify'))}"
        cpr = float(self.rng.uniform(0.2, 0.9))
        self.edges.append(Edge(caller, callee, "http", cpr, 0.9, f"POST {path}", timeout_s=8.0))

    def sql(self, caller: str, db: str, write: bool) -> None:
        op = str(self.rng.choice(("INSERT", "UPDATE"))) if write else "SELECT"
        self.edges.append(Edge(caller, db, "sql", float(self.rng.uniform(1.0, 3.0)), 1.0, op))

    def cached_read(self, caller: str, cache: str, db: str) -> None:
        self.edges.append(Edge(caller, cache, "redis", float(self.rng.uniform(1.0, 2.0)), 0.1, "GET"))
        self.edges.append(Edge(caller, db, "sql", 0.05, 0.9, "SELECT", fallback_of=cache))

    def pipeline(self, producer: str, layer: int) -> tuple[str, str]:
        q = self.queue(layer)
        topic = self.specs[q].node.topic
        w = self.service(layer + 1, worker=topic)
        self.edges.append(Edge(producer, q, "produce", 1.0, 0.9, "publish"))
        self.edges.append(Edge(w, q, "consume", 1.0, 1.0, "process"))
        return q, w

    def count(self) -> int:
        return len(self.specs) + len(self.hosts)

    def services(self, *, workers: bool = False) -> list[str]:
        techs = ("api", "worker") if workers else ("api",)
        return [n for n, s in self.specs.items() if s.node.tech in techs]

    # --------------------------------------------------------------------------- sizing
    def build(self, name: str, namespace: str, entry: str) -> System:
        rng = self.rng
        base_rps = float(rng.uniform(60.0, 200.0))
        nodes = tuple(s.node for s in self.specs.values())
        draft = System(name, namespace, entry, base_rps, nodes, tuple(self.edges), self.hosts)
        rates = expected_rates(draft)
        sized = self._spread(tuple(self._size(n, rates[n.name]) for n in nodes), rates)
        services = [n.name for n in sized if n.tech == "api"]
        callees = [s for s in services if any(e.callee == s for e in self.edges)]
        tls = tuple(rng.choice(services, size=min(2, len(services)), replace=False)) if services else ()
        quota = tuple(rng.choice(callees, size=min(2, len(callees)), replace=False)) if callees else ()
        return System(
            name,
            namespace,
            entry,
            base_rps,
            sized,
            tuple(self.edges),
            self.hosts,
            tls_services=tuple(str(s) for s in tls),
            quota_services=tuple(str(s) for s in quota),
        )

    def _spread(self, nodes: tuple[Node, ...], rates: dict[str, float]) -> tuple[Node, ...]:
        """Enough hosts for the pods' baseline CPU (nodes ~40 % busy, as a cluster autoscaler keeps them),
        within the 40-component budget; past it, lighter pods. Then every pod is placed again."""
        cores = 0.0
        for n in nodes:
            if n.kind != "external":
                cores += n.replicas * n.cpu_idle + n.cpu_per_rps * rates.get(n.name, 0.0)
        room = max(len(self.hosts), min(40 - len(nodes), 10))
        want = int(np.clip(np.ceil(cores / (HOST_CPUS * 0.4)), len(self.hosts), room))
        self.hosts = self.hosts + self.names.hosts(want - len(self.hosts))
        capacity = HOST_CPUS * 0.5 * len(self.hosts)
        scale = min(1.0, capacity / cores) if cores > 0 else 1.0
        load = {h: float(self.rng.uniform(0.0, 0.05)) for h in self.hosts}  # ties broken at random
        out = []
        for n in nodes:
            if n.kind == "external":
                out.append(n)
                continue
            n = replace(n, cpu_per_rps=n.cpu_per_rps * scale)
            per_pod = n.cpu_idle + n.cpu_per_rps * rates.get(n.name, 0.0) / max(n.replicas, 1)
            placed: list[str] = []
            for _ in range(n.replicas):  # the scheduler's least-allocated node, replicas spread out
                free = [h for h in self.hosts if h not in placed] or list(self.hosts)
                host = min(free, key=lambda h: load[h])
                load[host] += per_pod
                placed.append(host)
            out.append(replace(n, hosts=tuple(placed)))
        return tuple(out)

    def _size(self, node: Node, rate: float) -> Node:
        """CPU cost per request such that the baseline uses 15-45% of the pods' CPU limit."""
        if node.tech in ("external", "coredns"):
            return node
        rng = self.rng
        if node.is_service:
            # keep every pod's SQL calls well inside a 5-connection pool at baseline
            sql = sum(e.cpr for e in self.edges if e.caller == node.name and e.protocol == "sql")
            replicas = node.replicas
            while replicas < 6 and rate * sql / replicas > 150.0:
                replicas += 1
            if replicas != node.replicas:
                node = replace(node, replicas=replicas, hosts=self._place(replicas))
        per_pod = max(rate / node.replicas, 0.05)
        util = float(rng.uniform(0.15, 0.45))
        cpu_per_rps = max((util * node.cpu_limit - node.cpu_idle) / per_pod, 1e-5)
        return replace(node, cpu_per_rps=cpu_per_rps)


def generate(shape: Shape, name: str, rng: np.random.Generator, size: int, needs: frozenset[Need]) -> System:
    """A random system of about `size` components (hosts included) in `shape`, with what `needs` asks."""
    b = _Builder(rng, hosts=int(rng.integers(2, 5)))
    namespace = b.names.namespace()
    entry = b.service(0, gateway=True)
    b.coredns()
    _SHAPES[shape](b, size, needs)
    # at least one third party: every real system has one (and CoreDNS forwards its lookups)
    callers = b.services()
    for _ in range(1 + int(rng.random() < 0.3 and b.count() + 2 <= size)):
        b.call_external(str(rng.choice(callers)), b.external())
    return b.build(name, namespace, entry)


def _want(b: _Builder, needs: frozenset[Need], need: Need, size: int, p: float) -> bool:
    return need in needs or (b.count() < size - 1 and b.rng.random() < p)


def _stores(b: _Builder, owner: str, layer: int, needs: frozenset[Need], size: int) -> None:
    """Data stores behind one service: its own database, sometimes behind a read-through cache."""
    rng = b.rng
    has_cache = any(e.protocol == "redis" for e in b.edges)
    if ("cache" in needs and not has_cache) or (b.count() < size - 2 and rng.random() < 0.2):
        # the database behind a cache is loaded by the cache's misses only, so losing the cache hurts
        b.cached_read(owner, b.cache(layer + 1), b.database(layer + 1))
        return
    first_sql = _want(b, needs, "sql", size, 0.6) and not any(e.protocol == "sql" for e in b.edges)
    if first_sql or (b.count() < size - 1 and rng.random() < 0.45):
        b.sql(owner, b.database(layer + 1), write=rng.random() < 0.6)


def _reaches(b: _Builder, src: str, dst: str) -> bool:
    seen, frontier = {src}, [src]
    while frontier:
        cur = frontier.pop()
        if cur == dst:
            return True
        for e in b.edges:
            if e.caller == cur and e.protocol != "consume" and e.callee not in seen:
                seen.add(e.callee)
                frontier.append(e.callee)
    return False


def _maybe_pipeline(b: _Builder, producer: str, layer: int, needs: frozenset[Need], size: int) -> None:
    if any(e.protocol == "produce" for e in b.edges):
        return
    if _want(b, needs, "queue", size, 0.5):
        _q, worker = b.pipeline(producer, layer)
        cached = {e.callee for e in b.edges if e.fallback_of}
        dbs = [n for n, s in b.specs.items() if s.node.kind == "database" and n not in cached]
        # a worker calling back into its producer's callers would feed its own queue: never
        callees = [s for s in b.services() if s != producer and not _reaches(b, s, producer)]
        if dbs and (b.rng.random() < 0.7 or not callees):
            b.sql(worker, str(b.rng.choice(dbs)), write=True)
        elif callees:
            b.call(worker, str(b.rng.choice(callees)), 1.0, 0.5)


def _layered(b: _Builder, size: int, needs: frozenset[Need]) -> None:
    rng = b.rng
    entry = next(iter(b.specs))
    bff = b.service(1)
    b.call(entry, bff, 1.0)
    width = int(np.clip(rng.integers(2, 7), 1, max(1, (size - b.count()) // 2)))
    layer = [b.service(2) for _ in range(width)]
    for svc, share in zip(layer, rng.dirichlet(np.ones(width) * 2.0) + 0.1, strict=True):
        b.call(bff, svc, float(min(share * 1.2, 1.0)), float(rng.uniform(0.6, 1.0)))
    for k, svc in enumerate(layer):
        if k + 1 < len(layer) and rng.random() < 0.35:  # domain services sometimes ask a sibling
            b.call(svc, layer[k + 1], float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.5, 1.0)))
        _stores(b, svc, 2, needs, size)
    _maybe_pipeline(b, str(rng.choice(layer)), 3, needs, size)
    while b.count() < size:  # grow: a second layer of helpers under random domain services
        parent = str(rng.choice(layer))
        helper = b.service(3)
        b.call(parent, helper, float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.5, 1.0)))
        if b.count() < size:
            _stores(b, helper, 3, frozenset(), size)


def _fanout(b: _Builder, size: int, needs: frozenset[Need]) -> None:
    rng = b.rng
    entry = next(iter(b.specs))
    leaves: list[str] = []
    while b.count() < size - 1 or len(leaves) < 2:
        leaves.append(b.service(1))
        if b.count() < size - 1 and rng.random() < 0.6:
            _stores(b, leaves[-1], 1, frozenset(), size)
        if len(leaves) >= 14:
            break
    for leaf, share in zip(leaves, rng.dirichlet(np.ones(len(leaves)) * 1.5), strict=True):
        b.call(entry, leaf, float(max(share, 0.03)), 1.0)
    if "sql" in needs and not any(e.protocol == "sql" for e in b.edges):
        _stores(b, leaves[0], 1, frozenset({"sql"}), size)
    if "cache" in needs and not any(e.protocol == "redis" for e in b.edges):
        _stores(b, leaves[-1], 1, frozenset({"cache"}), size)
    _maybe_pipeline(b, str(rng.choice(leaves)), 2, needs, size)
    while b.count() < size:  # a few leaves get one helper (depth 3)
        helper = b.service(2)
        b.call(str(rng.choice(leaves)), helper, float(rng.uniform(0.3, 1.0)), 1.0)


def _chain(b: _Builder, size: int, needs: frozenset[Need]) -> None:
    rng = b.rng
    entry = next(iter(b.specs))
    depth = int(rng.integers(5, 9))
    chain = [entry]
    for k in range(1, depth):
        if b.count() >= size - 1 and k >= 4:
            break
        chain.append(b.service(k))
        b.call(chain[-2], chain[-1], float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.8, 1.0)))
    deep = chain[len(chain) // 2 :]
    _stores(b, chain[-1], len(chain), needs, size)
    if "cache" in needs and not any(e.protocol == "redis" for e in b.edges):
        _stores(b, chain[-2], len(chain), frozenset({"cache"}), size)
    _maybe_pipeline(b, str(rng.choice(deep)), len(chain), needs, size)
    while b.count() < size:  # side branches hanging off the chain
        parent = str(rng.choice(chain[1:]))
        side = b.service(chain.index(parent) + 1)
        b.call(parent, side, float(rng.uniform(0.2, 0.9)), float(rng.uniform(0.4, 1.0)))
        if b.count() < size and rng.random() < 0.5:
            _stores(b, side, chain.index(parent) + 2, frozenset(), size)


def _hub(b: _Builder, size: int, needs: frozenset[Need]) -> None:
    rng = b.rng
    entry = next(iter(b.specs))
    hub = b.service(1)
    b.call(entry, hub, 1.0)
    shared = b.database(3) if _want(b, needs, "sql", size, 0.8) else ""
    spokes: list[str] = []
    while b.count() < size - 2 or len(spokes) < 2:
        spokes.append(b.service(2))
        b.call(hub, spokes[-1], float(rng.uniform(0.3, 1.0)), float(rng.uniform(0.5, 1.0)))
        if shared and rng.random() < 0.7:
            b.sql(spokes[-1], shared, write=rng.random() < 0.5)
        if len(spokes) >= 12:
            break
    if shared and not any(e.callee == shared for e in b.edges):
        b.sql(spokes[0], shared, write=True)
    if "cache" in needs or (b.count() < size and rng.random() < 0.5):
        b.cached_read(str(rng.choice(spokes)), b.cache(3), b.database(3))
    _maybe_pipeline(b, hub, 2, needs, size)
    while b.count() < size:
        leaf = b.service(3)
        b.call(str(rng.choice(spokes)), leaf, float(rng.uniform(0.2, 0.9)), float(rng.uniform(0.4, 1.0)))


def _uniform(b: _Builder, lo: float, hi: float) -> float:
    return float(b.rng.uniform(lo, hi))


def _two_callers(b: _Builder, pool: list[str]) -> list[str]:
    return [str(x) for x in b.rng.choice(pool, size=min(2, len(pool)), replace=False)]


def _shared_stores(b: _Builder, callers: list[str], size: int, needs: frozenset[Need]) -> None:
    """A database that two services use, and sometimes a read-through cache that two services share."""
    rng = b.rng
    deepest = max(b.specs[c].layer for c in callers)
    if _want(b, needs, "sql", size, 0.8):
        db = b.database(deepest + 1)
        for c in _two_callers(b, callers):
            b.sql(c, db, write=rng.random() < 0.5)
    if "cache" in needs or (b.count() < size - 1 and rng.random() < 0.4):
        cache, db = b.cache(deepest + 1), b.database(deepest + 2)
        for c in _two_callers(b, callers):
            b.cached_read(c, cache, db)


def _diamond(b: _Builder, size: int, needs: frozenset[Need]) -> None:
    rng = b.rng
    entry = next(iter(b.specs))
    fronts = [b.service(1), b.service(1)]
    for front, share in zip(fronts, rng.dirichlet(np.ones(2) * 3.0), strict=True):
        b.call(entry, front, float(np.clip(share, 0.25, 0.75)), 1.0)
    width = int(np.clip(rng.integers(2, 5), 2, max(2, (size - b.count()) // 3)))
    mids = [b.service(2) for _ in range(width)]
    for k, mid in enumerate(mids):  # the first mid service is always reached through both fronts
        callers = fronts if k == 0 or rng.random() < 0.6 else [fronts[k % 2]]
        for front in callers:
            b.call(front, mid, _uniform(b, 0.3, 0.9), _uniform(b, 0.6, 1.0))
    cores = [b.service(3) for _ in range(1 + int(rng.random() < 0.6))]
    for core in cores:  # the diamond's bottom: two mid services call the same core service
        for mid in _two_callers(b, mids):
            b.call(mid, core, _uniform(b, 0.3, 0.8), _uniform(b, 0.5, 1.0))
    tail = [b.service(4)]
    b.call(str(rng.choice(cores)), tail[0], _uniform(b, 0.4, 1.0), _uniform(b, 0.7, 1.0))
    if b.count() < size - 3 and rng.random() < 0.5:
        tail.append(b.service(5))
        b.call(tail[0], tail[1], _uniform(b, 0.4, 1.0), _uniform(b, 0.7, 1.0))
    _shared_stores(b, cores + tail, size, needs)
    _maybe_pipeline(b, str(rng.choice(mids)), 3, needs, size)
    inner = mids + cores  # helpers hang at layer 3-4, so the depth stays within 4-6 hops
    while b.count() < size:  # helpers, some of them reached from two parents of lower layers
        parents = _two_callers(b, inner) if rng.random() < 0.4 else [str(rng.choice(inner))]
        helper = b.service(max(b.specs[p].layer for p in parents) + 1)
        for parent in parents:
            b.call(parent, helper, _uniform(b, 0.2, 0.8), _uniform(b, 0.4, 1.0))
        if b.count() < size and rng.random() < 0.4:
            _stores(b, helper, b.specs[helper].layer, frozenset(), size)


def _own_store(b: _Builder, stage: str, needs: frozenset[Need]) -> None:
    """A stage's own store: a database, or a read-through cache in front of its own database."""
    layer = b.specs[stage].layer + 1
    cached = any(e.protocol == "redis" for e in b.edges)
    if ("cache" in needs and not cached) or (not cached and b.rng.random() < 0.25):
        b.cached_read(stage, b.cache(layer), b.database(layer))
    else:
        b.sql(stage, b.database(layer), write=b.rng.random() < 0.6)


def _pipeline(b: _Builder, size: int, needs: frozenset[Need]) -> None:
    rng = b.rng
    entry = next(iter(b.specs))
    n_stages = int(rng.integers(3, 6))
    stages: list[str] = []
    for k in range(n_stages):  # each stage hands its work on to the next one, synchronously
        stages.append(b.service(k + 1))
        cpr = _uniform(b, 0.7, 1.0) if k else 1.0
        b.call(stages[-2] if k else entry, stages[-1], cpr, _uniform(b, 0.8, 1.0))
    # the deepest stage always keeps a store, the others while the size allows (and mostly do)
    for k, stage in enumerate(reversed(stages)):
        if k == 0 or (b.count() < size - 2 and rng.random() < 0.8):
            _own_store(b, stage, needs if k == 0 else frozenset())
    mid = stages[len(stages) // 2 - 1] if len(stages) > 3 else stages[1]
    _q, worker = b.pipeline(mid, b.specs[mid].layer + 1)
    # one database behind the event side and two or more stages: a fault on it shows on many services
    shared = b.database(n_stages + 1)
    b.sql(worker, shared, write=True)
    for stage in _two_callers(b, stages) + ([str(rng.choice(stages))] if rng.random() < 0.4 else []):
        if not any(e.caller == stage and e.callee == shared for e in b.edges):
            b.sql(stage, shared, write=rng.random() < 0.4)
    if b.count() < size and rng.random() < 0.5:  # the consumer enriches events from a later stage
        later = [s for s in stages[stages.index(mid) + 1 :] if not _reaches(b, s, mid)]
        if later:
            b.call(worker, str(rng.choice(later)), _uniform(b, 0.3, 1.0), _uniform(b, 0.4, 0.9))
    while b.count() < size:  # side helpers of the stages, some with a store of their own
        parent = str(rng.choice(stages[:-1]))
        helper = b.service(b.specs[parent].layer + 1)
        b.call(parent, helper, _uniform(b, 0.2, 0.8), _uniform(b, 0.4, 1.0))
        if b.count() < size and rng.random() < 0.4:
            _stores(b, helper, b.specs[helper].layer, frozenset(), size)


_SHAPES = {
    "layered": _layered,
    "fanout": _fanout,
    "chain": _chain,
    "hub": _hub,
    "diamond": _diamond,
    "pipeline": _pipeline,
}

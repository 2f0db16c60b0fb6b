"""Sampled traces (OpenTelemetry attributes, as Tempo stores them) over the last hour before `at`.

Each trace walks the call graph from the entry point: server spans for instrumented services,
client spans for every outgoing call (HTTP, SQL, Redis, Kafka publish) and a consumer span when a
published message is processed. Durations and errors are drawn from the same simulated state as
the metrics, so a slow or failing hop shows in its own span, not only in its callers'.
"""

from __future__ import annotations

import numpy as np

from compass_lab.model import Span, SpanKind, SpanStatus
from compass_lab.scenarios.blueprint import STEP_S, Blueprint
from compass_lab.scenarios.log_text import conn_error
from compass_lab.scenarios.render_app import error_type, link_outcomes, served_rate
from compass_lab.scenarios.simulate import Sim
from compass_lab.scenarios.state import Comp, Link, Pod
from compass_lab.scenarios.topology import Edge, Route

TRACES_PER_S = 0.3
_DB_SYSTEM = {"postgres": "postgresql", "mysql": "mysql", "redis": "redis"}
_STATEMENT = {
    "SELECT": "SELECT * FROM {t} WHERE id = $1",
    "INSERT": "INSERT INTO {t} (id, payload) VALUES ($1, $2)",
    "UPDATE": "UPDATE {t} SET status = $1 WHERE id = $2",
}


class _Tracer:
    def __init__(self, sim: Sim, bp: Blueprint) -> None:
        self.sim, self.bp = sim, bp
        self.rng = np.random.default_rng([bp.seed, 131])
        self.spans: list[Span] = []
        self.ns = sim.system.namespace
        self._hex = ""
        self._pos = 0
        self.outcomes: dict[tuple[str, str], tuple[list[str], np.ndarray]] = {}
        for key, link in sim.links.items():
            o = link_outcomes(link, sim.n)
            names = list(o)
            cum = np.cumsum(np.array([o[k] for k in names]), axis=0)
            self.outcomes[key] = (names, cum)

    def sid(self) -> str:
        if self._pos + 16 > len(self._hex):
            self._hex = self.rng.bytes(65536).hex()
            self._pos = 0
        self._pos += 16
        return self._hex[self._pos - 16 : self._pos]

    def idx(self, ns: int) -> int:
        return min(max(int((ns / 1e9 - self.bp.start) / STEP_S), 0), self.sim.n - 1)

    def pod(self, comp: Comp, i: int) -> Pod | None:
        ready = [p for p in comp.pods if p.start <= i < p.end and not any(a <= i < b for a, b in p.down)]
        return ready[int(self.rng.integers(0, len(ready)))] if ready else None

    def resource(self, comp: Comp, pod: Pod) -> dict[str, str]:
        return {
            "service.name": comp.node.name,
            "service.version": pod.version,
            "k8s.pod.name": pod.name,
            "k8s.namespace.name": self.ns,
            "deployment.environment": "production",
        }

    def lognormal(self, mean: float, sigma: float) -> float:
        return float(mean * np.exp(-(sigma**2) / 2.0 + sigma * self.rng.standard_normal()))

    # ------------------------------------------------------------------------------ traces
    def run(self) -> tuple[Span, ...]:
        sim = self.sim
        entry = sim.comps[sim.system.entry]
        lo = max(self.bp.at_idx - 240, 0)
        rate = np.minimum(served_rate(entry), 1e9) / max(float(np.median(served_rate(entry)[lo:])), 1e-9)
        counts = self.rng.poisson(TRACES_PER_S * STEP_S * rate[lo:])
        for k, c in enumerate(counts):
            i = lo + k
            for _ in range(int(c)):
                start = int((self.bp.start + (i + self.rng.random()) * STEP_S) * 1e9)
                route = self.pick_route(entry)
                self.server(entry, self.sid() + self.sid(), None, start, route)
        end_ns = int(self.bp.end * 1e9)
        return tuple(s for s in self.spans if s.start_ns + s.duration_ns <= end_ns)

    def pick_route(self, comp: Comp) -> Route:
        routes = comp.node.routes
        u = self.rng.random()
        acc = 0.0
        for r in routes:
            acc += r.share
            if u < acc:
                return r
        return routes[-1]

    def server(
        self,
        comp: Comp,
        trace: str,
        parent: str | None,
        start: int,
        route: Route | None,
        kind: str = "server",
        edge: Edge | None = None,
    ) -> tuple[int, str]:
        """Emit a server (or consumer) span and its subtree; returns (duration ns, status code)."""
        i = self.idx(start)
        pod = self.pod(comp, i)
        if pod is None:
            return 0, "refused"
        span_id = self.sid()
        own_mean = float(comp.sig.get("own_mean", comp.mean)[i])
        sigma = float(comp.node.sigma)
        t = start + int(self.lognormal(own_mean, sigma) * 0.3e9)
        failed = False
        for e in self.sim.system.calls_of(comp.node.name):
            if e.protocol == "consume":
                continue
            link = self.sim.links[(comp.node.name, e.callee)]
            per_req = float(link.rate[i] / max(comp.rate[i], 1e-9))
            calls = int(per_req) + int(self.rng.random() < per_req - int(per_req))
            for _ in range(calls):
                dur, ok = self.client(comp, pod, link, trace, span_id, t)
                t += dur
                if not ok and self.rng.random() < e.critical:
                    failed = True
        t += int(self.lognormal(own_mean, sigma) * 0.7e9)
        own_err = float(comp.sig["own_err"][i]) if "own_err" in comp.sig else 0.0
        code = "200"
        if self.rng.random() < own_err:
            code = "503" if comp.cpu_demand[i] > comp.node.cpu_limit else "500"
        elif failed:
            code = "502" if comp.node.tech == "gateway" else "500"
        attrs: dict[str, str | int | float | bool] = {}
        if kind == "server" and route is not None:
            attrs = {
                "http.request.method": route.method,
                "http.route": route.path,
                "url.scheme": "http",
                "server.address": comp.node.name,
                "server.port": comp.node.port,
                "http.response.status_code": int(code),
            }
            name = f"{route.method} {route.path}"
        else:
            topic = comp.node.topic
            attrs = {
                "messaging.system": "kafka",
                "messaging.destination.name": topic,
                "messaging.consumer.group.name": comp.node.name,
                "messaging.operation.type": "process",
            }
            name = f"process {topic}"
        status: SpanStatus = "unset"
        msg = ""
        if code != "200":
            status, msg = "error", "" if kind == "server" else "message processing failed"
            attrs["error.type"] = code if kind == "server" else "_OTHER"
        self.spans.append(
            Span(
                trace,
                span_id,
                parent,
                comp.node.name,
                name,
                "server" if kind == "server" else "consumer",
                start,
                t - start,
                status,
                msg,
                attrs,
                self.resource(comp, pod),
            )
        )
        return t - start, code

    def client(
        self, comp: Comp, pod: Pod, link: Link, trace: str, parent: str, start: int
    ) -> tuple[int, bool]:
        """Emit one client call (with retries on 429); returns (total duration ns, succeeded)."""
        e = link.edge
        callee = self.sim.comps[e.callee]
        node = callee.node
        total = 0
        attempts = 3 if e.protocol == "http" else 1
        for attempt in range(attempts):
            t0 = start + total
            i = self.idx(t0)
            names, cum = self.outcomes[(e.caller, e.callee)]
            u = self.rng.random()
            k = int(np.searchsorted(cum[:, i], u))
            outcome = names[min(k, len(names) - 1)]
            span_id = self.sid()
            attrs: dict[str, str | int | float | bool] = {
                "server.address": node.name,
                "server.port": node.port,
                "peer.service": node.name,
            }
            status: SpanStatus = "unset"
            msg = ""
            if e.protocol == "http":
                method, path = e.operation.split(" ", 1)
                name = f"{method} {path}"
                attrs.update(
                    {"http.request.method": method, "url.full": f"http://{node.name}:{node.port}{path}"}
                )
            elif e.protocol in ("sql", "redis"):
                op = e.operation
                name = f"{op} {node.database}" if node.database else op
                attrs.update({"db.system.name": _DB_SYSTEM[node.tech], "db.operation.name": op})
                if node.database:
                    table = f"{node.database}_{'events' if op != 'SELECT' else 'items'}"
                    attrs.update(
                        {
                            "db.namespace": node.database,
                            "db.collection.name": table,
                            "db.query.text": _STATEMENT[op].format(t=table),
                        }
                    )
            else:
                name = f"send {node.topic}"
                attrs.update(
                    {
                        "messaging.system": "kafka",
                        "messaging.destination.name": node.topic,
                        "messaging.operation.type": "send",
                    }
                )
            kind: SpanKind = "producer" if e.protocol == "produce" else "client"
            if outcome in ("refused", "dns", "tls", "reset", "timeout"):
                dur = e.timeout_s if outcome == "timeout" else self.lognormal(0.004, 0.5)
                if outcome == "reset":
                    dur = self.lognormal(float(link.mean[i]), float(link.sigma[i]))
                status = "error"
                msg = conn_error(comp.node.lang, outcome, node.name, node.port, self.rng, "")
                msg = msg.replace("{now}", "")
                attrs["error.type"] = error_type(comp.node.lang, outcome)
                dur_ns = int(dur * 1e9)
                ok = False
            elif e.protocol == "http" and callee.pods:
                route = next((r for r in node.routes if r.path == e.operation.split(" ", 1)[1]), None)
                net = (
                    int(
                        self.lognormal(
                            float(link.mean[i] - callee.mean[max(i - link.delay, 0)]) + 0.0008, 0.4
                        )
                        * 1e9
                    )
                    if link.extra_lat[i] > 0
                    else int(0.0008e9)
                )
                child, code = self.server(callee, trace, span_id, t0 + net // 2, route or node.routes[0])
                if code == "refused":
                    code = "503"
                dur_ns = child + net
                attrs["http.response.status_code"] = int(code)
                ok = code[0] not in "45"
                if outcome == "429":
                    attrs["http.response.status_code"] = 429
                    ok = False
                if not ok:
                    status = "error"
                    attrs["error.type"] = str(attrs["http.response.status_code"])
            else:
                dur_ns = int(self.lognormal(float(link.mean[i]), float(link.sigma[i])) * 1e9)
                ok = outcome == "200"
                if e.protocol == "http":
                    attrs["http.response.status_code"] = int(outcome)
                    if not ok:
                        attrs["error.type"] = outcome
                if not ok:
                    status = "error"
                    if "error.type" not in attrs:
                        attrs["error.type"] = "db_error" if e.protocol in ("sql", "redis") else "kafka_error"
                    msg = "No space left on device" if e.protocol != "http" else ""
            if attempt:
                attrs["http.request.resend_count"] = attempt
            self.spans.append(
                Span(
                    trace,
                    span_id,
                    parent,
                    comp.node.name,
                    name,
                    kind,
                    t0,
                    dur_ns,
                    status,
                    msg,
                    attrs,
                    self.resource(comp, pod),
                )
            )
            total += dur_ns
            if e.protocol == "produce" and ok:
                self.consume(callee, trace, span_id, t0 + dur_ns)
            if ok or attrs.get("http.response.status_code") != 429:
                return total, ok
            total += int(self.rng.uniform(0.2, 1.0) * 1e9)  # back-off before the retry
        return total, False

    def consume(self, queue: Comp, trace: str, parent: str, t: int) -> None:
        consumer = next(
            (e.caller for e in self.sim.system.callers_of(queue.node.name) if e.protocol == "consume"), ""
        )
        if not consumer:
            return
        i = self.idx(t)
        wait = float(queue.sig["lag"][i] / max(queue.sig["consume"][i], 0.5)) + self.rng.uniform(0.005, 0.05)
        start = t + int(wait * 1e9)
        if start / 1e9 < self.bp.end:
            self.server(self.sim.comps[consumer], trace, parent, start, None, kind="consumer")


def render_traces(sim: Sim, bp: Blueprint) -> tuple[Span, ...]:
    return _Tracer(sim, bp).run()

"""Loki log streams: baseline chatter of every component plus the lines faults really cause.

Formats follow the convention family: OpenTelemetry JSON (label `service_name`), logfmt (label
`app`), Spring Boot logstash JSON (label `job` = namespace/app). Infrastructure components
(PostgreSQL, MySQL, Redis, Kafka, CoreDNS) write their own native text formats.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import numpy as np

from compass_lab.model import FloatArray, LogLine, LogStream
from compass_lab.scenarios.blueprint import STEP_S, Blueprint
from compass_lab.scenarios.log_text import conn_error, hexid, ip, iso, logger_name, pool_timeout, stack_trace
from compass_lab.scenarios.render_app import served_rate, status_mix
from compass_lab.scenarios.simulate import POOL_TIMEOUT_S, Sim
from compass_lab.scenarios.state import Comp, Link, Pod, zeros

MAX_LINES_PER_S = 1.0  # per source; real services sample / rate-limit their error logs


class _Logs:
    def __init__(self, sim: Sim, bp: Blueprint) -> None:
        self.sim, self.bp = sim, bp
        self.n = sim.n
        self.rng = np.random.default_rng([bp.seed, 101])
        self.streams: dict[tuple[tuple[str, str], ...], list[tuple[int, str]]] = defaultdict(list)
        self.ns = sim.system.namespace
        self._ready: dict[tuple[str, int], list[Pod]] = {}

    # ------------------------------------------------------------------------------ plumbing
    def times(
        self,
        rate: FloatArray | float,
        lo: int = 0,
        hi: int | None = None,
        cap: float = MAX_LINES_PER_S,
    ) -> np.ndarray:
        """Poisson arrival times (unix s) for `rate` lines/s over samples [lo, hi)."""
        hi = self.n if hi is None else hi
        lo = max(lo, 0)
        r = np.minimum(np.broadcast_to(np.asarray(rate, dtype=np.float64), (self.n,))[lo:hi], cap)
        counts = self.rng.poisson(np.maximum(r, 0.0) * STEP_S)
        idx = np.repeat(np.arange(lo, hi), counts)
        ts = self.bp.start + (idx + self.rng.random(len(idx))) * STEP_S
        return ts[ts < self.bp.end]

    def pod_at(self, comp: Comp, ts: float) -> Pod | None:
        i = min(int((ts - self.bp.start) / STEP_S), self.n - 1)
        key = (comp.node.name, i)
        ready = self._ready.get(key)
        if ready is None:
            ready = [p for p in comp.pods if p.start <= i < p.end and not any(a <= i < b for a, b in p.down)]
            if not ready:
                ready = [p for p in comp.pods if p.start <= i < p.end]
            self._ready[key] = ready
        if not ready:
            return None
        return ready[0] if len(ready) == 1 else ready[int(self.rng.random() * len(ready))]

    def emit(
        self,
        comp: Comp,
        ts: float,
        level: str,
        msg: str,
        fields: dict[str, str | int | float] | None = None,
        pod: Pod | None = None,
        stack: str = "",
        logger: str = "",
    ) -> None:
        node = comp.node
        pod = pod or self.pod_at(comp, ts)
        if pod is None:
            return
        key = {"otel": "service_name", "prom-client": "app", "micrometer": "job"}[self.bp.convention]
        name = f"{self.ns}/{node.name}" if key == "job" else node.name
        ns = "kube-system" if node.tech == "coredns" else self.ns
        labels = {key: name, "namespace": ns, "pod": pod.name, "level": level}
        if not node.is_service:
            line = msg  # infrastructure writes its own native format
        elif self.bp.convention == "otel":
            body: dict[str, str | int | float] = {
                "timestamp": iso(ts),
                "level": level,
                "service.name": node.name,
                "message": msg,
            }
            body.update(fields or {})
            if stack:
                body["exception.stacktrace"] = stack
            line = json.dumps(body, separators=(",", ":"))
        elif self.bp.convention == "micrometer":
            body = {
                "@timestamp": iso(ts),
                "level": level.upper(),
                "logger_name": logger or logger_name(node.name, "Application"),
                "thread_name": f"http-nio-8080-exec-{int(ts) % 40 + 1}",
                "message": msg,
            }
            body.update(fields or {})
            if stack:
                body["stack_trace"] = stack
            line = json.dumps(body, separators=(",", ":"))
        else:
            parts = [f"ts={iso(ts)}", f"level={level}", f"msg={json.dumps(msg)}"]
            for k, v in (fields or {}).items():
                sv = str(v)
                parts.append(f"{k}={json.dumps(sv) if (' ' in sv or '=' in sv or not sv) else sv}")
            if stack:
                parts.append(f"stacktrace={json.dumps(stack)}")
            line = " ".join(parts)
        self.streams[tuple(sorted(labels.items()))].append((int(ts * 1e9), line))

    def result(self) -> tuple[LogStream, ...]:
        out = []
        for labels, lines in sorted(self.streams.items()):
            lines.sort(key=lambda x: x[0])
            out.append(LogStream(dict(labels), tuple(LogLine(t, s) for t, s in lines)))
        return tuple(out)

    # ------------------------------------------------------------------------------ services
    def service(self, comp: Comp) -> None:
        node = comp.node
        rate = served_rate(comp)
        mix = status_mix(comp, self.n)
        base_end = max(self.bp.onset_idx - 20, 10)
        # access-style request logs, sampled
        for ts in self.times(np.minimum(rate * 0.0005, 0.1) + 0.005):
            i = min(int((ts - self.bp.start) / STEP_S), self.n - 1)
            if node.tech == "worker":
                self.emit(
                    comp,
                    ts,
                    "info",
                    "message processed",
                    {
                        "topic": node.topic,
                        "partition": int(ts) % 3,
                        "offset": int(ts * 7) % 10**8,
                        "duration_ms": round(comp.mean[i] * 1e3, 1),
                    },
                )
                continue
            route = node.routes[int(self.rng.integers(0, len(node.routes)))]
            dur = comp.mean[i] * float(self.rng.lognormal(-0.15, 0.5))
            code = "200"
            u = float(self.rng.random())
            acc = 0.0
            for c, r in mix.items():
                acc += float(r[i])
                if u < acc:
                    code = c
                    break
            if code[0] == "5":
                continue  # errors get their own, richer line below
            self.emit(
                comp,
                ts,
                "info",
                "request completed",
                {
                    "method": route.method,
                    "route": route.path,
                    "status": int(code),
                    "duration_ms": round(dur * 1e3, 1),
                },
            )
        # pre-existing benign errors (client went away, validation failures logged too loudly)
        base_err = float(np.median(comp.err.get("500", zeros(self.n))[:base_end]))
        for ts in self.times(np.minimum(rate * base_err, 0.015)):
            self.emit(
                comp,
                ts,
                "error",
                "error handling request: context canceled",
                {"error": "client disconnected", "request_id": hexid(self.rng, 16)},
            )
        for ts in self.times(0.002):
            self.emit(comp, ts, "warn", "slow request", {"duration_ms": int(self.rng.integers(900, 2500))})
        for ts in self.times(1.0 / 300.0):
            self.emit(
                comp,
                ts,
                "info",
                "cache refreshed",
                {"entries": int(self.rng.integers(800, 1500)), "took_ms": int(self.rng.integers(3, 40))},
            )
        if node.tech == "worker":
            for ts in self.times(1.0 / 30.0):
                self.emit(comp, ts, "info", "committed offsets", {"group": node.name, "topic": node.topic})
        self.own_fault_lines(comp)
        for edge in self.sim.system.calls_of(node.name):
            if edge.protocol != "consume":
                self.client_lines(comp, self.sim.links[(node.name, edge.callee)])
        if any(e.protocol == "sql" for e in self.sim.system.calls_of(node.name)):
            self.pool_lines(comp)

    def own_fault_lines(self, comp: Comp) -> None:
        node, bp = comp.node, self.bp
        rate = served_rate(comp)
        base_end = max(bp.onset_idx - 20, 10)
        e500 = comp.err.get("500", zeros(self.n))
        excess = np.maximum(e500 - float(np.percentile(e500[:base_end], 90)), 0.0)
        if (
            bp.fault in ("bad_deploy", "config_change")
            and bp.component == node.name
            and bp.variant == "errors"
        ):
            for ts in self.times(rate * excess, bp.onset_idx - 2):
                pod = self.pod_at(comp, ts)
                if pod is None:
                    continue
                if bp.fault == "bad_deploy":
                    msg, stack = stack_trace(node.lang, node.name, pod.version, self.rng)
                else:
                    msg, stack = self.config_error(comp)
                self.emit(
                    comp,
                    ts,
                    "error",
                    "unhandled error processing request",
                    {"error": msg, "request_id": hexid(self.rng, 16)},
                    pod=pod,
                    stack=stack,
                )
        if (
            bp.fault == "disk_full"
            and node.is_service
            and (bp.component == node.name or any(p.host == bp.component for p in comp.pods))
        ):
            if bp.component == node.name:
                path = f"/var/spool/{node.name}/label-{{}}.pdf"
            else:
                path = f"/tmp/{node.name}-upload-{{}}.part"
            for ts in self.times(rate * excess, bp.onset_idx):
                target = path.format(int(self.rng.integers(10**5, 10**6)))
                err = (
                    f"OSError: [Errno 28] No space left on device: '{target}'"
                    if node.lang == "python"
                    else f"write {target}: no space left on device"
                )
                self.emit(comp, ts, "error", "failed to write file", {"error": err, "path": target})
        if bp.fault == "traffic_surge" and bp.component == node.name:
            shed = comp.err.get("503", zeros(self.n))
            for ts in self.times(rate * shed, bp.onset_idx):
                self.emit(
                    comp,
                    ts,
                    "warn",
                    "load shedding: rejecting request",
                    {"inflight": int(self.rng.integers(480, 520)), "limit": 512},
                )
        if bp.fault == "rate_limited" and bp.component == node.name:
            for ts in self.times(comp.rate * comp.err.get("429", zeros(self.n)), bp.onset_idx):
                caller = self.rng.choice([e.caller for e in self.sim.system.callers_of(node.name)])
                self.emit(
                    comp,
                    ts,
                    "warn",
                    "rate limit exceeded",
                    {"client": str(caller), "limit_rps": int(float(np.nanmin(comp.quota))), "window": "1s"},
                )
        if (
            bp.fault == "queue_backlog"
            and node.tech == "worker"
            and any(e.callee == bp.component for e in self.sim.system.calls_of(node.name))
        ):
            self.consumer_trouble(comp)

    def config_error(self, comp: Comp) -> tuple[str, str]:
        flag = next(
            (
                e.get("flag")
                for e in self.sim.events
                if e.kind == "config_reload" and e.component == comp.node.name and e.get("harmful") == "yes"
            ),
            "feature",
        )
        region = self.rng.choice(["XK", "GB-NIR", "PR", "IC"])
        if comp.node.lang == "java":
            msg = f"java.lang.IllegalArgumentException: no rule configured for region '{region}'"
            return (
                msg,
                f"{msg}\n\tat "
                f"com.acme.{comp.node.name.replace('-', '')}.rules.RuleSet.lookup(RuleSet.java:88)",
            )
        return f"no rule configured for region {region!r} (path enabled by {flag})", ""

    def consumer_trouble(self, comp: Comp) -> None:
        bp = self.bp
        group = comp.node.name
        topic = comp.node.topic
        for ts in self.times(0.5, bp.onset_idx):
            gen = int(self.rng.integers(400, 900))
            if bp.variant == "rebalance_storm":
                msg = self.rng.choice(
                    [
                        f"[Consumer clientId={group}-1, groupId={group}] Attempt to heartbeat "
                        f"failed since group is "
                        "rebalancing",
                        f"[Consumer clientId={group}-1, groupId={group}] Revoking previously "
                        f"assigned partitions "
                        f"[{topic}-0, {topic}-1, {topic}-2]",
                        f"[Consumer clientId={group}-1, groupId={group}] (Re-)joining group",
                        f"[Consumer clientId={group}-1, groupId={group}] Successfully joined group "
                        f"with generation "
                        f"Generation{{generationId={gen}, protocol='range'}}",
                    ]
                )
                self.emit(
                    comp,
                    ts,
                    "info",
                    str(msg),
                    {"logger": "org.apache.kafka.clients.consumer.internals.ConsumerCoordinator"},
                )
            else:
                part = int(self.sim.comps[str(bp.component)].sig.get("stuck_partition", np.zeros(1))[0])
                self.emit(
                    comp,
                    ts,
                    "warn",
                    f"[Consumer clientId={group}-1, groupId={group}] Offset commit failed "
                    f"on partition {topic}-{part} at offset {int(ts) % 10**7}: The request timed out.",
                    {"logger": "org.apache.kafka.clients.consumer.internals.ConsumerCoordinator"},
                )

    def client_lines(self, comp: Comp, link: Link) -> None:
        node = comp.node
        callee = self.sim.comps[link.edge.callee].node
        cert_at = next(
            (e.idx for e in self.sim.events if e.kind == "cert_expired" and e.component == callee.name), -1
        )
        not_after = iso(self.bp.start + cert_at * STEP_S).replace(".000Z", "Z") if cert_at >= 0 else ""
        # a service rate-limits its own error logging: share one budget across its outgoing calls
        cap = MAX_LINES_PER_S / max(len(self.sim.system.calls_of(node.name)), 1) * 1.5
        for kind, ratio in link.conn_err.items():
            active = np.nonzero(ratio > 1e-4)[0]
            if len(active) == 0:
                continue
            for ts in self.times(link.rate * ratio, int(active[0]), cap=cap):
                err = conn_error(node.lang, kind, callee.name, callee.port, self.rng, not_after)
                err = err.replace("{now}", iso(ts)[:19] + "Z")
                level = "warn" if kind in ("timeout", "reset") and self.rng.random() < 0.4 else "error"
                self.emit(
                    comp,
                    ts,
                    level,
                    f"call to {callee.name} failed",
                    {"peer": callee.name, "error": err, "attempt": int(self.rng.integers(1, 4))},
                )
        for code, ratio in link.codes.items():
            base = float(np.median(ratio[: max(self.bp.onset_idx - 20, 10)]))
            excess = np.maximum(ratio - base * 1.5, 0.0)
            if not (excess > 1e-3).any():
                continue
            for ts in self.times(link.rate * excess, self.bp.onset_idx - 10, cap=cap):
                if code == "429":
                    self.emit(
                        comp,
                        ts,
                        "warn",
                        f"{callee.name} responded 429 Too Many Requests: rate limit exceeded",
                        {
                            "peer": callee.name,
                            "retry_after_s": int(self.rng.integers(1, 5)),
                            "attempt": int(self.rng.integers(1, 4)),
                        },
                    )
                elif callee.kind == "database":
                    self.emit(
                        comp,
                        ts,
                        "error",
                        "query failed",
                        {"peer": callee.name, "error": self.db_write_error(callee.tech, callee.database)},
                    )
                elif callee.kind == "queue":
                    self.emit(
                        comp,
                        ts,
                        "error",
                        "failed to publish message",
                        {
                            "topic": callee.topic,
                            "error": "kafka server: Request exceeded the user-specified time "
                            "limit in the request (KafkaStorageException on broker 1)",
                        },
                    )
                else:
                    self.emit(
                        comp,
                        ts,
                        "error",
                        f"upstream {callee.name} returned {code}",
                        {"peer": callee.name, "status": int(code), "request_id": hexid(self.rng, 16)},
                    )

    def db_write_error(self, tech: str, database: str) -> str:
        if tech == "postgres":
            return (
                f'pq: could not extend file "base/16384/{int(self.rng.integers(16000, 90000))}": '
                "No space left on device"
            )
        return f"Error 1114 (HY000): The table '{database}_events' is full"

    def pool_lines(self, comp: Comp) -> None:
        node = comp.node
        db = next(e.callee for e in self.sim.system.calls_of(node.name) if e.protocol == "sql")
        for ts in self.times(comp.pool_timeouts):
            i = min(int((ts - self.bp.start) / STEP_S), self.n - 1)
            msg = pool_timeout(
                node.lang, db, comp.pool_max, int(comp.pool_pending[i]), int(POOL_TIMEOUT_S * 1000)
            )
            self.emit(
                comp,
                ts,
                "error",
                "request failed",
                {"error": msg},
                logger="com.zaxxer.hikari.pool.HikariPool",
            )
        if node.lang == "java":
            for ts in self.times(1.0 / 30.0):
                i = min(int((ts - self.bp.start) / STEP_S), self.n - 1)
                used = int(comp.pool_used[i])
                self.emit(
                    comp,
                    ts,
                    "debug",
                    f"HikariPool-1 - Pool stats (total={comp.pool_max}, active={used}, "
                    f"idle={comp.pool_max - used}, waiting={int(comp.pool_pending[i])})",
                    logger="com.zaxxer.hikari.pool.HikariPool",
                )

    def events(self) -> None:
        for comp in self.sim.comps.values():
            if not comp.node.is_service:
                continue
            for pod in comp.pods:
                starts = ([pod.start] if pod.start > 0 else []) + [r for r, _ in pod.restarts]
                for s in starts:
                    ts = self.bp.start + s * STEP_S + float(self.rng.uniform(2, 9))
                    self.emit(
                        comp,
                        ts,
                        "info",
                        f"starting {comp.node.name}",
                        {"version": pod.version, "commit": hexid(self.rng, 7)},
                        pod=pod,
                    )
                    self.emit(comp, ts + 1.3, "info", "server listening", {"addr": ":8080"}, pod=pod)
                if pod.end < self.n:
                    ts = self.bp.start + pod.end * STEP_S - 3.0
                    self.emit(comp, ts, "info", "received SIGTERM, shutting down gracefully", pod=pod)
        for ev in self.sim.events:
            target = self.sim.comps.get(ev.component)
            if target is None or not target.node.is_service:
                continue
            comp = target
            ts = self.bp.start + ev.idx * STEP_S + float(self.rng.uniform(0, 10))
            if ev.kind == "config_reload":
                for pod in [p for p in comp.pods if p.start <= ev.idx < p.end]:
                    self.emit(
                        comp,
                        ts,
                        "info",
                        "configuration reloaded",
                        {"source": f"/etc/{comp.node.name}/config.yaml", "checksum": hexid(self.rng, 12)},
                        pod=pod,
                    )
                    self.emit(
                        comp,
                        ts + 0.02,
                        "info",
                        "feature flag updated",
                        {
                            "flag": ev.get("flag"),
                            "old": ev.get("old"),
                            "new": ev.get("new"),
                            "source": "flagd",
                        },
                        pod=pod,
                    )
            elif ev.kind == "chatty":
                for t in self.times(1.0 / 20.0):
                    self.emit(
                        comp,
                        t,
                        "error",
                        "failed to refresh exchange rates",
                        {
                            "error": 'Get "http://fx-rates.internal/v1/latest": context deadline exceeded',
                            "retry_in": "30s",
                        },
                    )

    # ------------------------------------------------------------------------------ infrastructure
    def infra(self, comp: Comp) -> None:
        tech = comp.node.tech
        bp = self.bp
        up = comp.unavailable < 0.5
        last = int(np.nonzero(up)[0][-1]) + 1 if up.any() else 0
        is_truth = bp.component == comp.node.name
        if tech == "postgres":
            for ts in self.times(1.0 / 300.0, 0, last):
                self.emit(
                    comp,
                    ts,
                    "info",
                    f"{self.pgts(ts)} [{int(self.rng.integers(60, 99))}] LOG:  checkpoint starting: time",
                )
                self.emit(
                    comp,
                    ts + 20.0,
                    "info",
                    f"{self.pgts(ts + 20)} [{int(self.rng.integers(60, 99))}] LOG:  "
                    f"checkpoint complete: wrote {int(self.rng.integers(200, 4000))} buffers "
                    f"({self.rng.uniform(0.5, 4):.1f}%); write={self.rng.uniform(10, 30):.3f} s",
                )
            for ts in self.times(1.0 / 1200.0, 0, last):
                self.emit(
                    comp,
                    ts,
                    "info",
                    f"{self.pgts(ts)} [{int(self.rng.integers(1000, 9999))}] LOG:  automatic "
                    f'vacuum of table "{comp.node.database}.public.events": index scans: 1',
                )
            slow = self.slow_rate(comp, 1.0)
            for ts in self.times(slow + 1.0 / 900.0, 0, last):
                i = min(int((ts - bp.start) / STEP_S), self.n - 1)
                dur = max(
                    1000.0 + float(self.rng.exponential(600.0)),
                    comp.mean[i] * 1000 * float(self.rng.lognormal(1.5, 0.5)),
                )
                pid = int(self.rng.integers(1000, 60000))
                self.emit(
                    comp,
                    ts,
                    "warn",
                    f"{self.pgts(ts)} [{pid}] LOG:  duration: {dur:.3f} ms  statement: "
                    f"SELECT * FROM {comp.node.database}_ledger WHERE account_id = "
                    f"{int(self.rng.integers(1, 10**6))}"
                    " ORDER BY created_at DESC LIMIT 50",
                )
            if is_truth and bp.variant == "lock_contention":
                for ts in self.times(slow * 0.5 + 0.1, bp.onset_idx, last):
                    self.emit(
                        comp,
                        ts,
                        "warn",
                        f"{self.pgts(ts)} [{int(self.rng.integers(1000, 60000))}] LOG:  "
                        f"process {int(self.rng.integers(1000, 60000))} still waiting for ShareLock "
                        f"on transaction "
                        f"{int(self.rng.integers(10**6, 10**7))} after {self.rng.uniform(1000, 1010):.3f} ms",
                    )
            if is_truth and bp.fault == "disk_full":
                full = np.nonzero(comp.err.get("write", zeros(self.n)) > 0.05)[0]
                for ts in self.times(1.0, int(full[0]) if len(full) else self.n, last):
                    self.emit(
                        comp,
                        ts,
                        "error",
                        f"{self.pgts(ts)} [{int(self.rng.integers(1000, 60000))}] ERROR:  "
                        f"could not extend file "
                        f'"base/16384/{int(self.rng.integers(16000, 90000))}": No space '
                        "left on device",
                    )
            if last < self.n:
                ts = bp.start + last * STEP_S - 4.0
                self.emit(comp, ts, "info", f"{self.pgts(ts)} [1] LOG:  received immediate shutdown request")
        elif tech == "mysql":
            slow = self.slow_rate(comp, 1.0)
            for ts in self.times(slow + 1.0 / 900.0, 0, last):
                i = min(int((ts - bp.start) / STEP_S), self.n - 1)
                qt = max(
                    1.0 + float(self.rng.exponential(0.6)), comp.mean[i] * float(self.rng.lognormal(1.5, 0.5))
                )
                self.emit(
                    comp,
                    ts,
                    "warn",
                    f"# Query_time: {qt:.6f}  Lock_time: {self.rng.uniform(0, qt / 2):.6f} "
                    f"Rows_sent: {int(self.rng.integers(1, 50))}  Rows_examined: "
                    f"{int(self.rng.integers(10**4, 10**6))}",
                )
            if is_truth and bp.fault == "disk_full":
                for ts in self.times(0.2, bp.onset_idx + 10, last):
                    self.emit(
                        comp,
                        ts,
                        "error",
                        f"{iso(ts)} 0 [ERROR] [MY-000035] [Server] Disk is full writing "
                        "'./binlog.000123' (OS errno 28 - No space left on device). Waiting for "
                        "someone to free "
                        "space... Retry in 60 secs.",
                    )
        elif tech == "redis":
            for ts in self.times(1.0 / 300.0, 0, last):
                pid = int(self.rng.integers(100, 999))
                self.emit(
                    comp, ts, "info", f"1:M {self.redis_ts(ts)} * 10000 changes in 60 seconds. Saving..."
                )
                self.emit(
                    comp,
                    ts + 0.01,
                    "info",
                    f"1:M {self.redis_ts(ts + 0.01)} * Background saving started by pid {pid}",
                )
        elif tech == "kafka":
            for ts in self.times(1.0 / 600.0):
                self.emit(
                    comp,
                    ts,
                    "info",
                    f"[{iso(ts)}] INFO [LogCleaner] Log cleaner thread 0 cleaned log "
                    "__consumer_offsets-17 (kafka.log.LogCleaner)",
                )
            if is_truth and bp.fault == "disk_full":
                for ts in self.times(1.0, bp.onset_idx + 10):
                    self.emit(
                        comp,
                        ts,
                        "error",
                        f"[{iso(ts)}] ERROR Error while appending records to "
                        f"{comp.node.topic}-{int(self.rng.integers(0, 3))} in dir /bitnami/kafka/data "
                        "(kafka.server.LogDirFailureChannel)\njava.io.IOException: No space left on device",
                    )
            if is_truth and bp.fault == "queue_backlog":
                group = next(
                    (e.caller for e in self.sim.system.callers_of(comp.node.name) if e.protocol == "consume"),
                    "",
                )
                for ts in self.times(0.2, bp.onset_idx):
                    self.emit(
                        comp,
                        ts,
                        "info",
                        f"[{iso(ts)}] INFO [GroupCoordinator 1]: Preparing to rebalance group "
                        f"{group} in state PreparingRebalance with old generation "
                        f"{int(self.rng.integers(400, 900))}"
                        " (__consumer_offsets-17) (reason: Removing member on heartbeat expiration)",
                    )
        elif tech == "coredns":
            fwd = comp.sig.get("forward_fail", zeros(self.n))
            internal = comp.sig.get("internal_fail", zeros(self.n))
            for ts in self.times(fwd * 3.0):
                host = self.rng.choice([n.name for n in self.sim.system.nodes if n.kind == "external"])
                self.emit(
                    comp,
                    ts,
                    "error",
                    f"[ERROR] plugin/errors: 2 {host}.example.net. A: read udp "
                    f"{ip(self.rng)}:{int(self.rng.integers(30000, 60000))}->10.0.0.2:53: i/o timeout",
                )
            for ts in self.times(internal * 0.3):
                self.emit(
                    comp,
                    ts,
                    "warn",
                    "[WARNING] plugin/kubernetes: failed to list *v1.EndpointSlice: Get "
                    '"https://10.96.0.1:443/apis/discovery.k8s.io/v1/endpointslices?limit=500": dial tcp '
                    "10.96.0.1:443: connect: connection refused",
                )

    def slow_rate(self, comp: Comp, threshold_s: float) -> FloatArray:
        median = comp.mean * np.exp(-(comp.sigma**2) / 2.0)
        z = (np.log(threshold_s) - np.log(np.maximum(median, 1e-9))) / np.maximum(comp.sigma, 1e-3)
        out: FloatArray = comp.rate * 0.5 * (1.0 - np.tanh(0.8 * z))
        return out

    @staticmethod
    def pgts(ts: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1000):03d} UTC"

    @staticmethod
    def redis_ts(ts: float) -> str:
        return time.strftime("%d %b %Y %H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1000):03d}"


def render_logs(sim: Sim, bp: Blueprint) -> tuple[LogStream, ...]:
    logs = _Logs(sim, bp)
    for comp in sim.comps.values():
        if comp.node.is_service:
            logs.service(comp)
        elif comp.pods:
            logs.infra(comp)
    logs.events()
    return logs.result()

"""Infrastructure exporters, with their real metric names and labels.

cAdvisor and kube-state-metrics (per pod), node_exporter and kubelet volume stats, and the
postgres / mysqld / redis / kafka / blackbox exporters and CoreDNS. Exporter `instance` labels are
`<component>:<exporter port>`; `job` is the exporter kind.
"""

from __future__ import annotations

import numpy as np

from compass_lab.model import FloatArray
from compass_lab.scenarios.blueprint import STEP_S, Blueprint
from compass_lab.scenarios.render_app import served_rate
from compass_lab.scenarios.series_out import SERVER_BUCKETS, SeriesOut
from compass_lab.scenarios.signals import noise
from compass_lab.scenarios.simulate import Sim
from compass_lab.scenarios.state import Comp, zeros
from compass_lab.scenarios.topology import Node

GIB = 1024.0**3
TLS_TARGETS = {"shop": ("payments", "checkout"), "ridehail": ("dispatch", "drivers")}


def pvc_name(node: Node) -> str:
    return f"data-{node.name}-0" if node.kind in ("database", "queue") else f"{node.name}-spool"


def has_pvc(node: Node) -> bool:
    return node.kind in ("database", "queue") or node.tech == "worker"


class InfraRenderer:
    def __init__(self, sim: Sim, bp: Blueprint, out: SeriesOut) -> None:
        self.sim, self.bp, self.out = sim, bp, out
        self.n = sim.n
        self.ns = sim.system.namespace
        self.rng = np.random.default_rng([bp.seed, 91])

    def render(self) -> None:
        for comp in self.sim.comps.values():
            self.kube(comp)
            tech = comp.node.tech
            if tech == "postgres":
                self.postgres(comp)
            elif tech == "mysql":
                self.mysql(comp)
            elif tech == "redis":
                self.redis(comp)
            elif tech == "kafka":
                self.kafka(comp)
            elif tech == "coredns":
                self.coredns(comp)
            if has_pvc(comp.node):
                self.volume(comp)
        self.nodes()
        self.blackbox()

    def noise(self, rel: float) -> FloatArray:
        return noise(self.rng, self.n, rel)

    def up(self, job: str, instance: str, value: FloatArray | float = 1.0) -> None:
        self.out.gauge("up", {"job": job, "instance": instance}, value)

    # ------------------------------------------------------------------------ kubernetes
    def kube(self, comp: Comp) -> None:
        node = comp.node
        if not comp.pods:
            return
        out, n = self.out, self.n
        ns = "kube-system" if node.tech == "coredns" else self.ns
        container = node.name if node.is_service or node.tech == "coredns" else node.tech
        stateful = node.kind in ("database", "cache", "queue")
        for pod in comp.pods:
            alive = pod.alive(n)
            ready = pod.ready(n)
            resets = [r for r, _ in pod.restarts]
            ident = {"namespace": ns, "pod": pod.name, "container": container}
            cad = {**ident, "node": pod.host, "job": "kubelet", "metrics_path": "/metrics/cadvisor"}
            cpu = comp.cpu * np.where(ready, 1.0, 0.05)
            out.counter("container_cpu_usage_seconds_total", cad, cpu * STEP_S, alive, resets, integer=False)
            out.counter("container_cpu_cfs_periods_total", cad, np.full(n, 10.0 * STEP_S), alive, resets)
            out.counter(
                "container_cpu_cfs_throttled_periods_total", cad, 10.0 * STEP_S * comp.throttle, alive, resets
            )
            mem = comp.mem.get(pod.name, np.full(n, node.mem_base))
            out.gauge("container_memory_working_set_bytes", cad, np.round(mem), alive)
            out.gauge("container_spec_memory_limit_bytes", cad, node.mem_limit, alive)
            ksm = {"job": "kube-state-metrics"}
            owner = ("StatefulSet", node.name) if stateful else ("ReplicaSet", pod.name.rsplit("-", 1)[0])
            if node.tech == "coredns":
                owner = ("ReplicaSet", pod.name.rsplit("-", 1)[0])
            out.gauge(
                "kube_pod_info",
                {
                    **ksm,
                    "namespace": ns,
                    "pod": pod.name,
                    "node": pod.host,
                    "pod_ip": pod.ip,
                    "created_by_kind": owner[0],
                    "created_by_name": owner[1],
                },
                1.0,
                alive,
            )
            out.gauge(
                "kube_pod_container_info",
                {**ksm, **ident, "image": pod.image, "image_spec": pod.image},
                1.0,
                alive,
            )
            out.gauge(
                "kube_pod_status_ready",
                {**ksm, "namespace": ns, "pod": pod.name, "condition": "true"},
                ready.astype(np.float64),
                alive,
            )
            restarts = np.zeros(n)
            for r, _ in pod.restarts:
                restarts[min(r, n - 1) :] += 1
            out.gauge("kube_pod_container_status_restarts_total", {**ksm, **ident}, restarts, alive)
            for reason in sorted({why for _, why in pod.restarts}):
                first = min(r for r, why in pod.restarts if why == reason)
                last_reason = np.zeros(n, dtype=bool)
                last_reason[first:] = True
                for r, why in sorted(pod.restarts):
                    if r >= first:
                        last_reason[r:] = why == reason
                out.gauge(
                    "kube_pod_container_status_last_terminated_reason",
                    {**ksm, **ident, "reason": reason},
                    1.0,
                    alive & last_reason,
                )
            if any(why == "Error" for _, why in pod.restarts) and pod.down:
                waiting = ~ready & alive
                out.gauge(
                    "kube_pod_container_status_waiting_reason",
                    {**ksm, **ident, "reason": "CrashLoopBackOff"},
                    waiting.astype(np.float64),
                    alive & (np.cumsum(waiting) > 0),
                )
            lim = {**ksm, **ident}
            out.gauge(
                "kube_pod_container_resource_limits",
                {**lim, "resource": "cpu", "unit": "core"},
                node.cpu_limit,
                alive,
            )
            out.gauge(
                "kube_pod_container_resource_limits",
                {**lim, "resource": "memory", "unit": "byte"},
                node.mem_limit,
                alive,
            )
        if node.is_service or node.tech == "coredns":
            ready_count = np.sum([p.ready(n) for p in comp.pods], axis=0).astype(np.float64)
            dep = {"job": "kube-state-metrics", "namespace": ns, "deployment": node.name}
            out.gauge(
                "kube_deployment_status_replicas_available", dep, np.minimum(ready_count, node.replicas)
            )
            out.gauge("kube_deployment_spec_replicas", dep, float(node.replicas))

    def volume(self, comp: Comp) -> None:
        node = comp.node
        cap = {"database": 100 * GIB, "queue": 200 * GIB}.get(node.kind, 20 * GIB)
        free0 = float(self.rng.uniform(0.25, 0.55))
        trend = free0 - 0.01 * np.linspace(0.0, 1.0, self.n)  # data grows slowly
        free = cap * trend * (1.0 - comp.disk_fill) * (1.0 + 0.002 * self.rng.standard_normal(self.n))
        labels = {"job": "kubelet", "namespace": self.ns, "persistentvolumeclaim": pvc_name(node)}
        self.out.gauge("kubelet_volume_stats_capacity_bytes", labels, cap)
        self.out.gauge("kubelet_volume_stats_available_bytes", labels, np.round(np.maximum(free, 0.0)))
        self.out.gauge("kubelet_volume_stats_used_bytes", labels, np.round(cap - np.maximum(free, 0.0)))

    def nodes(self) -> None:
        out, n = self.out, self.n
        sim = self.sim
        for host in sim.hosts.values():
            inst = {"job": "node-exporter", "instance": f"{host.name}:9100"}
            busy = sim.host_busy.get(host.name, np.full(n, 0.3))
            for cpu in range(host.cpus):
                b = np.clip(busy * self.noise(0.04), 0.0, 1.0)
                for mode, frac in (("user", 0.72), ("system", 0.22), ("iowait", 0.03), ("softirq", 0.03)):
                    out.counter(
                        "node_cpu_seconds_total",
                        {**inst, "cpu": str(cpu), "mode": mode},
                        b * frac * STEP_S,
                        integer=False,
                        offset=3.1e5 * frac,
                    )
                out.counter(
                    "node_cpu_seconds_total",
                    {**inst, "cpu": str(cpu), "mode": "idle"},
                    (1.0 - b) * STEP_S,
                    integer=False,
                    offset=9.7e5,
                )
            out.gauge("node_load1", inst, np.round(busy * host.cpus * 1.1 * self.noise(0.08), 2))
            traffic = zeros(n)
            for comp in sim.comps.values():
                for pod in comp.pods:
                    if pod.host == host.name:
                        traffic = traffic + comp.rate / max(len([p for p in comp.pods if p.end == n]), 1)
            out_segs = (1800.0 + 35.0 * traffic) * self.noise(0.05)
            out.counter("node_netstat_Tcp_OutSegs", inst, out_segs * STEP_S, offset=8.4e8)
            retrans = out_segs * (0.0009 * self.noise(0.3) + host.retrans_extra)
            out.counter("node_netstat_Tcp_RetransSegs", inst, retrans * STEP_S, offset=6.1e5)
            out.counter("node_netstat_TcpExt_TCPTimeouts", inst, retrans * 0.08 * STEP_S, offset=2.2e4)
            size = 100 * GIB
            fs = {**inst, "device": "/dev/nvme0n1p1", "fstype": "ext4", "mountpoint": "/"}
            free = size * (0.42 - 0.004 * np.linspace(0, 1, n)) * (1.0 - host.fs_fill)
            out.gauge("node_filesystem_size_bytes", fs, size)
            out.gauge("node_filesystem_avail_bytes", fs, np.round(np.maximum(free, 0.0)))
            out.gauge("node_memory_MemTotal_bytes", inst, 16 * GIB)
            out.gauge("node_memory_MemAvailable_bytes", inst, np.round(9.5 * GIB * self.noise(0.01)))
            self.up("node-exporter", inst["instance"])

    # ------------------------------------------------------------------------ databases
    def _clients(self, comp: Comp) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(calls/s answered, failed write calls/s, connections held by client pools)."""
        ok = zeros(self.n)
        failed = zeros(self.n)
        pools = zeros(self.n)
        name = comp.node.name
        for (caller, callee), link in self.sim.links.items():
            if callee != name:
                continue
            served = link.rate * (1.0 - comp.unavailable)
            bad = comp.err.get("write", zeros(self.n)) if link.edge.operation in ("INSERT", "UPDATE") else 0.0
            ok = ok + served * (1.0 - bad)
            failed = failed + served * bad
            c = self.sim.comps[caller]
            pools = pools + c.pool_max * c.node.replicas
        return ok, failed, pools

    def postgres(self, comp: Comp) -> None:
        out, n = self.out, self.n
        node = comp.node
        inst = {"job": "postgres", "instance": f"{node.name}:9187"}
        up = 1.0 - np.round(comp.unavailable)
        live = up > 0.5
        self.up("postgres", inst["instance"])
        out.gauge("pg_up", inst, up)
        ok, failed, pools = self._clients(comp)
        db = {**inst, "datname": node.database}
        active = (ok + failed) * comp.mean + 1.0 + self.rng.poisson(0.8, n)
        out.gauge("pg_stat_activity_count", {**db, "state": "active"}, np.round(active), live)
        out.gauge(
            "pg_stat_activity_count", {**db, "state": "idle"}, np.round(np.maximum(pools - active, 0)), live
        )
        out.gauge(
            "pg_stat_activity_count",
            {**db, "state": "idle in transaction"},
            self.rng.poisson(0.4, n).astype(np.float64),
            live,
        )
        tail = comp.mean * np.exp(3.0 * comp.sigma) * self.noise(0.2)
        vacuum = np.zeros(n)
        for _ in range(2):  # background autovacuum transactions: benign long-ish transactions
            at = int(self.rng.integers(0, n - 10))
            vacuum[at : at + int(self.rng.integers(2, 6))] = float(self.rng.uniform(4.0, 12.0))
        out.gauge("pg_stat_activity_max_tx_duration", db, np.round(np.maximum(tail, vacuum), 3), live)
        locks = comp.sig.get("locks", zeros(n))
        for mode, k in (
            ("accesssharelock", 1.6),
            ("rowexclusivelock", 0.7),
            ("exclusivelock", 0.05),
            ("accessexclusivelock", 0.0),
            ("sharelock", 0.02),
        ):
            extra = locks * (0.6 if mode in ("rowexclusivelock", "exclusivelock") else 0.0)
            out.gauge("pg_locks_count", {**db, "mode": mode}, np.round(active * k + extra), live)
        out.counter("pg_stat_database_xact_commit", db, ok * 0.6 * STEP_S, live, offset=4.2e8)
        out.counter("pg_stat_database_xact_rollback", db, (failed + ok * 0.0004) * STEP_S, live, offset=3.1e4)
        out.counter("pg_stat_database_deadlocks", db, ok * 1e-7 * STEP_S, live, offset=12)
        out.gauge("pg_settings_max_connections", inst, 200.0, live)
        out.gauge(
            "pg_database_size_bytes", db, np.round(38 * GIB * (1.0 + 0.0002 * np.linspace(0, 1, n))), live
        )
        slow = comp.sig.get("slow", zeros(n))
        for k, (qid, share) in enumerate(
            (("6248716932483157024", 0.55), ("-184729348120993412", 0.3), ("3317720512098824771", 0.15))
        ):
            lat = comp.mean if k == 0 or "locks" in comp.sig else comp.mean / np.maximum(slow, 1.0)
            labels = {**db, "queryid": qid, "user": node.database}
            out.counter(
                "pg_stat_statements_calls_total", labels, ok * share * STEP_S, live, offset=9e7 * share
            )
            out.counter(
                "pg_stat_statements_seconds_total",
                labels,
                ok * share * lat * STEP_S,
                live,
                integer=False,
                offset=4e5 * share,
            )

    def mysql(self, comp: Comp) -> None:
        out, n = self.out, self.n
        node = comp.node
        inst = {"job": "mysql", "instance": f"{node.name}:9104"}
        up = 1.0 - np.round(comp.unavailable)
        live = up > 0.5
        self.up("mysql", inst["instance"])
        out.gauge("mysql_up", inst, up)
        ok, failed, pools = self._clients(comp)
        running = (ok + failed) * comp.mean + 1.0 + self.rng.poisson(0.6, n)
        out.gauge("mysql_global_status_threads_running", inst, np.round(running), live)
        out.gauge("mysql_global_status_threads_connected", inst, np.round(pools * 0.8 + 4), live)
        out.counter("mysql_global_status_questions", inst, (ok + failed) * STEP_S, live, offset=7.7e8)
        median = comp.mean * np.exp(-(comp.sigma**2) / 2.0)
        z = (np.log(1.0) - np.log(median)) / comp.sigma  # long_query_time = 1 s
        tail = 0.5 * (1.0 - np.tanh(z * 0.8))  # smooth survival function approximation
        out.counter(
            "mysql_global_status_slow_queries",
            inst,
            (ok + failed) * tail * STEP_S + 0.002 * STEP_S,
            live,
            offset=1.3e3,
        )
        locks = comp.sig.get("locks", zeros(n))
        out.counter(
            "mysql_global_status_innodb_row_lock_waits",
            inst,
            (0.02 + locks * 2.0) * STEP_S,
            live,
            offset=5.1e3,
        )
        out.counter(
            "mysql_global_status_innodb_row_lock_time",
            inst,
            (0.3 + locks * 900.0) * STEP_S,
            live,
            offset=8.8e5,
        )
        out.gauge("mysql_global_variables_max_connections", inst, 500.0, live)

    def redis(self, comp: Comp) -> None:
        out, n = self.out, self.n
        node = comp.node
        inst = {"job": "redis", "instance": f"{node.name}:9121"}
        up = 1.0 - np.round(comp.unavailable)
        live = up > 0.5
        self.up("redis", inst["instance"])
        out.gauge("redis_up", inst, up)
        ops = served_rate(comp)
        hit = comp.sig.get("hit", np.full(n, 0.92)) * self.noise(0.01)
        reads = ops * 0.9
        out.counter(
            "redis_keyspace_hits_total", inst, reads * np.clip(hit, 0, 1) * STEP_S, live, offset=5.5e8
        )
        out.counter(
            "redis_keyspace_misses_total", inst, reads * np.clip(1 - hit, 0, 1) * STEP_S, live, offset=4.6e7
        )
        evict = comp.sig.get("evict", zeros(n))
        out.counter("redis_evicted_keys_total", inst, (0.01 + evict * ops * 0.4) * STEP_S, live, offset=210)
        callers = sum(self.sim.comps[e.caller].node.replicas for e in self.sim.system.callers_of(node.name))
        out.gauge("redis_connected_clients", inst, np.round(callers * 8 + 2 + self.rng.poisson(0.5, n)), live)
        maxmem = 2 * GIB
        used = maxmem * (0.62 + 0.37 * np.clip(evict * 3, 0, 1)) * self.noise(0.004)
        out.gauge("redis_memory_used_bytes", inst, np.round(np.minimum(used, maxmem)), live)
        out.gauge("redis_memory_max_bytes", inst, maxmem, live)
        keys = 1.8e6 * np.clip(1.0 - comp.hit_drop * 1.1, 0.02, 1.0) * self.noise(0.002)
        out.gauge("redis_db_keys", {**inst, "db": "db0"}, np.round(keys), live)
        edges = self.sim.system.callers_of(node.name)
        for cmd in sorted({e.operation.lower() for e in edges} | {"set"}):
            share = 0.1 if cmd == "set" else 0.9 / max(len({e.operation for e in edges}), 1)
            labels = {**inst, "cmd": cmd}
            out.counter("redis_commands_total", labels, ops * share * STEP_S, live, offset=2e8 * share)
            out.counter(
                "redis_commands_duration_seconds_total",
                labels,
                ops * share * 4e-5 * STEP_S,
                live,
                integer=False,
                offset=8e3 * share,
            )

    def kafka(self, comp: Comp) -> None:
        out, n = self.out, self.n
        node = comp.node
        inst = {"job": "kafka", "instance": f"{node.name}:9308"}
        self.up("kafka", inst["instance"])
        out.gauge("kafka_brokers", inst, 3.0 * (1.0 - np.round(comp.unavailable)))
        produce = comp.sig.get("produce", zeros(n))
        consume = comp.sig.get("consume", zeros(n))
        lag = comp.sig.get("lag", zeros(n))
        consumer = next(
            (e.caller for e in self.sim.system.callers_of(node.name) if e.protocol == "consume"), ""
        )
        stuck = (
            int(comp.sig.get("stuck_partition", np.full(n, -1.0))[0])
            if self.bp.variant == "partition_stuck"
            else -1
        )
        base_lag = float(np.median(lag[: max(self.bp.onset_idx - 20, 10)]))
        for p in range(3):
            part = {**inst, "topic": node.topic, "partition": str(p)}
            out.counter(
                "kafka_topic_partition_current_offset", part, produce / 3.0 * STEP_S, offset=1.2e7 + p * 7e3
            )
            if stuck >= 0:
                plag = np.where(
                    np.arange(3)[p] == stuck, np.maximum(lag - base_lag, 0.0) + base_lag / 3, base_lag / 3
                )
            else:
                plag = lag / 3.0 * self.noise(0.08)
            group = {**part, "consumergroup": consumer}
            out.gauge("kafka_consumergroup_lag", group, np.round(plag))
            out.counter(
                "kafka_consumergroup_current_offset", group, consume / 3.0 * STEP_S, offset=1.2e7 + p * 7e3
            )
        members = np.full(n, float(self.sim.comps[consumer].node.replicas)) if consumer else np.zeros(n)
        if self.bp.fault == "queue_backlog" and self.bp.variant == "rebalance_storm":
            flap = (np.arange(n) % 3 == 0) & (comp.consume_mult < 0.9)
            members = np.where(flap, 0.0, members)
        out.gauge("kafka_consumergroup_members", {**inst, "consumergroup": consumer}, members)

    # ------------------------------------------------------------------------ dns & probes
    def coredns(self, comp: Comp) -> None:
        out, n = self.out, self.n
        sim = self.sim
        internal = zeros(n)
        external = zeros(n)
        for (_c, callee), link in sim.links.items():
            if sim.comps[callee].node.kind == "external":
                external = external + link.rate * 0.08
            else:
                internal = internal + link.rate * 0.01
        total = (internal + external + 35.0) * self.noise(0.05)
        fwd_fail = comp.sig.get("forward_fail", zeros(n))
        int_fail = comp.sig.get("lookup_fail", zeros(n)) * comp.sig.get("internal_fail", zeros(n))
        servfail = 0.0004 + (external * fwd_fail + internal * int_fail * 3.0) / np.maximum(total, 1e-9)
        servfail = np.clip(servfail, 0.0, 1.0)
        nxdomain = 0.38 * self.noise(0.03)  # ndots:5 search-path expansion: lots of benign NXDOMAIN
        pods = comp.pods
        for pod in pods:
            inst = {
                "job": "coredns",
                "instance": f"{pod.ip}:9153",
                "pod": pod.name,
                "namespace": "kube-system",
            }
            self.up("coredns", inst["instance"])
            srv = {**inst, "server": "dns://:53", "zone": "."}
            q = total / len(pods)
            out.counter(
                "coredns_dns_requests_total",
                {**srv, "proto": "udp", "family": "1", "type": "A"},
                q * 0.6 * STEP_S,
                offset=4.4e7,
            )
            out.counter(
                "coredns_dns_requests_total",
                {**srv, "proto": "udp", "family": "1", "type": "AAAA"},
                q * 0.4 * STEP_S,
                offset=2.9e7,
            )
            for rcode, ratio in (
                ("NOERROR", 1.0 - servfail - nxdomain),
                ("NXDOMAIN", nxdomain),
                ("SERVFAIL", servfail),
            ):
                out.counter(
                    "coredns_dns_responses_total",
                    {**srv, "rcode": rcode, "plugin": ""},
                    q * np.clip(ratio, 0, 1) * STEP_S,
                    offset=1e4,
                )
            out.histogram(
                "coredns_dns_request_duration_seconds",
                {**srv, "type": "A"},
                q * 0.6,
                comp.mean,
                comp.sigma,
                SERVER_BUCKETS[:8],
            )
            fwd = {**inst, "to": "10.0.0.2:53"}
            fq = external / len(pods) * 1.2 + 0.5
            out.counter("coredns_forward_requests_total", fwd, fq * STEP_S, offset=3.3e6)
            ext_fail = np.clip(fwd_fail, 0.0, 1.0)
            out.counter(
                "coredns_forward_responses_total",
                {**fwd, "rcode": "NOERROR"},
                fq * (1 - ext_fail) * STEP_S,
                offset=3.2e6,
            )
            out.counter(
                "coredns_forward_responses_total",
                {**fwd, "rcode": "SERVFAIL"},
                fq * (0.0002 + ext_fail) * STEP_S,
                offset=40,
            )
            out.counter(
                "coredns_forward_healthcheck_failures_total",
                fwd,
                (0.0005 + fwd_fail * 0.2) * STEP_S,
                lazy=True,
            )
            out.counter("coredns_cache_hits_total", {**srv, "type": "success"}, q * 0.7 * STEP_S, offset=5e7)
            out.counter("coredns_cache_misses_total", srv, q * 0.3 * STEP_S, offset=2e7)

    def blackbox(self) -> None:
        out, n = self.out, self.n
        sim = self.sim
        targets = [c for c in sim.comps.values() if c.node.kind == "external"]
        targets += [sim.comps[s] for s in TLS_TARGETS.get(sim.system.name, sim.system.tls_services)]
        for comp in targets:
            node = comp.node
            url = (
                f"https://{node.name}/health"
                if node.kind == "external"
                else f"https://{node.name}:8443/healthz"
            )
            inst = {"job": "blackbox", "instance": url}
            failing = np.maximum(np.round(comp.unavailable), np.round(comp.tls_fail))
            flaky = (self.rng.random(n) < 0.002).astype(np.float64)  # the odd benign probe timeout
            success = 1.0 - np.maximum(failing, flaky)
            self.up("blackbox", url)
            out.gauge("probe_success", inst, success)
            dur = (comp.mean if node.kind == "external" else np.full(n, 0.004)) + 0.03 * self.noise(0.2)
            out.gauge("probe_duration_seconds", inst, np.round(np.where(failing > 0, 0.02, dur), 4))
            out.gauge("probe_http_status_code", inst, np.where(success > 0, 200.0, 0.0))
            cert = next(
                (e for e in sim.events if e.kind == "cert_expired" and e.component == node.name), None
            )
            rng = np.random.default_rng([self.bp.seed, 97, len(node.name)])
            not_after = (
                self.bp.onset if cert and self.bp.onset else self.bp.at + float(rng.uniform(12, 80)) * 86400
            )
            out.gauge(
                "probe_ssl_earliest_cert_expiry",
                inst,
                float(round(not_after)),
                success > 0 if cert is None else None,
            )
            out.gauge("probe_http_ssl", inst, 1.0)

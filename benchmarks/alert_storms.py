"""Labelled alert storms built from the lab's scenarios (truth: the scenario's fault and component).

Each fault scenario becomes the storm its incident would page with in a typical Prometheus setup:
- the symptom alert on the symptom component (one per pod: several fingerprints), named after the
  symptom's signal (5xx → HighErrorRate, p99 → HighRequestLatency, lag → ConsumerLagHigh, …);
- the cause alert(s) on the truth component, named after the fault as common exporter rule sets name them
  (disk_full → HostOutOfDiskSpace, certificate_expiry → SSLCertificateExpired, …);
- latency alerts on the components between them on the dependency path (callers inherit the fault).

Every alert template carries the category and severity a reviewer gives it (`truth_category`,
`truth_severity`); some templates carry no severity label, as real rules often do not. Storms are placed
on one timeline (seeded) with a chosen mean gap between incidents, so that a short gap makes unrelated
incidents overlap in time in the same system — where a wrong merge can happen.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from compass_lab.model import Scenario, ScenarioKind


@dataclass(frozen=True)
class Template:
    name: str
    summary: str  # "{c}" is the component
    category: str
    severity_label: str | None  # None: the rule sets no severity label
    severity: str  # what a reviewer would call it


SYMPTOM_TEMPLATES: dict[str, Template] = {
    "errors": Template("HighErrorRate", "{c}: 5xx ratio above 5%", "errors", "critical", "critical"),
    "latency": Template("HighRequestLatency", "{c}: p99 latency above SLO", "latency", "warning", "medium"),
    "lag": Template("ConsumerLagHigh", "{c}: consumer lag growing", "latency", "warning", "medium"),
    "traffic": Template(
        "RequestRateAnomaly", "{c}: request rate far above baseline", "saturation", None, "medium"
    ),
    "cpu": Template("CPUThrottlingHigh", "{c}: CPU throttled above 25%", "saturation", "warning", "medium"),
    "restart": Template(
        "KubePodCrashLooping", "{c}: pod restarting repeatedly", "availability", "critical", "critical"
    ),
    "change": Template("SLOBurnRateHigh", "{c}: error budget burning fast", "errors", "critical", "critical"),
}

CAUSE_TEMPLATES: dict[str, tuple[Template, ...]] = {
    "cpu_saturation": (
        Template("ContainerCPUSaturated", "{c}: CPU usage at limit", "saturation", "warning", "medium"),
    ),
    "memory_leak": (
        Template(
            "ContainerMemoryNearLimit",
            "{c}: memory working set at 95% of limit",
            "saturation",
            "warning",
            "medium",
        ),
        Template(
            "ContainerOOMKilled",
            "{c}: container OOMKilled and restarted",
            "availability",
            "critical",
            "critical",
        ),
    ),
    "db_connection_pool_exhaustion": (
        Template(
            "DBConnectionPoolExhausted",
            "{c}: connection pool 100% in use, requests waiting",
            "saturation",
            "critical",
            "critical",
        ),
    ),
    "db_slow_queries": (
        Template(
            "PostgresSlowQueries", "{c}: mean query duration above 500ms", "latency", "warning", "medium"
        ),
    ),
    "bad_deploy": (
        Template("ErrorsAfterRollout", "{c}: new version rolled out, exceptions up", "errors", None, "high"),
    ),
    "config_change": (
        Template(
            "ConfigReloadFailures",
            "{c}: configuration reload followed by failed requests",
            "errors",
            "warning",
            "medium",
        ),
    ),
    "dependency_latency": (
        Template("UpstreamLatencyHigh", "{c}: server-side p99 duration up", "latency", "warning", "medium"),
    ),
    "dependency_outage": (
        Template(
            "TargetDown", "{c}: target down, connection refused", "availability", "critical", "critical"
        ),
    ),
    "network_packet_loss": (
        Template(
            "NodeNetworkRetransmitsHigh",
            "{c}: TCP retransmits and timeouts up",
            "latency",
            "warning",
            "medium",
        ),
    ),
    "dns_failure": (
        Template(
            "CoreDNSErrorsHigh",
            "{c}: NXDOMAIN/SERVFAIL responses, lookups failing",
            "availability",
            "critical",
            "critical",
        ),
    ),
    "disk_full": (
        Template(
            "HostOutOfDiskSpace", "{c}: filesystem free space below 5%", "saturation", "critical", "critical"
        ),
    ),
    "certificate_expiry": (
        Template(
            "SSLCertificateExpired", "{c}: TLS certificate has expired", "security", "critical", "critical"
        ),
    ),
    "rate_limited": (
        Template(
            "UpstreamRateLimited", "{c}: HTTP 429 responses from dependency", "errors", "warning", "medium"
        ),
    ),
    "traffic_surge": (
        Template("RequestRateSurge", "{c}: request rate 3x above baseline", "saturation", None, "medium"),
    ),
    "cache_failure": (
        Template(
            "RedisCacheDown",
            "{c}: cache unreachable, hit ratio collapsed",
            "availability",
            "critical",
            "critical",
        ),
    ),
    "queue_backlog": (
        Template(
            "QueueBacklogGrowing",
            "{c}: queue depth climbing, consumers behind",
            "latency",
            "warning",
            "medium",
        ),
    ),
}

PATH_TEMPLATE = Template("HighRequestLatency", "{c}: p99 latency above SLO", "latency", "warning", "medium")


def symptom_signal(symptom: str) -> str:
    s = symptom.lower()
    for signal, pattern in (
        ("lag", r"lag|backlog|falling behind"),
        ("errors", r"5xx|error"),
        ("latency", r"latency|slow|p9\d"),
        ("traffic", r"request rate|traffic"),
        ("cpu", r"cpu"),
        ("restart", r"restart"),
    ):
        if re.search(pattern, s):
            return signal
    return "change"  # "deployed at 14:02, did it break anything?", "feature flag flipped …", "wrong with …"


@dataclass(frozen=True)
class StormAlert:
    scenario: str  # the truth: which incident this alert belongs to
    system: str
    template: Template
    component: str
    fingerprint: str
    at: float  # startsAt, unix seconds

    def labels(self) -> dict[str, str]:
        labels = {"alertname": self.template.name, "service": self.component, "cluster": self.system}
        if self.template.severity_label:
            labels["severity"] = self.template.severity_label
        return labels

    @property
    def summary(self) -> str:
        return self.template.summary.format(c=self.component)


def path_between(scenario: Scenario, start: str, goal: str) -> list[str]:
    """Components strictly between `start` and `goal` along calls (shortest path), [] when none."""
    calls = {c.name: c.depends_on for c in scenario.components}
    previous: dict[str, str] = {}
    todo, seen = [start], {start}
    while todo:
        node = todo.pop(0)
        if node == goal:
            path = []
            while node in previous and previous[node] != start:
                node = previous[node]
                path.append(node)
            return path[::-1]
        for nxt in calls.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                previous[nxt] = node
                todo.append(nxt)
    return []


def storm(scenario: Scenario, start: float, rng: random.Random) -> list[StormAlert]:
    assert scenario.truth_fault is not None and scenario.truth_component is not None
    alerts: list[StormAlert] = []

    def add(template: Template, component: str, at: float, instance: int = 0) -> None:
        fp = f"{scenario.id}:{template.name}:{component}:{instance}"
        alerts.append(StormAlert(scenario.id, scenario.system, template, component, fp, at))

    cause_at = start
    for template in CAUSE_TEMPLATES[scenario.truth_fault]:
        add(template, scenario.truth_component, cause_at + rng.uniform(0, 60))
    for hop in path_between(scenario, scenario.symptom_component, scenario.truth_component):
        add(PATH_TEMPLATE, hop, start + rng.uniform(30, 180))
    symptom = SYMPTOM_TEMPLATES[symptom_signal(scenario.symptom)]
    for pod in range(rng.randint(1, 3)):  # one alert per pod: distinct fingerprints, same rule
        add(symptom, scenario.symptom_component, start + rng.uniform(60, 240), pod)
    return alerts


def storms(scenarios: list[Scenario], *, mean_gap_s: float, seed: int = 7) -> list[StormAlert]:
    """Every fault scenario's storm on one timeline; gaps between incident starts are exponential."""
    rng = random.Random(seed)
    faults = [s for s in scenarios if s.kind == ScenarioKind.FAULT]
    rng.shuffle(faults)
    t = 1.8e9
    out: list[StormAlert] = []
    for sc in faults:
        out += storm(sc, t, rng)
        t += rng.expovariate(1 / mean_gap_s)
    return sorted(out, key=lambda a: a.at)


def dependency_map(scenarios: list[Scenario]) -> dict[str, list[str]]:
    """What a team would configure: every system's calls (component → the components it calls)."""
    calls: dict[str, set[str]] = {}
    for sc in scenarios:
        for c in sc.components:
            calls.setdefault(c.name, set()).update(c.depends_on)
    return {k: sorted(v) for k, v in calls.items()}

"""Normalising component names as telemetry spells them.

The same database shows up as `instance="payments-db:9187"` (its exporter), `server_address=
"payments-db.shop.svc.cluster.local"` (its clients), and `pod="payments-db-0"`. A verdict must name
it once, the way the telemetry names it, so identity values go through `normalise` and aliases are
merged by preferring names other telemetry already uses (`engine.metrics.component_of`). Only widely
used conventions are applied: URL parts, ports, cluster DNS suffixes, Kubernetes pod and
StatefulSet/PVC suffixes.
"""

from __future__ import annotations

import ipaddress
import re

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_CLUSTER_SUFFIX = re.compile(r"\.svc(\.cluster\.local)?$")
# <deployment>-<replicaset hash>-<pod id>, as Kubernetes names Deployment pods.
_DEPLOYMENT_POD = re.compile(r"^(?P<base>[a-z0-9-]+?)-[a-z0-9]{5,10}-[a-z0-9]{5}$")
_ORDINAL = re.compile(r"^(?P<base>[a-z0-9-]+?)-\d{1,3}$")
_PVC_TEMPLATE = re.compile(r"^(data|storage|pvc|datadir|volume)-(?P<base>.+)$")


_KEY_PARTS = re.compile(r"_|(?<=[a-z0-9])(?=[A-Z])")


def _names_a_pod(label: str) -> bool:
    """`pod`, `pod_name`, `kubernetes_pod_name`, `k8s_pod_name`, `PodName`: a key naming the pod."""
    return "pod" in (p.lower() for p in _KEY_PARTS.split(label))


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def host_of(value: str) -> str:
    """`https://psp-api.example.com:443/health` -> `psp-api.example.com`; `db:5432` -> `db`."""
    v = _SCHEME.sub("", value.strip())
    v = v.split("/", 1)[0]
    if v.startswith("["):  # [::1]:8080
        return v[1:].split("]", 1)[0]
    if v.count(":") == 1:
        v = v.split(":", 1)[0]
    return v


def normalise(value: str, *, label: str = "") -> str:
    """Canonical component name for an identity label value."""
    raw = value.strip()
    if label == "job" and "/" in raw and "://" not in raw:
        raw = raw.rsplit("/", 1)[1]  # Promtail/Alloy convention: job="<namespace>/<app>"
    v = host_of(raw).lower()
    if not v or is_ip(v):
        return v
    if _CLUSTER_SUFFIX.search(v):
        # payments-db.shop.svc.cluster.local -> payments-db: a Kubernetes Service's DNS name
        v = _CLUSTER_SUFFIX.sub("", v).split(".", 1)[0]
    if label == "persistentvolumeclaim":
        m = _PVC_TEMPLATE.match(v)
        v = m.group("base") if m else v
        m = _ORDINAL.match(v)
        v = m.group("base") if m else v
    elif label == "instance" or _names_a_pod(label):
        m = _DEPLOYMENT_POD.match(v) or _ORDINAL.match(v)
        v = m.group("base") if m else v
    return v

"""Names as the Nezha recording spells them, made legal for Prometheus and mapped to deployments.

Metric names keep the dataset's own column names (`CpuUsageRate(%)` -> `CpuUsageRate_percent`): no
prefix and no translation into a known convention, so the engine meets names it was not written for,
as it would on a real team's dashboards.
"""

from __future__ import annotations

import re

_PAREN_PERCENT = re.compile(r"\(%\)")
_PAREN_UNIT = re.compile(r"\(([^)]*)\)")
_ILLEGAL = re.compile(r"[^a-zA-Z0-9_:]")
# <deployment>-<replicaset hash>-<pod id>: how Kubernetes names a Deployment's pods.
_DEPLOYMENT_POD = re.compile(r"^(?P<base>[a-z0-9-]+?)-[a-z0-9]{5,10}-[a-z0-9]{5}$")


def metric_name(column: str) -> str:
    """A CSV column as a Prometheus metric name: units in parentheses become a suffix."""
    name = _PAREN_PERCENT.sub("_percent", column.strip())
    name = _PAREN_UNIT.sub(lambda m: f"_{m.group(1)}", name)
    name = _ILLEGAL.sub("_", name).strip("_")
    if not name or name[0].isdigit():
        name = f"_{name}"
    return name


def deployment_of(pod: str) -> str:
    """`frontend-579b9bff58-t2dbm` -> `frontend`; a name that is not a Deployment pod stays as it is."""
    m = _DEPLOYMENT_POD.match(pod)
    return m.group("base") if m else pod

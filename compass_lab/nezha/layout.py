"""The two recorded days, as the archive lays them out, and how their fault labels map to FAULTS.md ids."""

from __future__ import annotations

from dataclasses import dataclass

from compass_lab.nezha.errors import NezhaDataError


@dataclass(frozen=True)
class Day:
    date: str  # the directory under rca_data/
    short: str  # in scenario ids
    system: str  # Scenario.system
    namespace: str  # Kubernetes namespace the system ran in
    entry: str  # the entry service the on-call engineer looks at (front_service.csv measures it)


DAYS = (
    Day("2022-08-22", "ob", "online-boutique", "hipster", "frontend"),
    Day("2023-01-30", "tt", "train-ticket", "ts", "ts-ui-dashboard"),
)

# Nezha's inject_type -> FAULTS.md id. Code-level faults (a thrown exception, a wrong return value)
# have no FAULTS.md id of their own: `code_defect`.
TRUTH_FAULT = {
    "cpu_contention": "cpu_saturation",
    "cpu_consumed": "cpu_saturation",
    "network_delay": "dependency_latency",
    "exception": "code_defect",
    "return": "code_defect",
}


def truth_fault(inject_type: str) -> str:
    try:
        return TRUTH_FAULT[inject_type]
    except KeyError:
        raise NezhaDataError(f"unknown Nezha inject_type {inject_type!r}") from None

"""Reading a correction ("no — it was the payments-db failover") as a cause: component + fault id.

The component is matched against the components this investigation saw (the telemetry's names);
the fault against the catalog's ids, then against common words for each fault. Unmatched → "other",
with the engineer's words kept as the note, so nothing they said is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from compass_worker.contracts import VERDICT_FAULT_IDS

OTHER = "other"

# Words engineers use for each fault (checked in this order: the more specific first).
_FAULT_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("db_connection_pool_exhaustion", re.compile(r"\b(connection )?pool\b|\bpool exhaust", re.I)),
    (
        "db_slow_queries",
        re.compile(r"slow quer|\block(s|ing)?\b|vacuum|missing index|long transaction", re.I),
    ),
    ("bad_deploy", re.compile(r"\b(deploy(ment)?|release|rollout|roll-out|new version|rollback)\b", re.I)),
    ("config_change", re.compile(r"\b(config(uration)?|feature flag|flag flip|flag)\b", re.I)),
    ("certificate_expiry", re.compile(r"\b(cert(ificate)?s?|tls|ssl)\b", re.I)),
    ("dns_failure", re.compile(r"\b(dns|nxdomain|resolver|name resolution)\b", re.I)),
    ("disk_full", re.compile(r"\b(disk|volume|no space)\b", re.I)),
    ("memory_leak", re.compile(r"\b(memory|oom|leak)\b", re.I)),
    ("cpu_saturation", re.compile(r"\b(cpu|throttl\w*)\b", re.I)),
    ("rate_limited", re.compile(r"\b(429|rate.?limit\w*|quota|throttled by)\b", re.I)),
    ("cache_failure", re.compile(r"\b(cache|evict\w*|hit ratio)\b", re.I)),
    ("queue_backlog", re.compile(r"\b(backlog|consumer lag|queue)\b", re.I)),
    ("network_packet_loss", re.compile(r"\b(packet loss|network|retransmit\w*)\b", re.I)),
    ("traffic_surge", re.compile(r"\b(traffic|surge|load spike|ddos)\b", re.I)),
    ("dependency_outage", re.compile(r"\b(failover|outage|down|crash(ed)?|refus\w*|unavailable)\b", re.I)),
    ("dependency_latency", re.compile(r"\b(latency|slow)\b", re.I)),
)


def fault_from_text(text: str) -> str | None:
    low = text.lower()
    for fault in VERDICT_FAULT_IDS:
        if fault in low or fault.replace("_", " ") in low:
            return fault
    for fault, pattern in _FAULT_WORDS:
        if pattern.search(text):
            return fault
    return None


def component_from_text(text: str, known: Iterable[str]) -> str | None:
    """A component this investigation knows, named in `text` (the longest name wins)."""
    names = sorted({k.lower() for k in known}, key=len, reverse=True)
    low = text.lower()
    for name in names:
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", low):
            return name
    return None


def ask_component(named: str, known: Iterable[str]) -> str:
    """The question back when a correction names no component of this incident."""
    names = ", ".join(f"`{k}`" for k in sorted(known))
    said = f"`{named}` is not one of the components" if named else "I couldn't tell which component"
    return (
        f":thinking_face: {said} this investigation looked at ({names}), so I haven't recorded it. "
        "Which one was it? Reply like `no — it was <component>, <what happened>`."
    )

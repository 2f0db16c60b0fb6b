"""Severity (critical/high/medium/low) and category (availability, latency, errors, saturation, data,
security) of an alert, from its labels first and its words second.

Labels win because they are the alert author's own statement (`severity`, `priority`, `category`); the
words of the alert name, summary and description decide otherwise, through general SRE vocabulary (not any
one environment's alert names). When an investigation reaches a verdict, its fault refines the category
(`category_of_fault`): the evidence knows better than the alert's wording. No LLM is involved here; when
one is configured, `llm_classify` is asked about alerts whose words decided nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from compass_worker.contracts import FAULT_CATEGORIES

Severity = Literal["critical", "high", "medium", "low"]
Category = Literal["availability", "latency", "errors", "saturation", "data", "security"]
SEVERITIES: Final[tuple[Severity, ...]] = ("critical", "high", "medium", "low")
CATEGORIES: Final[tuple[Category, ...]] = (
    "availability",
    "latency",
    "errors",
    "saturation",
    "data",
    "security",
)

_SEVERITY_NAMES: Final[tuple[tuple[Severity, str], ...]] = (
    ("critical", "critical crit page p1 sev1 sev-1 s1 emergency fatal disaster"),
    ("high", "high error major p2 sev2 sev-2 s2 urgent"),
    ("medium", "warning warn medium moderate p3 sev3 sev-3 s3 average"),
    ("low", "info informational low minor none p4 p5 sev4 sev5 notice"),
)
_SEVERITY_WORDS: Final[dict[str, Severity]] = {
    word: severity for severity, words in _SEVERITY_NAMES for word in words.split()
}
_CATEGORY_NAMES: Final[dict[str, Category]] = {c: c for c in CATEGORIES}

# Each category's vocabulary (general SRE words and Prometheus metric-name tokens, not any one environment's
# alert names). Every hit scores by where it is found (`_WEIGHTS`): the alert name and summary say what is
# wrong, a description often adds consequences ("cannot tolerate node failure") that must not outvote them.
# Ties go to the earlier category (security and data are the most specific).
_CATEGORY_WORDS: Final[tuple[tuple[Category, str], ...]] = (
    (
        "security",
        r"cert(ificate)?s?\b|\btls\b|\bssl\b|x509|unauthori[sz]ed|forbidden|\bauth(entication)?\b"
        r"|login|brute|intrusion|\bcve\b|secret|privilege|\bwaf\b|suspicious",
    ),
    (
        "data",
        r"replication|replica lag|\blag\b.*replic|corrupt|data loss|checksum|inconsisten|backup"
        r"|\bstale data|\bwal\b|split.?brain|dead.?letter|\bdlq\b|\braid\b|\bclock|\bntp\b|\btimex"
        r"|synchroni[sz]|version(s)? (mismatch|skew)|different (semantic )?versions|\bmd.disks",
    ),
    (
        "availability",
        r"\bdown\b|unreachable|unavailable|not responding|no response|target ?missing"
        r"|targetdown|instancedown|crash|oom.?kill|restart|\bup\s*==\s*0|outage|refus|probe fail"
        r"|health.?check|not.?ready|unready|readiness|not scheduled|flapping|disappeared|absent"
        r"|failover|no (healthy )?endpoints|replicas? (mismatch|unavailable)|dns|nxdomain|resolv",
    ),
    (
        "latency",
        r"latency|slow|p9[59]|p50|percentile|duration|response time|timeout|timed out|lag\b"
        r"|backlog|queue (depth|size)|delay|took|seconds? (above|over)|in time\b|taking (more|longer)",
    ),
    (
        "errors",
        r"error|\berrs?\b|5xx|4xx|\b50[0-4]\b|failure|failed|exception|panic|errors? rate|reject|\b429\b"
        r"|rate.?limit|terminated|mis.?scheduled|roll.?back|not (been )?rolled out|generation mismatch",
    ),
    (
        "saturation",
        r"cpu|memory|\bmem\b|disk|space|inode|filesystem|saturat|exhaust|pool|connections?"
        r"|throttl|capacity|full|heap|file descriptors|\bfds?\b|\bfilefd|load average|usage|utili[sz]ation"
        r"|surge|traffic|request rate|throughput|\brps\b|baseline|quota|overcommit|conntrack|limit\b"
        r"|max(imum)? replicas|maxed|filling up|run out|out of",
    ),
)
_CATEGORY_PATTERNS: Final = tuple((cat, re.compile(words, re.IGNORECASE)) for cat, words in _CATEGORY_WORDS)
_ORDER: Final = tuple(cat for cat, _ in _CATEGORY_WORDS)
_WEIGHTS: Final = {"name": 3.0, "summary": 2.0, "description": 1.0, "expr": 1.0}


# With no severity label: how bad each category usually is.
_DEFAULT_SEVERITY: Final[dict[Category, Severity]] = {
    "availability": "critical",
    "security": "high",
    "errors": "high",
    "data": "high",
    "latency": "medium",
    "saturation": "medium",
}


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    category: Category
    severity_from: Literal["label", "category", "llm"]
    category_from: Literal["label", "words", "default", "verdict", "llm"]


def severity_of(labels: Mapping[str, str]) -> Severity | None:
    for key in ("severity", "priority", "level", "urgency"):
        if (value := labels.get(key)) is not None and (found := _SEVERITY_WORDS.get(value.strip().lower())):
            return found
    return None


def _words(text: str) -> str:
    # CamelCase alert names and snake_case metric names into words: HighRequestLatency, node_network_errs
    return re.sub(r"(?<=[a-z])(?=[A-Z])|_", " ", text)


def category_of_text(text: str, **parts: str) -> Category | None:
    """The best-scoring category of `text` (weight 1) and of the named parts (name, summary, …)."""
    scores: dict[Category, float] = {}
    for where, words in (("text", text), *parts.items()):
        spaced = _words(words)
        for category, pattern in _CATEGORY_PATTERNS:
            hits = len(pattern.findall(spaced))
            if hits:
                scores[category] = scores.get(category, 0.0) + _WEIGHTS.get(where, 1.0) * min(hits, 2)
    if not scores:
        return None
    return max(_ORDER, key=lambda c: (scores.get(c, 0.0), -_ORDER.index(c)))


def classify(
    name: str, summary: str, labels: Mapping[str, str], annotations: Mapping[str, str], expr: str = ""
) -> Classification:
    """`expr`: the rule's query when known (metric names are words too: node_network_receive_errs_total)."""
    labelled = _CATEGORY_NAMES.get((labels.get("category") or "").strip().lower())
    category_from: Literal["label", "words", "default"]
    if labelled is not None:
        category, category_from = labelled, "label"
    else:
        found = category_of_text(
            "",
            name=name,
            summary=summary or annotations.get("summary", ""),
            description=annotations.get("description", ""),
            expr=expr,
        )
        category, category_from = (found, "words") if found else ("errors", "default")
    severity = severity_of(labels)
    if severity is not None:
        return Classification(
            severity=severity, category=category, severity_from="label", category_from=category_from
        )
    return Classification(
        severity=_DEFAULT_SEVERITY[category],
        category=category,
        severity_from="category",
        category_from=category_from,
    )


def category_of_fault(fault: str | None) -> Category | None:
    return _CATEGORY_NAMES.get(FAULT_CATEGORIES.get(fault or "", ""))

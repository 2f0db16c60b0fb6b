"""Loki-style log patterns: lines of one template share a pattern whose variable parts read `<_>`.

Loki derives patterns with the Drain algorithm; the lab gets the same effect deterministically by masking
the tokens that vary between lines of one template (numbers, ids, IPs, UUIDs, durations, timestamps and
the quoted values of well-known id/time keys). Lines that differ only in those tokens share a pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from compass_lab.logql.ast import Matcher
from compass_lab.logql.index import LogIndex

PLACEHOLDER = "<_>"
_VARIABLE_KEYS = (
    "trace_id|traceid|traceID|span_id|spanid|spanID|request_id|requestid|req_id|user_id|userid|order_id|"
    "session_id|id|uuid|ts|time|timestamp|caller|pod|host|hostname|ip|addr|remote_addr|client_ip|duration|"
    "latency|elapsed|took|bytes|size|count|attempt|query_id|txid|conn_id|sku|item|cart_id|payment_id|user"
)
_MASKS: tuple[re.Pattern[str], ...] = (
    # "key":"value" (JSON) and key="value" / key=value (logfmt) for keys that carry ids and times.
    re.compile(rf'(?<=")(?:{_VARIABLE_KEYS})":\s*(?:"(?:[^"\\]|\\.)*"|[^,}}\s]+)'),
    re.compile(rf'(?<![\w.])(?:{_VARIABLE_KEYS})=(?:"(?:[^"\\]|\\.)*"|\S+)'),
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"),
    re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),
    re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)(?![\w.])"),
    re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])"),
)
_KEY_VALUE_MASK = 2  # the first two masks keep the key and mask only the value
_REPEATED = re.compile(rf"{re.escape(PLACEHOLDER)}(?:[\s,;:/]*{re.escape(PLACEHOLDER)})+")


def _mask_key_value(match: re.Match[str]) -> str:
    text = match.group()
    sep = text.index(
        ":" if text.find('":') >= 0 and (text.find("=") < 0 or text.find('":') < text.find("=")) else "="
    )
    value = text[sep + 1 :].lstrip()
    quoted = value.startswith('"')
    return text[: sep + 1] + (f'"{PLACEHOLDER}"' if quoted else PLACEHOLDER)


def pattern_of(line: str) -> str:
    """The template of one line: variable tokens replaced by `<_>`."""
    out = line
    for i, mask in enumerate(_MASKS):
        out = mask.sub(_mask_key_value if i < _KEY_VALUE_MASK else (lambda _m: PLACEHOLDER), out)
    return _REPEATED.sub(PLACEHOLDER, out)


@dataclass(frozen=True)
class Pattern:
    pattern: str
    samples: tuple[tuple[int, int], ...]  # (unix seconds at bucket start, lines in bucket)

    @property
    def total(self) -> int:
        return sum(c for _, c in self.samples)


def detect_patterns(
    index: LogIndex, matchers: Sequence[Matcher], start_ns: int, end_ns: int, step_ns: int
) -> list[Pattern]:
    """Patterns of the selected streams' lines in [start, end], most frequent first."""
    buckets: dict[str, dict[int, int]] = {}
    step_s = max(step_ns // 10**9, 1)
    for s in index.select(matchers):
        lo, hi = s.span(start_ns, end_ns, include_end=False)
        if hi <= lo:
            continue
        bucket_of = (s.ts[lo:hi] // 10**9 // step_s * step_s).astype(np.int64)
        cache: dict[str, str] = {}
        for line, bucket in zip(s.lines[lo:hi], bucket_of.tolist(), strict=True):
            pat = cache.get(line)
            if pat is None:
                pat = cache[line] = pattern_of(line)
            per = buckets.setdefault(pat, {})
            per[bucket] = per.get(bucket, 0) + 1
    patterns = [Pattern(p, tuple(sorted(b.items()))) for p, b in buckets.items()]
    patterns.sort(key=lambda p: (-p.total, p.pattern))
    return patterns

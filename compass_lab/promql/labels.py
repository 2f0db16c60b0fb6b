"""Label sets and label matchers, with Prometheus' matching rules (a missing label equals "")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from compass_lab.promql.errors import PromQLError

# A label set in canonical form: pairs sorted by name, no empty values. Hashable, and its tuple
# ordering is Prometheus' labels.Compare ordering (used to sort results).
Labels = tuple[tuple[str, str], ...]

METRIC_NAME = "__name__"
MatchOpName = Literal["=", "!=", "=~", "!~"]


def make_labels(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> Labels:
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    # Prometheus never stores empty-valued labels: they are the same as a missing label.
    return tuple(sorted((k, v) for k, v in items if v != ""))


def get_label(labels: Labels, name: str) -> str:
    for k, v in labels:
        if k == name:
            return v
    return ""


def drop_name(labels: Labels) -> Labels:
    return tuple(p for p in labels if p[0] != METRIC_NAME)


def keep_only(labels: Labels, names: frozenset[str]) -> Labels:
    return tuple(p for p in labels if p[0] in names)


def drop_labels(labels: Labels, names: frozenset[str]) -> Labels:
    return tuple(p for p in labels if p[0] not in names)


def with_label(labels: Labels, name: str, value: str) -> Labels:
    rest = [p for p in labels if p[0] != name]
    if value != "":
        rest.append((name, value))
    return tuple(sorted(rest))


def labels_to_dict(labels: Labels) -> dict[str, str]:
    return dict(labels)


def format_labels(labels: Labels) -> str:
    """Prometheus' labels.String(): {a="1", b="2"}."""
    inner = ", ".join(f'{k}="{v}"' for k, v in labels)
    return "{" + inner + "}"


@lru_cache(maxsize=4096)
def compile_anchored(pattern: str) -> re.Pattern[str]:
    # Prometheus anchors matcher regexes: ^(?:pattern)$.
    try:
        return re.compile(f"(?:{pattern})", re.DOTALL)
    except re.error as exc:
        raise PromQLError("bad_data", f"invalid regular expression {pattern!r}: {exc}") from exc


@dataclass(frozen=True)
class LabelMatcher:
    name: str
    op: MatchOpName
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(name: str, op: MatchOpName, value: str) -> LabelMatcher:
        regex = compile_anchored(value) if op in ("=~", "!~") else None
        return LabelMatcher(name, op, value, regex)

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self._regex is not None
        hit = self._regex.fullmatch(value) is not None
        return hit if self.op == "=~" else not hit

    def matches_empty(self) -> bool:
        return self.matches("")

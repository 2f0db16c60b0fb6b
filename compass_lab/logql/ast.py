"""LogQL syntax tree for the supported subset (frozen dataclasses, built by `parser.parse`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal, Protocol


class Regex(Protocol):
    """A compiled regex (RE2, as Loki's Go regexp: `parser._compile`); `re.Pattern` also fits."""

    def search(self, text: str) -> object | None: ...

    def fullmatch(self, text: str) -> object | None: ...


MatchOp = Literal["=", "!=", "=~", "!~"]
LineOp = Literal["|=", "!=", "|~", "!~"]
CmpOp = Literal["=", "==", "!=", "=~", "!~", ">", "<", ">=", "<="]


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOp
    value: str
    regex: Regex | None = field(default=None, compare=False)

    def matches(self, actual: str) -> bool:
        """Does a label's value ("" when the label is absent, as in Loki) satisfy this matcher?"""
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.regex is not None
        hit = self.regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit


_META = frozenset("\\.^$*+?{}[]()|")
_FOLD = "(?i)"


def literal_alternatives(pattern: str) -> tuple[tuple[str, ...], bool] | None:
    """`(?i)(error|timed out|fail)` → (("error", "timed out", "fail"), True): a regex that only lists
    plain ASCII words, which Loki also answers as substring matches instead of running the regex (its
    line-filter simplification). None when the pattern is anything more."""
    fold = pattern.startswith(_FOLD)
    body = pattern[len(_FOLD) :] if fold else pattern
    if body.startswith("(") and body.endswith(")") and not body.startswith("(?"):
        body = body[1:-1]
    words = tuple(body.split("|"))
    if not all(w and w.isascii() and not (_META & set(w)) for w in words):
        return None
    return (tuple(w.lower() for w in words) if fold else words), fold


@dataclass(frozen=True)
class LineFilter:
    op: LineOp
    value: str
    regex: Regex | None = field(default=None, compare=False)

    @functools.cached_property
    def words(self) -> tuple[tuple[str, ...], bool] | None:
        """The regex as plain words to look for (and whether case is folded), when it is only that."""
        return literal_alternatives(self.value) if self.regex is not None else None


@dataclass(frozen=True)
class ParserStage:
    kind: Literal["json", "logfmt"]


@dataclass(frozen=True)
class LabelCompare:
    name: str
    op: CmpOp
    value: str
    number: float | None  # set when the right-hand side is a number / duration (seconds) → numeric compare
    regex: Regex | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LabelBool:
    op: Literal["and", "or"]
    left: LabelExpr
    right: LabelExpr


LabelExpr = LabelCompare | LabelBool


@dataclass(frozen=True)
class LabelFilterStage:
    expr: LabelExpr


@dataclass(frozen=True)
class LineFormatStage:
    template: str


@dataclass(frozen=True)
class DropKeepStage:
    kind: Literal["drop", "keep"]
    names: tuple[str, ...]


Stage = LineFilter | ParserStage | LabelFilterStage | LineFormatStage | DropKeepStage


@dataclass(frozen=True)
class LogExpr:
    matchers: tuple[Matcher, ...]
    stages: tuple[Stage, ...] = ()


RangeOp = Literal[
    "count_over_time",
    "rate",
    "bytes_over_time",
    "bytes_rate",
    "sum_over_time",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "quantile_over_time",
]
UNWRAP_OPS = frozenset(
    {"sum_over_time", "avg_over_time", "max_over_time", "min_over_time", "quantile_over_time"}
)


@dataclass(frozen=True)
class Grouping:
    without: bool
    labels: tuple[str, ...]


@dataclass(frozen=True)
class RangeAgg:
    op: RangeOp
    log: LogExpr
    range_ns: int
    unwrap: str | None = None
    param: float | None = None  # quantile_over_time's φ
    grouping: Grouping | None = None


VecOp = Literal["sum", "avg", "min", "max", "count", "topk", "bottomk", "stddev", "stdvar"]


@dataclass(frozen=True)
class VecAgg:
    op: VecOp
    inner: MetricExpr
    grouping: Grouping | None = None
    param: float | None = None  # topk/bottomk k


BinOp = Literal["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<="]


@dataclass(frozen=True)
class Binary:
    op: BinOp
    left: MetricExpr
    right: MetricExpr
    return_bool: bool = False


@dataclass(frozen=True)
class Scalar:
    value: float


MetricExpr = RangeAgg | VecAgg | Binary | Scalar
Expr = LogExpr | MetricExpr

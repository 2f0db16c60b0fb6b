"""Hand-written recursive-descent parser for the LogQL subset (see README.md for what is supported).

Anything outside the subset fails with Loki's own error shape (`parse error at line 1, col N: syntax
error: unexpected ...`), so a client cannot tell "unsupported here" from "invalid LogQL" — it never gets
a silently different answer.
"""

from __future__ import annotations

from typing import cast, get_args

import re2

from compass_lab.logql.ast import (
    UNWRAP_OPS,
    Binary,
    BinOp,
    CmpOp,
    DropKeepStage,
    Expr,
    Grouping,
    LabelBool,
    LabelCompare,
    LabelExpr,
    LabelFilterStage,
    LineFilter,
    LineFormatStage,
    LineOp,
    LogExpr,
    Matcher,
    MatchOp,
    MetricExpr,
    ParserStage,
    RangeAgg,
    RangeOp,
    Regex,
    Scalar,
    Stage,
    VecAgg,
    VecOp,
)
from compass_lab.logql.errors import LogQLParseError, LogQLQueryError
from compass_lab.logql.lexer import Tok, Token, duration_ns, tokenize

_RANGE_OPS = frozenset(get_args(RangeOp))
_VEC_OPS = frozenset(get_args(VecOp))
_LINE_OPS = frozenset(get_args(LineOp))
_MATCH_OPS = frozenset(get_args(MatchOp))
_CMP_OPS = frozenset(get_args(CmpOp))
# Binary operator precedence, lowest first (PromQL's, which LogQL shares).
_PRECEDENCE: tuple[frozenset[str], ...] = (
    frozenset({"==", "!=", ">", "<", ">=", "<="}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
    frozenset({"^"}),
)


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the parse error is raised to the caller, not printed to stderr
    return options


_RE2_OPTIONS = _options()


def _compile(pattern: str, col: int) -> Regex:
    """Loki compiles regexes with Go's regexp (RE2 syntax and linear time), so the lab uses RE2 too: a
    pattern Loki refuses (lookaround, backreferences) is refused here, and a long alternation over every
    log line costs what it costs Loki, not Python's backtracking."""
    try:
        compiled: Regex = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as err:
        reason = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else str(err)
        raise LogQLParseError(col, f"invalid regex {pattern!r}: {reason}") from None
    return compiled


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokenize(text)
        self.pos = 0

    # -- token helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.toks[min(self.pos + offset, len(self.toks) - 1)]

    def advance(self) -> Token:
        t = self.tok
        self.pos += 1
        return t

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == Tok.OP and self.tok.text in ops

    def is_ident(self, *names: str) -> bool:
        return self.tok.kind == Tok.IDENT and self.tok.text in names

    def fail(self, expecting: str = "") -> LogQLParseError:
        detail = f"unexpected {self.tok.describe()}"
        if expecting:
            detail += f", expecting {expecting}"
        return LogQLParseError(self.tok.col, detail)

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.fail(op)
        return self.advance()

    def expect(self, kind: Tok) -> Token:
        if self.tok.kind != kind:
            raise self.fail(kind.value)
        return self.advance()

    # -- entry ---------------------------------------------------------------------------------------
    def parse(self) -> Expr:
        expr: Expr = self.log_expr() if self.is_op("{") else self.metric_expr(0)
        if self.tok.kind != Tok.EOF:
            raise self.fail()
        return expr

    # -- log queries -----------------------------------------------------------------------------------
    def selector(self) -> tuple[Matcher, ...]:
        self.expect_op("{")
        matchers: list[Matcher] = []
        while not self.is_op("}"):
            name = self.expect(Tok.IDENT).text
            if not (self.tok.kind == Tok.OP and self.tok.text in _MATCH_OPS):
                raise self.fail("= or =~ or !~ or !=")
            op = cast(MatchOp, self.advance().text)
            vtok = self.expect(Tok.STRING)
            regex = _compile(vtok.text, vtok.col) if op in ("=~", "!~") else None
            matchers.append(Matcher(name, op, vtok.text, regex))
            if not self.is_op("}"):
                self.expect_op(",")
        close = self.expect_op("}")
        if not matchers:
            raise LogQLParseError(close.col, "unexpected }, expecting IDENTIFIER")
        if not any(m.op in ("=", "=~") and not m.matches("") for m in matchers):
            raise LogQLQueryError(
                "queries require at least one regexp or equality matcher that does not have an "
                'empty-compatible value. For instance, app=~".*" does not meet this requirement, '
                'but app=~".+" will',
            )
        return tuple(matchers)

    def log_expr(self) -> LogExpr:
        matchers = self.selector()
        return LogExpr(matchers, tuple(self.stages()))

    def stages(self) -> list[Stage]:
        stages: list[Stage] = []
        while True:
            if self.tok.kind == Tok.OP and self.tok.text in _LINE_OPS:
                op = cast(LineOp, self.advance().text)
                vtok = self.expect(Tok.STRING)
                regex = _compile(vtok.text, vtok.col) if op in ("|~", "!~") else None
                stages.append(LineFilter(op, vtok.text, regex))
            elif self.is_op("|") and not self.is_unwrap_next():
                self.advance()
                stages.append(self.stage())
            else:
                return stages

    def is_unwrap_next(self) -> bool:
        nxt = self.peek()
        return nxt.kind == Tok.IDENT and nxt.text == "unwrap"

    def stage(self) -> Stage:
        t = self.tok
        if self.is_ident("json", "logfmt"):
            self.advance()
            if self.tok.kind == Tok.IDENT and self.peek().kind == Tok.OP and self.peek().text == "=":
                raise self.fail()  # `| json a="b"` (parameterised parsers) is outside the subset
            return ParserStage("json" if t.text == "json" else "logfmt")
        if self.is_ident("line_format"):
            self.advance()
            return LineFormatStage(self.expect(Tok.STRING).text)
        if self.is_ident("drop", "keep"):
            self.advance()
            names = [self.expect(Tok.IDENT).text]
            while self.is_op(","):
                self.advance()
                names.append(self.expect(Tok.IDENT).text)
            return DropKeepStage("drop" if t.text == "drop" else "keep", tuple(names))
        if t.kind == Tok.IDENT and self.peek().kind == Tok.OP and self.peek().text in _CMP_OPS | {"("}:
            return LabelFilterStage(self.label_or())
        if self.is_op("("):
            return LabelFilterStage(self.label_or())
        raise self.fail()

    def label_or(self) -> LabelExpr:
        left = self.label_and()
        while self.is_ident("or"):
            self.advance()
            left = LabelBool("or", left, self.label_and())
        return left

    def label_and(self) -> LabelExpr:
        left = self.label_primary()
        while self.is_ident("and") or self.is_op(","):
            self.advance()
            left = LabelBool("and", left, self.label_primary())
        return left

    def label_primary(self) -> LabelExpr:
        if self.is_op("("):
            self.advance()
            inner = self.label_or()
            self.expect_op(")")
            return inner
        name = self.expect(Tok.IDENT).text
        if not (self.tok.kind == Tok.OP and self.tok.text in _CMP_OPS):
            raise self.fail("comparison operator")
        op = cast(CmpOp, self.advance().text)
        vt = self.tok
        if vt.kind == Tok.STRING:
            self.advance()
            if op in (">", "<", ">=", "<="):
                raise LogQLParseError(vt.col, "unexpected STRING, expecting NUMBER or DURATION")
            regex = _compile(vt.text, vt.col) if op in ("=~", "!~") else None
            return LabelCompare(name, op, vt.text, None, regex)
        if vt.kind == Tok.NUMBER and op not in ("=~", "!~"):
            self.advance()
            return LabelCompare(name, op, vt.text, float(vt.text))
        if vt.kind == Tok.DURATION and op not in ("=~", "!~"):
            self.advance()
            return LabelCompare(name, op, vt.text, duration_ns(vt.text) / 1e9)
        raise self.fail("STRING or NUMBER or DURATION")

    # -- metric queries --------------------------------------------------------------------------------
    def metric_expr(self, level: int) -> MetricExpr:
        if level == len(_PRECEDENCE):
            return self.metric_unary()
        left = self.metric_expr(level + 1)
        while self.tok.kind == Tok.OP and self.tok.text in _PRECEDENCE[level]:
            op = cast(BinOp, self.advance().text)
            return_bool = False
            if self.is_ident("bool"):
                self.advance()
                return_bool = True
            # "^" is right-associative; everything else left-associative.
            right = self.metric_expr(level if op == "^" else level + 1)
            left = Binary(op, left, right, return_bool)
        return left

    def metric_unary(self) -> MetricExpr:
        t = self.tok
        if t.kind == Tok.NUMBER:
            self.advance()
            return Scalar(float(t.text))
        if self.is_op("-") and self.peek().kind == Tok.NUMBER:
            self.advance()
            return Scalar(-float(self.advance().text))
        if self.is_op("("):
            self.advance()
            inner = self.metric_expr(0)
            self.expect_op(")")
            return inner
        if t.kind == Tok.IDENT and t.text in _RANGE_OPS:
            return self.range_agg()
        if t.kind == Tok.IDENT and t.text in _VEC_OPS:
            return self.vec_agg()
        raise self.fail()

    def grouping(self) -> Grouping | None:
        if not self.is_ident("by", "without"):
            return None
        without = self.advance().text == "without"
        self.expect_op("(")
        labels: list[str] = []
        while not self.is_op(")"):
            labels.append(self.expect(Tok.IDENT).text)
            if not self.is_op(")"):
                self.expect_op(",")
        self.expect_op(")")
        return Grouping(without, tuple(labels))

    def range_agg(self) -> RangeAgg:
        op = cast(RangeOp, self.advance().text)
        self.expect_op("(")
        param: float | None = None
        if op == "quantile_over_time":
            param = float(self.expect(Tok.NUMBER).text)
            self.expect_op(",")
        matchers = self.selector()
        stages: list[Stage] = []
        range_ns: int | None = None
        # Loki accepts the range right after the selector or after the whole pipeline.
        if self.is_op("["):
            range_ns = self.range_literal()
        stages.extend(self.stages())
        unwrap: str | None = None
        if self.is_op("|") and self.is_unwrap_next():
            self.advance()
            self.advance()
            unwrap = self.expect(Tok.IDENT).text
            if self.is_op("("):
                raise self.fail()  # unwrap conversion functions (duration(), bytes()) are outside the subset
            stages_after = self.stages()
            if any(not isinstance(s, LabelFilterStage) for s in stages_after):
                raise self.fail()
            stages.extend(stages_after)
        if range_ns is None:
            if not self.is_op("["):
                raise self.fail("[")
            range_ns = self.range_literal()
        if self.is_ident("offset"):
            raise self.fail()
        self.expect_op(")")
        if (op in UNWRAP_OPS) != (unwrap is not None):
            raise LogQLParseError(
                self.tok.col,
                f"invalid aggregation {op} {'without' if unwrap is None else 'with'} unwrap",
            )
        grouping = self.grouping()
        return RangeAgg(op, LogExpr(matchers, tuple(stages)), range_ns, unwrap, param, grouping)

    def range_literal(self) -> int:
        self.expect_op("[")
        d = self.expect(Tok.DURATION)
        self.expect_op("]")
        ns = duration_ns(d.text)
        if ns <= 0:
            raise LogQLParseError(d.col, "unexpected DURATION, range must be positive")
        return ns

    def vec_agg(self) -> VecAgg:
        op = cast(VecOp, self.advance().text)
        grouping = self.grouping()
        self.expect_op("(")
        param: float | None = None
        if op in ("topk", "bottomk"):
            param = float(self.expect(Tok.NUMBER).text)
            self.expect_op(",")
        inner = self.metric_expr(0)
        self.expect_op(")")
        after = self.grouping()
        if grouping is not None and after is not None:
            raise self.fail()
        return VecAgg(op, inner, grouping or after, param)


def parse(text: str) -> Expr:
    """Parse a LogQL query of the supported subset; raises `LogQLParseError` with Loki's wording."""
    if not text.strip():
        raise LogQLParseError(1, "unexpected $end")
    return _Parser(text).parse()


def parse_selector(text: str) -> LogExpr:
    """Parse a query that must be a plain stream selector (patterns, stats, series, label matchers)."""
    expr = parse(text)
    if not isinstance(expr, LogExpr) or expr.stages:
        raise LogQLParseError(1, 'only stream selectors are supported here, e.g. {app="api"}')
    return expr

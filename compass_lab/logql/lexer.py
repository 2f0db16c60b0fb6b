"""Tokenizer for the LogQL subset. Columns are 1-based, as in Loki's error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from compass_lab.logql.errors import LogQLParseError


class Tok(StrEnum):
    # Names mirror Loki's yacc token names so error messages read the same.
    IDENT = "IDENTIFIER"
    STRING = "STRING"
    NUMBER = "NUMBER"
    DURATION = "DURATION"
    OP = "OP"
    EOF = "$end"


@dataclass(frozen=True)
class Token:
    kind: Tok
    text: str
    col: int

    def describe(self) -> str:
        if self.kind in (Tok.OP,):
            return self.text
        return self.kind.value


_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest operators first so "|=" wins over "|".
_OPS = (
    "|=",
    "|~",
    "!=",
    "!~",
    "=~",
    "==",
    ">=",
    "<=",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    "|",
    "=",
    ">",
    "<",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
)


def _read_string(text: str, i: int) -> tuple[str, int]:
    """Read a "double-quoted" (Go escapes) or `raw` string starting at text[i]; return (value, next index)."""
    quote = text[i]
    j = i + 1
    out: list[str] = []
    while j < len(text):
        c = text[j]
        if c == quote:
            return "".join(out), j + 1
        if c == "\\" and quote == '"' and j + 1 < len(text):
            nxt = text[j + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            j += 2
            continue
        out.append(c)
        j += 1
    raise LogQLParseError(i + 1, "unexpected $end, unterminated string")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":  # Loki accepts line comments
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        if c in '"`':
            value, j = _read_string(text, i)
            tokens.append(Token(Tok.STRING, value, i + 1))
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            m = _DURATION.match(text, i)
            if m:
                tokens.append(Token(Tok.DURATION, m.group(), i + 1))
                i = m.end()
                continue
            n = _NUMBER.match(text, i)
            assert n is not None  # a digit or ".digit" always matches
            tokens.append(Token(Tok.NUMBER, n.group(), i + 1))
            i = n.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            tokens.append(Token(Tok.IDENT, m.group(), i + 1))
            i = m.end()
            continue
        for op in _OPS:
            if text.startswith(op, i):
                tokens.append(Token(Tok.OP, op, i + 1))
                i += len(op)
                break
        else:
            raise LogQLParseError(i + 1, f"unexpected character {c!r}")
    tokens.append(Token(Tok.EOF, "", len(text) + 1))
    return tokens


_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
    "y": 365 * 86400 * 10**9,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)")


def duration_ns(text: str) -> int:
    """Prometheus/Loki duration text ("5m", "1h30m", "250ms") → nanoseconds."""
    return int(sum(float(n) * _UNIT_NS[u] for n, u in _DURATION_PART.findall(text)))

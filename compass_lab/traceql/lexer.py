"""Tokenizer for the TraceQL subset; an attribute path (`resource.service.name`) is one token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from compass_lab.traceql.errors import TraceQLParseError


class Tok(StrEnum):
    IDENT = "IDENTIFIER"
    ATTR = "ATTRIBUTE"
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
        return self.text if self.kind == Tok.OP else self.kind.value


_ATTR = re.compile(r"(?:resource|span|event|link|instrumentation)?\.[A-Za-z_][A-Za-z0-9_.\-/]*")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+(?![A-Za-z0-9_])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?")
_OPS = (
    "&&",
    "||",
    ">>",
    "<<",
    "!=",
    "!~",
    "=~",
    ">=",
    "<=",
    "{",
    "}",
    "(",
    ")",
    ",",
    "|",
    "=",
    ">",
    "<",
    "!",
    "~",
    "-",
    "+",
    "*",
    "/",
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        col = i + 1
        if c in '"`':
            j = i + 1
            out: list[str] = []
            while j < len(text) and text[j] != c:
                if text[j] == "\\" and c == '"' and j + 1 < len(text):
                    out.append(
                        {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(text[j + 1], "\\" + text[j + 1])
                    )
                    j += 2
                    continue
                out.append(text[j])
                j += 1
            if j >= len(text):
                raise TraceQLParseError(col, "unexpected $end, unterminated string")
            tokens.append(Token(Tok.STRING, "".join(out), col))
            i = j + 1
            continue
        if c.isdigit() or (c == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            m = _DURATION.match(text, i)
            if m:
                tokens.append(Token(Tok.DURATION, m.group(), col))
                i = m.end()
                continue
            n = _NUMBER.match(text, i)
            assert n is not None
            tokens.append(Token(Tok.NUMBER, n.group(), col))
            i = n.end()
            continue
        m = _ATTR.match(text, i)
        if m and (c == "." or "." in m.group()):
            tokens.append(Token(Tok.ATTR, m.group(), col))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            tokens.append(Token(Tok.IDENT, m.group(), col))
            i = m.end()
            continue
        for op in _OPS:
            if text.startswith(op, i):
                tokens.append(Token(Tok.OP, op, col))
                i += len(op)
                break
        else:
            raise TraceQLParseError(col, f"unexpected character {c!r}")
    tokens.append(Token(Tok.EOF, "", len(text) + 1))
    return tokens


_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def duration_ns(text: str) -> int:
    return int(sum(float(n) * _UNIT_NS[u] for n, u in _PART.findall(text)))

"""TraceQL errors, worded as Tempo words them (HTTP 400 bodies)."""

from __future__ import annotations


class TraceQLError(Exception):
    """Base of every TraceQL error; `str(err)` is the exact text Tempo would return."""


class TraceQLParseError(TraceQLError):
    def __init__(self, col: int, detail: str) -> None:
        self.col = col
        self.detail = detail
        super().__init__(f"invalid TraceQL query: parse error at line 1, col {col}: syntax error: {detail}")


class TraceQLQueryError(TraceQLError):
    pass

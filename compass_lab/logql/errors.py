"""LogQL errors, worded the way Loki words them so clients see the same text as from a real Loki.

- `LogQLParseError`: the query is not (supported) LogQL → HTTP 400, `parse error at line 1, col N: ...`.
- `LogQLQueryError`: the query parsed but cannot be run as asked (e.g. a log query sent as an instant
  query) → HTTP 400 with Loki's message.
"""

from __future__ import annotations


class LogQLError(Exception):
    """Base of every LogQL error; `str(err)` is the exact text Loki would return."""


class LogQLParseError(LogQLError):
    def __init__(self, col: int, detail: str) -> None:
        self.col = col
        self.detail = detail
        super().__init__(f"parse error at line 1, col {col}: syntax error: {detail}")


class LogQLQueryError(LogQLError):
    pass

"""The one exception the evaluator raises, typed like Prometheus' API errors."""

from __future__ import annotations

from typing import Literal

ErrorType = Literal["bad_data", "execution"]


class PromQLError(Exception):
    """A query the lab cannot answer.

    `error_type` is Prometheus' `errorType`: "bad_data" for parse errors, invalid parameters and
    features the lab does not implement (never a silently wrong answer), "execution" for failures
    while evaluating (e.g. many-to-many matching), which Prometheus reports with HTTP 422.
    """

    def __init__(self, error_type: ErrorType, message: str) -> None:
        super().__init__(message)
        self.error_type: ErrorType = error_type
        self.message = message

    def __str__(self) -> str:
        return self.message


def unsupported(what: str) -> PromQLError:
    return PromQLError("bad_data", f"{what} is not supported by the lab's PromQL evaluator")

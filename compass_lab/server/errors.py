"""HTTP-level errors of the lab API, each rendered the way the emulated service renders it."""

from __future__ import annotations


class LabHTTPError(Exception):
    status_code = 500
    json_body = False  # Grafana answers JSON {"message": ...}; Loki and Tempo answer plain text

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class BadRequestError(LabHTTPError):
    """A bad Loki/Tempo request: 400 with a plain-text body, as those services reply."""

    status_code = 400


class NotFoundTextError(LabHTTPError):
    status_code = 404


class GrafanaNotFoundError(LabHTTPError):
    """Grafana's own 404s (unknown datasource, unknown scenario): JSON `{"message": ...}`."""

    status_code = 404
    json_body = True

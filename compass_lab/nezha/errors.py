"""The one error this package raises on purpose: the recording cannot be found or read (a misuse of
configuration, so the CLI reports it in one line and exits 2)."""

from __future__ import annotations

from compass_worker.errors import ConfigError


class NezhaDataError(ConfigError):
    """The Nezha archive is missing, unreadable, or not in the expected layout."""

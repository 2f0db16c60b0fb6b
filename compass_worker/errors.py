"""COMPASS' error tree — every exception the worker raises on purpose derives from here.

    CompassError
    ├── ConfigError          misuse: bad configuration, bad input (fix the call or the file)
    ├── ExternalError        something outside COMPASS failed; the investigation may go on
    │   ├── ToolError        a tool call failed or timed out
    │   ├── ServerUnavailable an MCP server failed to start or died
    │   └── ProviderError    an LLM provider failed
    └── RetrySignal          control signal: the caller should try again (not a failure)

Messages are one line and name the thing that is wrong, so that they can be shown to a person as-is.
"""

from __future__ import annotations


class CompassError(Exception):
    """Base of every deliberate COMPASS error."""


class ConfigError(CompassError):
    """Misuse: a configuration or an input is invalid."""


class ExternalError(CompassError):
    """A component outside COMPASS (tool, server, provider) failed."""


class ToolError(ExternalError):
    """A tool call failed or timed out."""


class ServerUnavailable(ExternalError):
    """An MCP server failed to start or died."""


class ProviderError(ExternalError):
    """An LLM provider failed."""


class RetrySignal(CompassError):
    """Control signal: the operation should be retried."""

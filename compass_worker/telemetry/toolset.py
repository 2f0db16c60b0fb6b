"""The toolset protocol: what the engine sees of any telemetry source (MCP or fake).

A toolset lists tools and calls them. A call never raises for a tool-side failure: it returns a
`ToolOutcome` with ``ok=False`` and the error text, because a failed query is evidence (a gap), not a
crash. Misuse (e.g. a tool outside the allowlist) does raise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeAliasType

# JSON as plain data. mypy gets ordinary recursive aliases; pydantic needs named ones at runtime.
# Arguments use covariant containers (Mapping/Sequence) so that callers can pass e.g.
# ``list[dict[str, str]]`` without fighting list invariance; stored JSON uses plain list/dict.
if TYPE_CHECKING:
    JsonValue: TypeAlias = str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
    JsonData: TypeAlias = str | int | float | bool | list["JsonData"] | dict[str, "JsonData"] | None
else:
    JsonValue = TypeAliasType(
        "JsonValue", str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
    )
    JsonData = TypeAliasType(
        "JsonData", str | int | float | bool | list["JsonData"] | dict[str, "JsonData"] | None
    )

QUALIFIER = "/"
"""Separates a server name from a tool name (``grafana/query_prometheus``). MCP tool names may
contain ``[A-Za-z0-9_.-]`` but never ``/``, so the qualified form is unambiguous."""


class ToolInfo(BaseModel):
    """One tool as a server exposes it."""

    model_config = ConfigDict(frozen=True)

    server: str
    name: str
    description: str = ""
    read_only: bool | None = None
    """The server's ``readOnlyHint`` — a hint only; the allowlist is what enforces read-only."""
    input_schema: dict[str, JsonData] = {}

    @property
    def qualified_name(self) -> str:
        return f"{self.server}{QUALIFIER}{self.name}"


class ToolOutcome(BaseModel):
    """The result of one tool call: the text it returned, or why it failed."""

    model_config = ConfigDict(frozen=True)

    server: str
    tool: str
    ok: bool
    text: str = ""
    """The concatenated text content of the result (for mcp-grafana: one JSON document)."""
    error: str | None = None
    duration_s: float = 0.0


def bare_tool_name(name: str) -> str:
    """``grafana/query_prometheus`` → ``query_prometheus``; an unqualified name is returned as is."""
    _, sep, rest = name.partition(QUALIFIER)
    return rest if sep else name


class Toolset(Protocol):
    """Anything that can list and call tools."""

    async def list_tools(self) -> list[ToolInfo]: ...

    async def call_tool(self, name: str, arguments: Mapping[str, JsonValue]) -> ToolOutcome: ...


class LiveToolset(Toolset, Protocol):
    """A toolset over live MCP sessions: which servers are up, which are not (why), calls made so far."""

    @property
    def servers(self) -> tuple[str, ...]: ...

    @property
    def unavailable(self) -> Mapping[str, str]: ...

    @property
    def calls(self) -> int: ...


def to_plain(value: JsonValue) -> JsonData:
    """Copy arguments into plain JSON containers (what the MCP SDK serialises)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    return [to_plain(v) for v in value]

"""Conversions from the MCP SDK's types to COMPASS' own (kept here so no SDK type leaks out)."""

from __future__ import annotations

import mcp.types as mcp_types
from pydantic import TypeAdapter

from compass_worker.telemetry.toolset import JsonData, ToolInfo

_SCHEMA = TypeAdapter(dict[str, JsonData])


def outcome_text(result: mcp_types.CallToolResult) -> str:
    """The text blocks of a result, joined (mcp-grafana returns one block holding JSON)."""
    return "\n".join(block.text for block in result.content if isinstance(block, mcp_types.TextContent))


def tool_info(server: str, tool: mcp_types.Tool) -> ToolInfo:
    hints = tool.annotations
    return ToolInfo(
        server=server,
        name=tool.name,
        description=tool.description or "",
        read_only=hints.read_only_hint if hints is not None else None,
        input_schema=_SCHEMA.validate_python(tool.input_schema),
    )


def describe_error(exc: BaseException) -> str:
    """One line for an exception, looking inside exception groups (anyio task groups wrap errors)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"command not found: {exc.filename}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

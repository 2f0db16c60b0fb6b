"""Read-only enforcement as a wrapper around any toolset (not a flag inside one).

A name is allowed only if it is *exactly* an allowed tool name, optionally qualified with one server
(``grafana/query_prometheus``). No normalisation happens: ``" query_prometheus"`` or
``"QUERY_PROMETHEUS"`` are simply not on the list, so the name forwarded is always the name checked.
Server annotations (``readOnlyHint``) are hints from the server and are not trusted here.
"""

from __future__ import annotations

from collections.abc import Mapping

from compass_worker.errors import ConfigError
from compass_worker.telemetry.toolset import JsonValue, ToolInfo, ToolOutcome, Toolset, bare_tool_name

# The read/query tools of mcp-grafana 2.1.1 that an investigation uses. All carry readOnlyHint=true,
# except generate_deeplink, which only formats a URL locally (no Grafana request is made).
DEFAULT_READ_ONLY_TOOLS: frozenset[str] = frozenset(
    {
        # datasources
        "list_datasources",
        "get_datasource",
        "check_datasources_health",
        # Prometheus
        "query_prometheus",
        "query_prometheus_histogram",
        "list_prometheus_metric_names",
        "list_prometheus_label_names",
        "list_prometheus_label_values",
        "list_prometheus_metric_metadata",
        # Loki
        "query_loki_logs",
        "query_loki_patterns",
        "query_loki_stats",
        "list_loki_label_names",
        "list_loki_label_values",
        # Tempo
        "search_tempo_traces",
        "get_tempo_trace",
        "list_tempo_attribute_names",
        "list_tempo_attribute_values",
        "query_tempo_metrics",
        # dashboards, annotations, alerts (context around an incident)
        "search_dashboards",
        "get_dashboard_summary",
        "get_dashboard_panel_queries",
        "get_annotations",
        "list_alert_groups",
        "alerting_rules_read",
        # links shown to people
        "generate_deeplink",
    }
)


class ToolNotAllowed(ConfigError):
    """A caller asked for a tool outside the allowlist; nothing was forwarded."""


def is_allowed(name: str, allowed: frozenset[str]) -> bool:
    """Exact match on the tool name, after at most one ``server/`` qualifier."""
    return bare_tool_name(name) in allowed


class AllowlistToolset:
    """Hides and refuses every tool whose name is not on ``allowed``."""

    def __init__(self, inner: Toolset, allowed: frozenset[str] = DEFAULT_READ_ONLY_TOOLS) -> None:
        self._inner = inner
        self._allowed = allowed

    @property
    def allowed(self) -> frozenset[str]:
        return self._allowed

    async def list_tools(self) -> list[ToolInfo]:
        return [t for t in await self._inner.list_tools() if t.name in self._allowed]

    async def call_tool(self, name: str, arguments: Mapping[str, JsonValue]) -> ToolOutcome:
        if not is_allowed(name, self._allowed):
            raise ToolNotAllowed(f"tool {name!r} is not on the read-only allowlist")
        return await self._inner.call_tool(name, arguments)

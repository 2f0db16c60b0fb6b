"""The lab's Grafana-compatible HTTP API (Prometheus, Loki, Tempo behind Grafana's datasource routes)."""

from compass_lab.server.app import create_app
from compass_lab.server.registry import LabData, LabRegistry, TelemetryBuilder, UnknownScenarioError
from compass_lab.server.runner import LabServer, LabServerError, grafana_env, mcp_config, mcp_grafana_command

__all__ = [
    "LabData",
    "LabRegistry",
    "LabServer",
    "LabServerError",
    "TelemetryBuilder",
    "UnknownScenarioError",
    "create_app",
    "grafana_env",
    "mcp_config",
    "mcp_grafana_command",
]

"""The MCP telemetry layer: server config, sessions, the read-only allowlist, the typed mcp-grafana client."""

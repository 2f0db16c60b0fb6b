"""`compass investigate`: one investigation against the configured MCP servers, rendered live or as JSON."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from rich.console import Console

from compass_worker.cli.render import LiveSink, PlainSink, dumps
from compass_worker.domain.events import NullSink, Sink
from compass_worker.domain.models import Incident
from compass_worker.engine.incident import build_incident
from compass_worker.errors import ConfigError
from compass_worker.runner import RunResult, investigate
from compass_worker.settings import Settings, load_settings
from compass_worker.telemetry.config import McpConfig, load_mcp_config


def choose_sink(as_json: bool) -> Sink:
    if as_json:
        return NullSink()
    if sys.stdout.isatty():
        return LiveSink(Console())
    return PlainSink(sys.stdout)


def execute(incident: Incident, config: McpConfig, settings: Settings, as_json: bool) -> RunResult:
    result = asyncio.run(investigate(incident, config, settings, choose_sink(as_json)))
    if as_json:
        sys.stdout.write(dumps(result.verdict) + "\n")
    return result


def run_investigate(args: argparse.Namespace) -> int:
    settings = load_settings()
    incident = build_incident(args.symptom, service=args.service, at=args.at, window=args.window)
    path = args.mcp_config or settings.mcp_config
    if path is None:
        raise ConfigError(
            "no MCP servers configured: pass --mcp-config FILE or set COMPASS_MCP_CONFIG "
            "(try `compass lab mcp-config --port 3100` for the lab)"
        )
    config = load_mcp_config(path, os.environ)
    execute(incident, config, settings, args.json)
    return 0

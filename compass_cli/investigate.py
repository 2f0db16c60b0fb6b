"""`compass investigate`: one investigation against the configured MCP servers, rendered live or as JSON.

Memory (the knowledge store) is consulted and the investigation recorded, so that `compass feedback`
can correct it and the next similar incident benefits; when the store cannot be opened the
investigation runs without it and says so in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from rich.console import Console

from compass_cli.render import LiveSink, PlainSink, verdict_json
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


async def _run(
    incident: Incident, config: McpConfig, settings: Settings, as_json: bool, remember: bool
) -> int:
    if not remember:
        result = await investigate(incident, config, settings, choose_sink(as_json))
        _print(result, None, as_json)
        return 0
    from compass_cli.memory import open_cli_memory

    async with open_cli_memory() as memory:
        if memory.notice:
            print(f"compass: {memory.notice}", file=sys.stderr)
        result = await investigate(incident, config, settings, choose_sink(as_json), memory=memory.priors)
        investigation_id = await memory.record(incident, result.verdict)
        if memory.notice and investigation_id is None and memory.enabled:
            print(f"compass: {memory.notice}", file=sys.stderr)
    _print(result, str(investigation_id) if investigation_id else None, as_json)
    return 0


def _print(result: RunResult, investigation_id: str | None, as_json: bool) -> None:
    if as_json:
        payload = verdict_json(result.verdict)
        payload["investigation_id"] = investigation_id
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    elif investigation_id:
        print(
            f"recorded as {investigation_id} — correct it with "
            f"`compass feedback {investigation_id} --correct | --actual COMPONENT:FAULT`"
        )


def execute(incident: Incident, config: McpConfig, settings: Settings, as_json: bool, remember: bool) -> int:
    return asyncio.run(_run(incident, config, settings, as_json, remember))


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
    return execute(incident, config, settings, args.json, remember=settings.memory and not args.no_memory)

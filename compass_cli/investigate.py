"""`compass investigate`: one investigation against the configured MCP servers, rendered live, as JSON or
as Markdown.

Memory (the knowledge store) is consulted and the investigation recorded, so that `compass feedback`
can correct it and the next similar incident benefits; when the store cannot be opened the
investigation runs without it and says so in one line. With COMPASS_LLM set, the worker's reasoner is
used and its calls are written to the same store's cost ledger (`compass cost`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from compass_cli.errors import EXIT_NO_TELEMETRY, EXIT_OK, note
from compass_cli.inputs import incident_from_args
from compass_cli.options import output_format
from compass_worker.domain.models import Incident
from compass_worker.errors import ConfigError
from compass_worker.reasoners.settings import LlmSettings, load_llm_settings
from compass_worker.settings import Settings, load_settings

if TYPE_CHECKING:  # the engine, the MCP client and the SDKs load after the input is known to be good
    from compass_cli.output import Output
    from compass_worker.telemetry.config import McpConfig


async def _run(
    incident: Incident, config: McpConfig, settings: Settings, llm: LlmSettings, out: Output, remember: bool
) -> int:
    from compass_cli.llm import cli_ledger, cli_reasoner
    from compass_cli.output import no_telemetry, print_document
    from compass_worker.runner import investigate

    investigation_id = None
    async with AsyncExitStack() as stack:
        memory = None
        if remember or llm.configured:  # the store holds memory and the cost ledger
            from compass_cli.memory import open_cli_memory

            memory = await stack.enter_async_context(open_cli_memory(recall=remember))
            if memory.notice and remember:
                note(memory.notice)
        store = memory.store if memory is not None else None
        if remember and memory is not None:
            investigation_id = await memory.begin(incident)
        reasoner = cli_reasoner(llm, cli_ledger(store), investigation_id)
        if reasoner is not None:
            stack.push_async_callback(reasoner.aclose)
        out.starting("starting the MCP servers…")
        try:
            result = await investigate(
                incident,
                config,
                settings,
                out.sink,
                memory=memory.priors if remember and memory is not None else None,
                reasoner=reasoner,
            )
        except BaseException as exc:
            if memory is not None:
                await memory.abandon(cancelled=isinstance(exc, KeyboardInterrupt | asyncio.CancelledError))
            raise
        finally:
            out.stop()
        if remember and memory is not None:
            recorded = await memory.record(incident, result.verdict)
            if recorded is None and memory.enabled and memory.notice:
                note(memory.notice)
            investigation_id = recorded
    dead = no_telemetry(result.verdict, result.queries)
    shown_id = str(investigation_id) if investigation_id else None
    print_document(out.fmt, result.verdict, investigation_id=shown_id, dead=dead)
    if out.fmt == "text" and shown_id:
        print(
            f"recorded as {shown_id} — correct it with "
            f"`compass feedback {shown_id[:8]} --correct | --actual COMPONENT:FAULT`"
        )
    if dead:
        note("every telemetry query failed: the MCP server answered but its backend did not (exit 4)")
        return EXIT_NO_TELEMETRY
    return EXIT_OK


def run_investigate(args: argparse.Namespace) -> int:
    settings, llm = load_settings(), load_llm_settings()
    fmt = output_format(args)
    incident = incident_from_args(args)
    path = args.mcp_config or settings.mcp_config
    if path is None:
        raise ConfigError(
            "no MCP servers configured: pass --mcp-config FILE or set COMPASS_MCP_CONFIG "
            "(try `compass lab mcp-config --port 3100` for the lab)"
        )
    from compass_cli.output import make_output
    from compass_worker.telemetry.config import load_mcp_config

    config = load_mcp_config(path, os.environ)
    out = make_output(fmt, verbose=args.verbose, no_color=args.no_color)
    remember = settings.memory and not args.no_memory
    return asyncio.run(_run(incident, config, settings, llm, out, remember))

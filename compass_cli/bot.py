"""`compass bot [--host 127.0.0.1] [--port 3000] [--socket-mode]` — the Slack edge."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when the command runs: `compass --help` stays fast
    from compass_bot.settings import BotSettings


def add_bot_commands(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("bot", help="run the Slack bot (events, commands, buttons) in front of the workers")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    p.add_argument(
        "--socket-mode",
        action="store_true",
        help="receive Slack events over Socket Mode (SLACK_APP_TOKEN): no public URL needed",
    )
    p.set_defaults(func=run_bot)


async def _serve(settings: BotSettings, host: str, port: int, socket_mode: bool) -> None:
    import uvicorn

    from compass_bot.app import create_edge

    edge = create_edge(settings)
    server = uvicorn.Server(uvicorn.Config(edge.api, host=host, port=port, log_level="warning"))
    if not socket_mode:
        await server.serve()
        return
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert settings.slack_app_token is not None  # checked by run_bot
    socket = AsyncSocketModeHandler(edge.bolt, settings.slack_app_token.get_secret_value())
    await socket.connect_async()  # type: ignore[no-untyped-call]
    try:
        await server.serve()  # /healthz, /readyz, /metrics stay available
    finally:
        await socket.close_async()  # type: ignore[no-untyped-call]


def run_bot(args: argparse.Namespace) -> int:
    from compass_bot.settings import BotConfigError, load_bot_settings
    from compass_bot.ui.settings import load_ui_settings

    try:
        settings = load_bot_settings()
        load_ui_settings()  # the dashboard's settings: a bad one is the same one-line error
        if args.socket_mode and settings.slack_app_token is None:
            raise BotConfigError("invalid setting SLACK_APP_TOKEN: is not set (needed for --socket-mode)")
        if not 0 < args.port < 65536:
            raise BotConfigError(f"invalid --port {args.port}: use 1-65535")
    except BotConfigError as exc:
        print(f"compass: error: {exc}", file=sys.stderr)
        return 2
    print(f"compass bot: listening on http://{args.host}:{args.port}/slack/events", file=sys.stderr)
    asyncio.run(_serve(settings, args.host, args.port, args.socket_mode))
    return 0

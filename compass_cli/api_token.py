"""`compass api-token create --scope read [--scope feedback] [--name NAME]`: a REST API token.

The token is printed once; the store keeps only its SHA-256 (`api_tokens.token_hash`), the same hash the
bot looks tokens up by. Scopes: read (GET), feedback (POST feedback), admin (everything, token management).
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import uuid

from compass_cli.knowledge import SettingsFactory
from compass_worker.contracts import API_SCOPES, API_TOKEN_PREFIX, api_token_hash
from compass_worker.knowledge.database import connect, open_target
from compass_worker.knowledge.settings import KnowledgeSettings


def add_api_token_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: SettingsFactory = KnowledgeSettings,
) -> None:
    p = subparsers.add_parser("api-token", help="REST API tokens (scopes: read, feedback, admin)")
    sub = p.add_subparsers(dest="token_command", required=True)
    create = sub.add_parser("create", help="create a token; it is printed once")
    create.add_argument("--scope", action="append", choices=API_SCOPES, required=True, help="repeatable")
    create.add_argument("--name", help="who or what uses it (default: your login)")
    create.set_defaults(func=lambda args: _run_create(settings, args))


def _run_create(settings: SettingsFactory, args: argparse.Namespace) -> int:
    from compass_cli.knowledge_run import run  # the store's one-line error mapping, loaded when used

    return run(lambda: _create(settings(), args.scope, args.name))


async def _create(settings: KnowledgeSettings, scopes: list[str], name: str | None) -> int:
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    by = getpass.getuser()
    async with open_target(settings) as target:
        conn = await connect(target.url, timeout_s=settings.connect_timeout_s)
        try:
            await conn.execute(
                """INSERT INTO api_tokens (id, name, token_hash, scopes, created_by)
                   VALUES ($1, $2, $3, $4, $5)""",
                uuid.uuid4(),
                (name or by)[:100],
                api_token_hash(token),
                sorted(set(scopes)),
                by,
            )
        finally:
            await conn.close()
    print(token)
    return 0

"""`compass migrate`, `compass feedback`, `compass history` — registered on the root CLI's subparsers.

Exit codes: 0 ok; 2 bad input or a refused migration (one line on stderr, fix and retry); 3 the database
is unreachable or an external service failed; 1 anything unexpected (still one line, never a traceback).
The store is imported only when one of these runs (`knowledge_run.py`), so `compass --help` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compass_worker.knowledge.settings import KnowledgeSettings

SettingsFactory = Callable[[], "KnowledgeSettings"]


def _impl() -> ModuleType:
    from compass_cli import knowledge_run

    return knowledge_run


def _settings(factory: SettingsFactory | None) -> KnowledgeSettings:
    from compass_worker.knowledge.settings import KnowledgeSettings

    return (factory or KnowledgeSettings)()


def add_knowledge_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: SettingsFactory | None = None,
) -> None:
    """Register the knowledge commands. `settings` builds KnowledgeSettings when a command runs."""
    p = subparsers.add_parser("migrate", help="apply pending database migrations (idempotent)")
    p.set_defaults(func=lambda args: _impl().run(lambda: _impl().migrate_cmd(_settings(settings))))

    p = subparsers.add_parser("feedback", help="confirm or correct an investigation's verdict")
    p.add_argument("investigation_id", help="the investigation id (see `compass history`)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--correct", action="store_true", help="the verdict's root cause was right")
    which.add_argument(
        "--actual", metavar="COMPONENT:FAULT", help="the actual cause, e.g. payments-db:db_slow_queries"
    )
    p.add_argument("--resolution", metavar="TEXT", help="what resolved it")
    p.add_argument("--by", metavar="USER", help="who is giving the feedback (default: your login)")
    p.set_defaults(func=lambda args: _impl().run(lambda: _impl().feedback_cmd(_settings(settings), args)))

    p = subparsers.add_parser("history", help="past investigations, optionally the most similar to a text")
    p.add_argument("--similar-to", metavar="TEXT", help="rank by similarity to this description")
    p.add_argument("--limit", type=int, default=20, help="how many to show (default 20)")
    p.add_argument(
        "--team", action="append", default=[], metavar="TEAM", help="also show this team's (repeatable)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=lambda args: _impl().run(lambda: _impl().history_cmd(_settings(settings), args)))

"""`compass migrate`, `compass feedback`, `compass history` — registered on the root CLI's subparsers.

Exit codes: 0 ok; 2 bad input or a refused migration (one line on stderr, fix and retry); 3 the database
is unreachable or an external service failed; 1 anything unexpected (still one line, never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import sys
from collections.abc import Callable, Coroutine
from uuid import UUID

from pydantic import ValidationError

from compass_worker.errors import ConfigError, ExternalError
from compass_worker.knowledge.database import connect, open_target
from compass_worker.knowledge.errors import InvalidInput
from compass_worker.knowledge.migrations import migrate
from compass_worker.knowledge.records import Cause, FeedbackChannel, HistoryEntry
from compass_worker.knowledge.scope import Viewer
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.knowledge.store import KnowledgeStore

SettingsFactory = Callable[[], KnowledgeSettings]
_FAULT = re.compile(r"^[a-z][a-z0-9_]*$")


def add_knowledge_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: SettingsFactory = KnowledgeSettings,
) -> None:
    """Register the knowledge commands. `settings` builds KnowledgeSettings when a command runs."""
    p = subparsers.add_parser("migrate", help="apply pending database migrations (idempotent)")
    p.set_defaults(func=lambda args: _run(lambda: _migrate(settings())))

    p = subparsers.add_parser("feedback", help="confirm or correct an investigation's verdict")
    p.add_argument("investigation_id", help="the investigation id (see `compass history`)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--correct", action="store_true", help="the verdict's root cause was right")
    which.add_argument(
        "--actual", metavar="COMPONENT:FAULT", help="the actual cause, e.g. payments-db:db_slow_queries"
    )
    p.add_argument("--resolution", metavar="TEXT", help="what resolved it")
    p.add_argument("--by", metavar="USER", help="who is giving the feedback (default: your login)")
    p.set_defaults(func=lambda args: _run(lambda: _feedback(settings(), args)))

    p = subparsers.add_parser("history", help="past investigations, optionally the most similar to a text")
    p.add_argument("--similar-to", metavar="TEXT", help="rank by similarity to this description")
    p.add_argument("--limit", type=int, default=20, help="how many to show (default 20)")
    p.add_argument(
        "--team", action="append", default=[], metavar="TEAM", help="also show this team's (repeatable)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(func=lambda args: _run(lambda: _history(settings(), args)))


def _run(command: Callable[[], Coroutine[object, object, int]]) -> int:
    """Run one command; every failure becomes one line on stderr and an exit code."""
    try:
        return asyncio.run(command())
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"invalid setting {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        return 2
    except ConfigError as exc:
        _fail(str(exc))
        return 2
    except ExternalError as exc:
        _fail(str(exc))
        return 3
    except (TimeoutError, OSError) as exc:
        _fail(f"database connection lost: {exc}")
        return 3
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except Exception as exc:  # the last line of defence: a person sees one line, never a traceback
        _fail(f"unexpected error ({type(exc).__name__}): {str(exc).splitlines()[0] if str(exc) else ''}")
        return 1


def _fail(message: str) -> None:
    print(f"compass: {message}", file=sys.stderr)


async def _migrate(settings: KnowledgeSettings) -> int:
    async with open_target(settings) as target:
        conn = await connect(target.url, timeout_s=settings.connect_timeout_s)
        try:
            report = await migrate(conn, settings.migrations_dir)
        finally:
            await conn.close()
    for name in report.applied:
        print(f"applied {name}")
    print(f"schema is at version {report.version} on {target.display}")
    return 0


def parse_cause(text: str) -> Cause:
    component, sep, fault = text.rpartition(":")
    if not sep or not component.strip() or not _FAULT.match(fault):
        raise InvalidInput(
            f"--actual must be COMPONENT:FAULT with a fault id like db_slow_queries, got {text!r}"
        )
    return Cause(component=component.strip(), fault=fault)


def _parse_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput(f"not an investigation id: {text!r} (see `compass history`)") from None


async def _feedback(settings: KnowledgeSettings, args: argparse.Namespace) -> int:
    investigation_id = _parse_id(args.investigation_id)
    actual = parse_cause(args.actual) if args.actual else None
    if args.resolution is not None and not args.resolution.strip():
        raise InvalidInput("--resolution is empty")
    author = args.by or getpass.getuser()
    async with KnowledgeStore.open(settings) as store:
        if actual is None:
            record = await store.feedback.confirm(
                investigation_id, author=author, channel=FeedbackChannel.CLI
            )
        else:
            record = await store.feedback.correct(
                investigation_id, actual, author=author, channel=FeedbackChannel.CLI
            )
        if args.resolution:
            await store.feedback.resolve(investigation_id, args.resolution, author=author)
    if record.wrong is not None:
        print(f"recorded: {record.actual} (not {record.wrong}), by {author}")
    else:
        print(f"recorded: {record.actual} {record.kind.value}, by {author}")
    if not args.resolution:
        print('Thanks. What resolved it? Add it with --resolution "..."')
    return 0


async def _history(settings: KnowledgeSettings, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise InvalidInput("--limit must be at least 1")
    if args.similar_to is not None and not args.similar_to.strip():
        raise InvalidInput("--similar-to is empty")
    viewer = Viewer(user=getpass.getuser(), teams=tuple(args.team))
    async with KnowledgeStore.open(settings) as store:
        if args.similar_to:
            entries = await store.memory.search(args.similar_to, viewer, args.limit)
        else:
            entries = await store.investigations.history(viewer, limit=args.limit)
    if args.json:
        print(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
    else:
        _print_table(entries)
    return 0


def _print_table(entries: list[HistoryEntry]) -> None:
    if not entries:
        print("no investigations yet")
        return
    for e in entries:
        said = str(e.verdict) if e.verdict else e.status.value
        confirmed = f"  confirmed: {e.confirmed}" if e.confirmed else ""
        similar = f"  ({e.similarity:.2f})" if e.similarity is not None else ""
        when = f"{e.started_at:%Y-%m-%d %H:%M}"
        print(f"{when}  {e.investigation_id}  {e.symptom[:60]!r}  → {said}{confirmed}{similar}")

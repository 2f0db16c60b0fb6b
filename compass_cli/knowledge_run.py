"""What `compass migrate`, `compass feedback` and `compass history` do (registered by `knowledge.py`).

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

from pydantic import ValidationError

from compass_cli.feedback_input import check_cause, check_id, has_resolution, resolve_id
from compass_worker.errors import ConfigError, ExternalError
from compass_worker.knowledge.database import connect, open_target
from compass_worker.knowledge.errors import InvalidInput
from compass_worker.knowledge.migrations import migrate
from compass_worker.knowledge.records import (
    Cause,
    CorrectionKind,
    CorrectionRecord,
    FeedbackChannel,
    HistoryEntry,
    InvestigationStatus,
)
from compass_worker.knowledge.scope import Viewer
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.knowledge.store import KnowledgeStore

_FAULT = re.compile(r"^[a-z][a-z0-9_]*$")


def run(command: Callable[[], Coroutine[object, object, int]]) -> int:
    """Run one command; every failure becomes one line on stderr and an exit code."""
    try:
        return asyncio.run(command())
    except BrokenPipeError:
        raise  # `compass history | head`: the root command ends quietly
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = str(first["msg"]).removeprefix("Value error, ")
        _fail(f"invalid setting {'.'.join(str(p) for p in first['loc'])}: {msg}")
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
    print(f"compass: error: {message}", file=sys.stderr)


async def migrate_cmd(settings: KnowledgeSettings) -> int:
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


async def feedback_cmd(settings: KnowledgeSettings, args: argparse.Namespace) -> int:
    wanted = check_id(args.investigation_id)
    named = parse_cause(args.actual) if args.actual else None
    if args.resolution is not None and not args.resolution.strip():
        raise InvalidInput("--resolution is empty")
    author = args.by or getpass.getuser()
    async with KnowledgeStore.open(settings) as store:
        investigation_id = await resolve_id(store, wanted)
        actual = None if named is None else await check_cause(store, investigation_id, named)
        before = await store.feedback.corrections(investigation_id)
        if actual is None:
            record = await _once(before, author) or await store.feedback.confirm(
                investigation_id, author=author, channel=FeedbackChannel.CLI
            )
        else:
            record = await _once(before, author, actual) or await store.feedback.correct(
                investigation_id, actual, author=author, channel=FeedbackChannel.CLI
            )
        if args.resolution:
            await store.feedback.resolve(investigation_id, args.resolution, author=author)
        resolved = await has_resolution(store, investigation_id)
    again = " (already recorded)" if any(c.id == record.id for c in before) else ""
    if record.wrong is not None:
        print(f"recorded: {record.actual} (not {record.wrong}), by {record.author}{again}")
    else:
        print(f"recorded: {record.actual} {record.kind.value}, by {record.author}{again}")
    if not resolved and not again:  # asked once, when the feedback is new; never twice
        print('Thanks. What resolved it? Add it with --resolution "..."')
    return 0


async def _once(
    before: list[CorrectionRecord], author: str, actual: Cause | None = None
) -> CorrectionRecord | None:
    """The same feedback given again by the same person: keep the first, record nothing new."""
    if not before:
        return None
    last = before[-1]
    if last.author != author:
        return None
    if actual is None:
        return last if last.kind == CorrectionKind.CONFIRMED else None
    return last if last.actual == actual else None


async def history_cmd(settings: KnowledgeSettings, args: argparse.Namespace) -> int:
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
        if e.verdict is not None:
            said = str(e.verdict)
        elif e.status == InvestigationStatus.COMPLETED:
            said = "inconclusive"  # a completed investigation without a cause: nothing survived
        else:
            said = e.status.value
        confirmed = f"  confirmed: {e.confirmed}" if e.confirmed else ""
        similar = f"  ({e.similarity:.2f})" if e.similarity is not None else ""
        when = f"{e.started_at:%Y-%m-%d %H:%M}"
        print(f"{when}  {e.investigation_id}  {e.symptom[:60]!r}  → {said}{confirmed}{similar}")

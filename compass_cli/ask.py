"""`compass ask "<question>"`: past investigations that match a question in plain words, with links."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from datetime import UTC, datetime

from compass_worker.cost.ledger import StoreLedger
from compass_worker.errors import ConfigError
from compass_worker.knowledge.scope import Viewer
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.questions import answer_lines, known_names, parse_question, search
from compass_worker.questions.settings import QuestionSettings
from compass_worker.questions.widen import widen
from compass_worker.reasoners.factory import one_shot
from compass_worker.reasoners.settings import load_llm_settings

MAX_QUESTION = 1000


def add_ask_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "ask",
        help='ask about past incidents, e.g. "database outages this week"',
        description="Search past investigations with a question in plain words: time ranges (today, this "
        "week, last 3 days, since 2026-11-01), components, kinds (database, cache, queue, host), faults "
        "(outages, deploys, lag…), channels, teams, outcomes (inconclusive, corrected). An LLM, when "
        "configured, widens the reading; only names the store knows are kept.",
    )
    p.add_argument("question")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p.add_argument("--team", action="append", default=[], metavar="TEAM", help="also search this team's")
    p.add_argument("--no-llm", action="store_true", help="read the question without an LLM")
    p.add_argument("--json", action="store_true", help="print the filters and matches as JSON")
    p.set_defaults(func=lambda args: asyncio.run(_ask(args)))


async def _ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question.split())
    if not question:
        raise ConfigError("the question is empty")
    if len(question) > MAX_QUESTION:
        raise ConfigError(f"the question is {len(question)} characters; at most {MAX_QUESTION}")
    if not 1 <= args.limit <= 500:
        raise ConfigError("--limit must be between 1 and 500")
    settings = QuestionSettings()
    llm = None if args.no_llm else load_llm_settings()
    viewer = Viewer(user=getpass.getuser(), teams=tuple(args.team))
    now = datetime.now(UTC)
    notice = None
    async with KnowledgeStore.open(KnowledgeSettings()) as store:
        components, teams = await known_names(store, viewer)
        q = parse_question(question, now, components, teams)
        async with one_shot(llm, StoreLedger(store), "orient") as model:
            if model is not None:
                q, notice = await widen(
                    q,
                    now,
                    components,
                    model=model.model,
                    redaction=model.redaction,
                    ledger=model.ledger,
                    prices=model.prices,
                )
        matches = await search(store, q, viewer, limit=args.limit)
    if args.json:
        payload = {
            "filters": q.model_dump(mode="json"),
            "matches": [m.model_dump(mode="json") for m in matches],
        }
        print(json.dumps(payload, indent=2))
        return 0
    if notice:
        print(f"({notice})")
    print("\n".join(answer_lines(q, matches, settings.slack_workspace_url, args.limit)))
    return 0

"""`compass postmortem <id>`: a post-mortem draft of one investigation, as Markdown on stdout or in a file.

Without an LLM the draft is the deterministic template filled from the record. With `COMPASS_LLM` (or the
`summarize` phase's model) set, the model writes the prose from the record alone; its answer is checked
(citations exist, no number the record lacks) and the template stands alone when it fails the check.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path

from compass_worker.cost.ledger import StoreLedger
from compass_worker.errors import ConfigError
from compass_worker.knowledge.scope import Viewer
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.postmortem import ProseWriter, load_record, render_markdown
from compass_worker.reasoners.factory import one_shot
from compass_worker.reasoners.settings import load_llm_settings


def add_postmortem_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "postmortem",
        help="draft a post-mortem of an investigation (Markdown)",
        description="Draft a post-mortem from an investigation's record: timeline, impact, cause with "
        "evidence links, contributing factors, the resolution and action items.",
    )
    p.add_argument("investigation_id", help="an investigation id or a unique prefix (see `compass history`)")
    p.add_argument("--out", metavar="FILE", help="write the Markdown here instead of stdout")
    p.add_argument("--no-llm", action="store_true", help="the template only, even when an LLM is configured")
    p.add_argument(
        "--team", action="append", default=[], metavar="TEAM", help="also see this team's investigations"
    )
    p.set_defaults(func=lambda args: asyncio.run(_postmortem(args)))


async def _postmortem(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        raise ConfigError(f"--out: no such directory {str(out.parent)!r}")
    llm = None if args.no_llm else load_llm_settings()
    viewer = Viewer(user=getpass.getuser(), teams=tuple(args.team))
    async with KnowledgeStore.open(KnowledgeSettings()) as store:
        investigation_id = await store.investigations.resolve(args.investigation_id, viewer)
        record = await load_record(store, investigation_id)
        prose, notice = None, None
        async with one_shot(llm, StoreLedger(store), "summarize") as model:
            if model is not None:
                writer = ProseWriter(
                    model.model, redaction=model.redaction, ledger=model.ledger, prices=model.prices
                )
                prose, notice = await writer.write(record)
    text = render_markdown(record, prose, notice)
    if out is None:
        print(text, end="")
    else:
        # Written whole or not at all: a half-written draft must never replace a good one.
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        print(f"post-mortem draft written to {out}")
    return 0

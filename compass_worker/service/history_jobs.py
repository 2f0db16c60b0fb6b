"""Jobs over past investigations, asked for in Slack: a post-mortem draft, and questions in plain words.

Both read the knowledge store within what the asker may see — the asker, and the team their channel
belongs to — and answer in the thread (or the channel, for a slash command). A model, when configured,
writes the post-mortem's prose and widens the question's reading; both are checked and both fall back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from compass_worker.contracts import AskRequest, PostmortemRequest, SlackThread
from compass_worker.knowledge.errors import InvalidInput
from compass_worker.knowledge.scope import Viewer
from compass_worker.postmortem import ProseWriter, load_record, render_markdown
from compass_worker.questions import answer_lines, known_names, parse_question, search
from compass_worker.questions.settings import QuestionSettings
from compass_worker.questions.widen import widen
from compass_worker.reasoners.factory import one_shot
from compass_worker.service.context import ServiceContext, service
from compass_worker.service.costs import viewer_team
from compass_worker.slack.documents import markdown_blocks

ASK_LIMIT = 15


async def _viewer(svc: ServiceContext, user: str, channel: str) -> Viewer:
    """The asker and their channel's team (an unmapped channel is its own team, as investigations are)."""
    return Viewer(user=user, teams=(await viewer_team(svc.store, channel),))


async def write_postmortem(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = PostmortemRequest.model_validate(payload)
    svc = service(ctx)
    viewer = await _viewer(svc, req.user, req.channel)
    try:
        if req.investigation:
            investigation_id = await svc.store.investigations.resolve(req.investigation, viewer)
        else:
            assert req.thread_ts is not None  # the bot sends one or the other
            thread = SlackThread(channel=req.channel, thread_ts=req.thread_ts)
            found = await svc.store.slack.investigation_for_thread(thread.channel, thread.thread_ts)
            if found is None:
                raise InvalidInput("this thread has no investigation of mine to write up")
            investigation_id = found
    except InvalidInput as exc:
        await svc.slack.post(req.channel, req.thread_ts, f"I can't draft that post-mortem: {exc}")
        return "refused"
    record = await load_record(svc.store, investigation_id)
    prose, notice = None, None
    async with one_shot(svc.config.llm, svc.ledger, "summarize") as llm:
        if llm is not None:
            writer = ProseWriter(llm.model, redaction=llm.redaction, ledger=llm.ledger, prices=llm.prices)
            prose, notice = await writer.write(record)
    markdown = render_markdown(record, prose, notice)
    more = f"The full draft: `compass postmortem {str(investigation_id)[:8]}`"
    text, blocks = markdown_blocks(f"Post-mortem (draft): {record.title}", markdown, more=more)
    await svc.slack.post(req.channel, req.thread_ts, text, blocks)
    return "posted"


async def answer_history_question(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = AskRequest.model_validate(payload)
    svc = service(ctx)
    viewer = await _viewer(svc, req.user, req.channel)
    now = datetime.now(UTC)
    components, teams = await known_names(svc.store, viewer)
    q = parse_question(req.text, now, components, teams)
    notice = None
    async with one_shot(svc.config.llm, svc.ledger, "orient") as llm:
        if llm is not None:
            q, notice = await widen(
                q,
                now,
                components,
                model=llm.model,
                redaction=llm.redaction,
                ledger=llm.ledger,
                prices=llm.prices,
            )
    matches = await search(svc.store, q, viewer, limit=ASK_LIMIT)
    lines = answer_lines(q, matches, QuestionSettings().slack_workspace_url, ASK_LIMIT)
    if notice:
        lines.append(f"_({notice})_")
    markdown = "\n".join([f"# {lines[0]}", *(f"- {line}" for line in lines[1:])])
    text, blocks = markdown_blocks(lines[0], markdown)
    await svc.slack.post(req.channel, req.thread_ts, text, blocks)
    return f"{len(matches)} matches"

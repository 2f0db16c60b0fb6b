"""A question's answer as text: a header saying how the question was read, then one line per match with a
link — the Slack thread when there is one, else the command that drafts its post-mortem."""

from __future__ import annotations

from compass_worker.questions.query import Question
from compass_worker.questions.search import Match


def thread_link(workspace_url: str, channel: str, thread_ts: str) -> str:
    """Slack's permalink form for a message: /archives/<channel>/p<ts without the dot>."""
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{thread_ts.replace('.', '')}"


def link_for(m: Match, workspace_url: str) -> str:
    if m.slack_channel and m.slack_thread_ts:
        return thread_link(workspace_url, m.slack_channel, m.slack_thread_ts)
    return f"compass postmortem {str(m.investigation_id)[:8]}"


def cause_text(m: Match) -> str:
    if m.fault is None:
        return "inconclusive" if m.verdict == "inconclusive" else m.status
    said = f"{m.component} {m.fault}"
    if m.confirmed_by:
        verb = "corrected" if m.corrected else "confirmed"
        return f"{said} ({verb} by @{m.confirmed_by})"
    return said


def answer_lines(q: Question, matches: list[Match], workspace_url: str, limit: int) -> list[str]:
    head = f"{len(matches)}{'+' if len(matches) >= limit else ''} investigation(s) match: {q.describe()}"
    lines = [head]
    for m in matches:
        symptom = m.symptom if len(m.symptom) <= 70 else m.symptom[:69] + "…"
        lines.append(
            f"{m.started_at:%Y-%m-%d %H:%M}  {str(m.investigation_id)[:8]}  {cause_text(m)}  "
            f"“{symptom}”  {link_for(m, workspace_url)}"
        )
    if not matches:
        lines.append("Nothing matched. Try a wider time range, or fewer words.")
    return lines

"""The verdict as Markdown, ready to paste into a ticket or a post-mortem (`-o markdown`)."""

from __future__ import annotations

from datetime import UTC, datetime

from compass_cli.display import cost_text, pct, ranked
from compass_worker.domain.models import Verdict


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def verdict_markdown(v: Verdict, *, investigation_id: str | None = None, no_telemetry: bool = False) -> str:
    at = datetime.fromtimestamp(v.incident.at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    causes = ranked(v)
    out = [f"## COMPASS: {v.incident.symptom}", ""]
    out.append(f"- **When:** {at} (looking back {v.incident.window_s // 60} min)")
    if v.incident.service:
        out.append(f"- **Service:** `{v.incident.service}`")
    if no_telemetry:
        out.append("- **Verdict:** no telemetry — every query to the telemetry backend failed")
    elif v.verdict == "root_cause" and causes:
        top = causes[0]
        out.append(f"- **Root cause:** `{top.component}` · `{top.fault}` ({pct(top.confidence)} confidence)")
    else:
        out.append("- **Verdict:** inconclusive — no hypothesis survived with enough evidence")
    if investigation_id:
        out.append(f"- **Investigation:** `{investigation_id}`")
    out.append("")
    if v.verdict == "root_cause" and causes:
        top = causes[0]
        out += ["### Evidence", "", top.summary, ""]
        for e in top.evidence:
            link = f" ([open]({e.link}))" if e.link else ""
            out.append(f"- **{e.source}:** {e.observation}{link}")
            out.append(f"  `{e.query}`")
        out.append("")
    rest = causes[1:] if v.verdict == "root_cause" else causes
    if rest:
        out += ["### Other candidates", "", "| component | fault | confidence |", "|---|---|---|"]
        out += [f"| {_cell(rc.component)} | {_cell(rc.fault)} | {pct(rc.confidence)} |" for rc in rest]
        out.append("")
    if v.observations and v.verdict != "root_cause":
        out += ["### Observed", "", *(f"- {o}" for o in v.observations), ""]
    if v.eliminated:
        out += [f"### Eliminated ({len(v.eliminated)})", "", "| component | fault | why |", "|---|---|---|"]
        out += [f"| {_cell(e.component)} | {_cell(e.fault)} | {_cell(e.reason)} |" for e in v.eliminated]
        out.append("")
    if v.gaps:
        out += ["### Observability gaps", "", *(f"- {g}" for g in v.gaps), ""]
    if v.memory:
        out += ["### Seen before", "", *(f"- {m}" for m in v.memory), ""]
    if v.notices:
        out += ["### Notes", "", *(f"- {n}" for n in v.notices), ""]
    if v.narrative:
        out += ["### Summary", "", v.narrative, ""]
    out.append(f"_verdict in {v.timings.verdict_s:.1f} s · {v.tool_calls} tool calls · {cost_text(v)}_")
    return "\n".join(out) + "\n"

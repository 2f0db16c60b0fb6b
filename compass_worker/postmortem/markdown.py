"""The post-mortem as Markdown, ready to paste into a ticket or a wiki: the template is filled from the
record; where checked prose exists it replaces the template's plain sentences, never the tables."""

from __future__ import annotations

from datetime import datetime

from compass_worker.postmortem.prose import Prose
from compass_worker.postmortem.record import CauseLine, PostmortemRecord


def _t(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at is not None else "—"


def _cites(ids: tuple[str, ...]) -> str:
    return " " + " ".join(f"[{i}]" for i in ids) if ids else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _cause_sentence(c: CauseLine) -> str:
    conf = f", {c.confidence:.0%} confidence" if c.confidence is not None else ""
    return f"**{c.component}** — `{c.fault}` ({c.basis}{conf}).{_cites(c.evidence)}"


def _summary(r: PostmortemRecord) -> str:
    where = f" on {r.symptom_service}" if r.symptom_service else ""
    signal = f" ({r.symptom_signal})" if r.symptom_signal else ""
    if r.cause is not None:
        found = f"The cause was {r.cause.component} `{r.cause.fault}` ({r.cause.basis})."
    elif r.verdict == "inconclusive":
        found = "The investigation was inconclusive: no hypothesis survived its disproof checks."
    else:
        found = "No verdict was recorded."
    return f"{r.title}{where}{signal}. {found}"


def _impact(r: PostmortemRecord) -> str:
    lines = [f"- Window investigated: {_t(r.window[0])} → {_t(r.window[1])}"]
    if r.symptom_service:
        lines.append(
            f"- Symptom: {r.symptom_service}" + (f", {r.symptom_signal}" if r.symptom_signal else "")
        )
    if r.affected:
        lines.append(f"- Components with anomalies (in onset order): {', '.join(r.affected)}")
    return "\n".join(lines)


def render_markdown(r: PostmortemRecord, prose: Prose | None = None, notice: str | None = None) -> str:
    out = [f"# Post-mortem (draft): {r.title}", ""]
    meta = (
        f"Investigation `{r.investigation_id}` · {r.trigger} · status {r.status} · started {_t(r.started_at)}"
    )
    out += [meta, ""]
    if notice:
        out += [f"> {notice}", ""]
    out += ["## Summary", "", prose.summary if prose else _summary(r), ""]
    out += ["## Impact", "", _impact(r)]
    if prose and prose.impact:
        out += ["", prose.impact]
    out += ["", "## Timeline", "", "| time | what | evidence |", "|---|---|---|"]
    for e in r.timeline:
        out.append(f"| {_t(e.at)} | {e.kind}: {_cell(e.text)} | {' '.join(e.evidence)} |")
    out += ["", "## Cause", ""]
    if r.cause is not None:
        out.append(_cause_sentence(r.cause))
        if prose:
            out += ["", prose.cause]
    else:
        out.append("Not established. " + ("See what was eliminated below." if r.eliminated else ""))
    if r.contributing:
        out += ["", "## Contributing factors", ""]
        out += [f"- {_cause_sentence(c)}" for c in r.contributing]
        if prose and prose.contributing:
            out += ["", prose.contributing]
    if r.eliminated:
        out += ["", "## Hypotheses eliminated", ""] + [f"- {_cell(e)}" for e in r.eliminated]
    if r.gaps:
        out += ["", "## Observability gaps", ""] + [f"- {g}" for g in r.gaps]
    out += ["", "## Resolution", ""]
    out += [f"- {t}" for t in r.resolutions] or [
        "Not recorded yet (reply in the thread, or `compass feedback`)."
    ]
    if prose and prose.resolution:
        out += ["", prose.resolution]
    out += ["", "## Action items", ""] + [f"- [ ] {a}" for a in r.actions]
    if r.evidence:
        out += [
            "",
            "## Evidence",
            "",
            "| id | component | observation | query | link |",
            "|---|---|---|---|---|",
        ]
        for ev in r.evidence:
            link = f"[open]({ev.link})" if ev.link else ""
            out.append(
                f"| {ev.id} | {ev.component} | {_cell(ev.observation)} | `{_cell(ev.query)}` | {link} |"
            )
    return "\n".join(out) + "\n"

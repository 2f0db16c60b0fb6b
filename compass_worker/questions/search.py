"""Running a `Question` against the store, within what the asker may see (personal / team / org).

The cause an investigation is filed under is the person's word when there is one (a correction or a
confirmation), else the verdict's top cause. A component "is involved" when it is the symptom's service,
that cause's component, or the verdict's.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from compass_worker.knowledge.scope import Viewer
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.questions.parse import vocabulary
from compass_worker.questions.query import Question


class Match(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    investigation_id: UUID
    started_at: datetime
    symptom: str
    status: str
    verdict: str | None
    component: str | None  # the cause it is filed under
    fault: str | None
    confirmed_by: str | None  # set when a person confirmed or corrected it
    corrected: bool
    slack_channel: str | None
    slack_thread_ts: str | None


_SELECT = """
SELECT v.id, v.started_at, i.title, v.status, d.verdict,
       COALESCE(s.confirmed_component, d.component) AS component,
       COALESCE(s.confirmed_fault, d.fault) AS fault,
       s.confirmed_by, s.wrong_fault IS NOT NULL AS corrected,
       st.channel_id, st.thread_ts
FROM investigations v
JOIN incidents i ON i.id = v.incident_id
LEFT JOIN teams tm ON tm.id = i.team_id
LEFT JOIN verdicts d ON d.investigation_id = v.id
LEFT JOIN incident_signatures s ON s.investigation_id = v.id
LEFT JOIN LATERAL (
    SELECT t.channel_id, t.thread_ts FROM slack_threads t WHERE t.investigation_id = v.id LIMIT 1
) st ON true
"""


class _Where:
    def __init__(self, first_param: int) -> None:
        self.clauses: list[str] = []
        self.params: list[object] = []
        self._next = first_param

    def param(self, value: object) -> str:
        self.params.append(value)
        self._next += 1
        return f"${self._next - 1}"

    def add(self, clause: str, params: list[object] | None = None) -> None:
        """A clause whose own placeholders were numbered from `next_param` (e.g. `Viewer.sql`)."""
        self.clauses.append(clause)
        self.params.extend(params or [])
        self._next += len(params or [])

    @property
    def next_param(self) -> int:
        return self._next


def _where(q: Question, viewer: Viewer) -> _Where:
    w = _Where(2)  # $1 is the limit
    w.add(*viewer.sql("i", w.next_param))
    if q.since is not None:
        w.add(f"v.started_at >= {w.param(q.since)}")
    if q.until is not None:
        w.add(f"v.started_at < {w.param(q.until)}")
    if q.components:
        c = w.param(list(q.components))
        w.add(f"(i.service = ANY({c}) OR d.component = ANY({c}) OR s.confirmed_component = ANY({c}))")
    if q.kinds:
        _, kinds = vocabulary()
        pattern = "|".join(tok for k in q.kinds for tok in kinds[k])
        p = w.param(f"({pattern})")
        w.add(f"(COALESCE(s.confirmed_component, d.component, i.service) ~* {p})")
    if q.faults:
        w.add(f"COALESCE(s.confirmed_fault, d.fault) = ANY({w.param(list(q.faults))})")
    if q.channels:
        w.add(f"st.channel_id = ANY({w.param(list(q.channels))})")
    if q.teams:
        t = w.param([t.lower() for t in q.teams])
        w.add(f"(lower(i.team_id) = ANY({t}) OR lower(tm.name) = ANY({t}))")
    outcome = {
        "inconclusive": "d.verdict = 'inconclusive'",
        "corrected": "s.wrong_fault IS NOT NULL",
        "confirmed": "(s.confirmed_fault IS NOT NULL AND s.wrong_fault IS NULL)",
        "failed": "v.status = 'failed'",
    }
    if q.outcomes:
        w.add("(" + " OR ".join(outcome[o] for o in q.outcomes) + ")")
    return w


async def search(store: KnowledgeStore, q: Question, viewer: Viewer, *, limit: int = 20) -> list[Match]:
    w = _where(q, viewer)
    sql = f"{_SELECT} WHERE {' AND '.join(w.clauses)} ORDER BY v.started_at DESC LIMIT $1"
    rows = await store.pool.fetch(sql, limit, *w.params)
    return [
        Match(
            investigation_id=r["id"],
            started_at=r["started_at"],
            symptom=r["title"],
            status=r["status"],
            verdict=r["verdict"],
            component=r["component"],
            fault=r["fault"],
            confirmed_by=r["confirmed_by"],
            corrected=bool(r["corrected"]),
            slack_channel=r["channel_id"],
            slack_thread_ts=r["thread_ts"],
        )
        for r in rows
    ]


async def known_names(store: KnowledgeStore, viewer: Viewer) -> tuple[list[str], list[str]]:
    """Component names and team names the viewer's investigations mention, to recognise them in text."""
    scope, params = viewer.sql("i", 1)
    rows = await store.pool.fetch(
        f"""
        SELECT DISTINCT name FROM (
            SELECT i.service AS name FROM investigations v
                  JOIN incidents i ON i.id = v.incident_id WHERE {scope}
            UNION SELECT d.component FROM verdicts d JOIN investigations v ON v.id = d.investigation_id
                  JOIN incidents i ON i.id = v.incident_id WHERE {scope}
            UNION SELECT s.confirmed_component FROM incident_signatures s
                  JOIN investigations v ON v.id = s.investigation_id
                  JOIN incidents i ON i.id = v.incident_id WHERE {scope}
        ) names WHERE name IS NOT NULL
        """,
        *params,
    )
    teams = await store.pool.fetch("SELECT id, name FROM teams")
    return [r["name"] for r in rows], [n for r in teams for n in (r["id"], r["name"])]

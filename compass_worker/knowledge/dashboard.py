"""Read-only queries behind the web dashboard (compass_bot/ui): a filtered, paged list of investigations,
the values its filters offer, LLM cost by day × model × phase, and the learned knowledge per scope.

The dashboard is an operator's view: it reads every scope (it is reached only with a dashboard token, see
compass_bot/ui/auth.py). Each query is one or two indexed statements, because the list must render in well
under 200 ms with 10,000 investigations in the store (benchmarks/dashboard.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from compass_worker.knowledge.database import Pool
from compass_worker.knowledge.records import Cause, InvestigationStatus, Trigger
from compass_worker.knowledge.scope import Ownership, Scope


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InvestigationFilter(_Frozen):
    """What the list page asks for; every field is optional and they combine with AND."""

    status: InvestigationStatus | None = None
    service: str | None = None
    fault: str | None = None  # the verdict's fault or the fault a human confirmed
    channel: str | None = None  # a Slack channel id
    since: date | None = None  # started on or after this UTC day
    until: date | None = None  # started on or before this UTC day
    search: str | None = None  # a substring of the symptom (case-insensitive)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class InvestigationRow(_Frozen):
    id: UUID
    started_at: datetime
    finished_at: datetime | None
    symptom: str
    service: str | None
    status: InvestigationStatus
    trigger: Trigger
    channel: str | None
    verdict: Cause | None
    confidence: float | None
    confirmed: Cause | None
    ownership: Ownership


class InvestigationPage(_Frozen):
    rows: tuple[InvestigationRow, ...]
    total: int  # how many match the filter (the page shows `limit` of them)


class Facets(_Frozen):
    """The values the list's filters offer."""

    services: tuple[str, ...]
    faults: tuple[str, ...]
    channels: tuple[str, ...]


class CostCell(_Frozen):
    day: date
    model: str
    phase: str
    calls: int
    tokens: int  # in + out
    usd: Decimal  # over calls with a known price
    unpriced_calls: int


class CostBreakdown(_Frozen):
    since: datetime
    cells: tuple[CostCell, ...]  # one per (day, model, phase) with any call
    avoided_by_phase: dict[str, int]
    spent_today_usd: Decimal
    spent_today_tokens: int

    @property
    def total_usd(self) -> Decimal:
        return sum((c.usd for c in self.cells), Decimal(0))

    @property
    def total_calls(self) -> int:
        return sum(c.calls for c in self.cells)

    @property
    def calls_avoided(self) -> int:
        return sum(self.avoided_by_phase.values())


class KnownCause(_Frozen):
    """An incident signature with a confirmed cause: what memory knows, in one scope."""

    signature_id: int
    ownership: Ownership
    symptom: str
    cause: Cause
    confirmed_by: str | None
    confirmed_at: datetime | None
    resolution: str | None
    pattern_id: int | None  # set when this signature is a promoted (redacted) pattern
    promoted_by: str | None


class _Sql:
    # PostgreSQL drops the LEFT JOINs (unique keys) unless the fault filter reads them.
    COUNT = """
        SELECT count(*)
        FROM investigations v
        JOIN incidents i ON i.id = v.incident_id
        LEFT JOIN verdicts d ON d.investigation_id = v.id
        LEFT JOIN incident_signatures s ON s.investigation_id = v.id
    """
    LIST = """
        SELECT v.id, v.started_at, v.finished_at, v.status, v.trigger, i.title, i.service,
               i.scope, i.owner, i.team_id,
               d.component AS v_component, d.fault AS v_fault, d.confidence,
               s.confirmed_component, s.confirmed_fault
        FROM investigations v
        JOIN incidents i ON i.id = v.incident_id
        LEFT JOIN verdicts d ON d.investigation_id = v.id
        LEFT JOIN incident_signatures s ON s.investigation_id = v.id
    """


def _where(f: InvestigationFilter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []

    def add(sql: str, value: object) -> None:
        params.append(value)
        clauses.append(sql.replace("?", f"${len(params)}"))

    if f.status is not None:
        add("v.status = ?", f.status.value)
    if f.service:
        add("i.service = ?", f.service)
    if f.fault:
        add("(d.fault = ? OR s.confirmed_fault = ?)", f.fault)
    if f.channel:
        add("EXISTS (SELECT 1 FROM slack_threads t WHERE t.investigation_id = v.id AND t.channel_id = ?)",
            f.channel)  # fmt: skip
    if f.since is not None:
        add("v.started_at >= ?", datetime.combine(f.since, time.min, tzinfo=UTC))
    if f.until is not None:
        add("v.started_at < ?", datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=UTC))
    if f.search:
        # ILIKE with the user's text as a literal: escape the pattern characters it may contain.
        literal = f.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        add("i.title ILIKE '%' || ? || '%'", literal)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _ownership(r: asyncpg.Record) -> Ownership:
    return Ownership(scope=Scope(r["scope"]), owner=r["owner"], team_id=r["team_id"])


class DashboardQueries:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def investigations(self, f: InvestigationFilter) -> InvestigationPage:
        where, params = _where(f)
        n = len(params)
        # Newest first straight off the started_at index; the channel only for the page's rows.
        rows = await self._pool.fetch(
            f"SELECT q.*, (SELECT t.channel_id FROM slack_threads t WHERE t.investigation_id = q.id LIMIT 1)"
            f" AS channel FROM ({_Sql.LIST}{where} ORDER BY v.started_at DESC, v.id"
            f" LIMIT ${n + 1} OFFSET ${n + 2}) q ORDER BY q.started_at DESC, q.id",
            *params,
            f.limit,
            f.offset,
        )
        if f.offset == 0 and len(rows) < f.limit:
            total = len(rows)  # the whole result is on this page
        else:
            total = int(await self._pool.fetchval(f"{_Sql.COUNT}{where}", *params))
        return InvestigationPage(
            rows=tuple(
                InvestigationRow(
                    id=r["id"],
                    started_at=r["started_at"],
                    finished_at=r["finished_at"],
                    symptom=r["title"],
                    service=r["service"],
                    status=InvestigationStatus(r["status"]),
                    trigger=Trigger(r["trigger"]),
                    channel=r["channel"],
                    verdict=Cause(component=r["v_component"], fault=r["v_fault"]) if r["v_fault"] else None,
                    confidence=r["confidence"],
                    confirmed=(
                        Cause(component=r["confirmed_component"], fault=r["confirmed_fault"])
                        if r["confirmed_fault"]
                        else None
                    ),
                    ownership=_ownership(r),
                )
                for r in rows
            ),
            total=total,
        )

    async def facets(self) -> Facets:
        async with self._pool.acquire() as conn:
            services = await conn.fetch(
                "SELECT DISTINCT service FROM incidents WHERE service IS NOT NULL ORDER BY 1"
            )
            faults = await conn.fetch(
                "SELECT fault FROM verdicts WHERE fault IS NOT NULL"
                " UNION SELECT confirmed_fault FROM incident_signatures WHERE confirmed_fault IS NOT NULL"
                " ORDER BY 1"
            )
            channels = await conn.fetch("SELECT DISTINCT channel_id FROM slack_threads ORDER BY 1")
        return Facets(
            services=tuple(r[0] for r in services),
            faults=tuple(r[0] for r in faults),
            channels=tuple(r[0] for r in channels),
        )

    async def costs(self, since: datetime, today: datetime) -> CostBreakdown:
        """LLM spend from `since` by UTC day × model × phase; `today` (UTC midnight) for the daily budget."""
        async with self._pool.acquire() as conn:
            cells = await conn.fetch(
                """
                SELECT (created_at AT TIME ZONE 'UTC')::date AS day, model, phase, count(*) AS calls,
                       coalesce(sum(tokens_in + tokens_out), 0) AS tokens, coalesce(sum(usd), 0) AS usd,
                       count(*) FILTER (WHERE usd IS NULL) AS unpriced
                FROM llm_calls WHERE created_at >= $1
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """,
                since,
            )
            avoided = await conn.fetch(
                "SELECT phase, count(*) AS n FROM llm_calls_avoided WHERE created_at >= $1"
                " GROUP BY phase ORDER BY phase",
                since,
            )
            day = await conn.fetchrow(
                "SELECT coalesce(sum(usd), 0) AS usd, coalesce(sum(tokens_in + tokens_out), 0) AS tokens"
                " FROM llm_calls WHERE created_at >= $1",
                today,
            )
        assert day is not None  # an aggregate always returns one row
        return CostBreakdown(
            since=since,
            cells=tuple(
                CostCell(
                    day=r["day"],
                    model=r["model"],
                    phase=r["phase"],
                    calls=r["calls"],
                    tokens=r["tokens"],
                    usd=Decimal(r["usd"]),
                    unpriced_calls=r["unpriced"],
                )
                for r in cells
            ),
            avoided_by_phase={r["phase"]: int(r["n"]) for r in avoided},
            spent_today_usd=Decimal(day["usd"]),
            spent_today_tokens=int(day["tokens"]),
        )

    async def known_causes(self, *, limit: int = 200) -> list[KnownCause]:
        """Signatures with a confirmed cause, in every scope, newest first (promoted patterns included)."""
        rows = await self._pool.fetch(
            """
            SELECT s.id, s.scope, s.owner, s.team_id, s.symptom, s.confirmed_component, s.confirmed_fault,
                   s.confirmed_by, s.confirmed_at, s.resolution, p.id AS pattern_id, p.promoted_by
            FROM incident_signatures s
            LEFT JOIN learned_patterns p ON p.signature_id = s.id
            WHERE s.confirmed_fault IS NOT NULL
            ORDER BY s.created_at DESC, s.id DESC
            LIMIT $1
            """,
            limit,
        )
        return [
            KnownCause(
                signature_id=r["id"],
                ownership=_ownership(r),
                symptom=r["symptom"],
                cause=Cause(component=r["confirmed_component"], fault=r["confirmed_fault"]),
                confirmed_by=r["confirmed_by"],
                confirmed_at=r["confirmed_at"],
                resolution=r["resolution"],
                pattern_id=r["pattern_id"],
                promoted_by=r["promoted_by"],
            )
            for r in rows
        ]

    async def channel_of(self, investigation_id: UUID) -> str | None:
        value = await self._pool.fetchval(
            "SELECT channel_id FROM slack_threads WHERE investigation_id = $1 LIMIT 1", investigation_id
        )
        return None if value is None else str(value)

    async def signature_ownership(self, signature_id: int) -> Ownership | None:
        """Whose a signature is (the admins' promote action acts as its owner would)."""
        row = await self._pool.fetchrow(
            "SELECT scope, owner, team_id FROM incident_signatures WHERE id = $1", signature_id
        )
        return None if row is None else _ownership(row)

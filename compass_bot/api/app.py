"""The REST API as its own FastAPI app, mounted at `/api/v1` (OpenAPI at `/api/v1/openapi.json`, docs at
`/api/v1/docs`). Every error is problem+json; every route but `/health` needs a bearer token with a scope.
Feedback is not written here: it becomes the same worker job a Slack ✅ / ❌ does, so memory learns from it
the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from arq.connections import ArqRedis
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from compass_bot.database import DB_ERRORS, LazyPool
from compass_bot.problems import ProblemError, problem_response, problem_responses
from compass_worker.contracts import ApiFeedbackRequest, JobName

from . import queries
from .auth import Caller, authenticate, create_token
from .schemas import (
    Category,
    CostsOut,
    FeedbackIn,
    FeedbackQueued,
    FilterText,
    HealthOut,
    IncidentDetail,
    IncidentOut,
    IncidentStatus,
    InvestigationDetail,
    InvestigationOut,
    InvestigationStatus,
    Page,
    PatternOut,
    Severity,
    TokenCreated,
    TokenIn,
)

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[
    int, Query(ge=0, le=1_000_000, description="items to skip (the previous page's next_offset)")
]
Period = Literal["today", "7d", "30d"]
_PERIODS = {"today": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}


_bearer = HTTPBearer(auto_error=False, description="a token from `compass api-token create`")


async def _caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    pool: LazyPool = request.app.state.pool
    try:
        return await authenticate(await pool.get(), credentials.credentials if credentials else None)
    except DB_ERRORS as exc:
        raise ProblemError(503, f"database unavailable: {type(exc).__name__}") from None


async def _reader(who: Annotated[Caller, Depends(_caller)]) -> Caller:
    who.require("read")
    return who


async def _feedback_giver(who: Annotated[Caller, Depends(_caller)]) -> Caller:
    who.require("feedback")
    return who


async def _admin(who: Annotated[Caller, Depends(_caller)]) -> Caller:
    who.require("admin")
    return who


# Module level, so that FastAPI resolves them from these (string) annotations.
Reader = Annotated[Caller, Depends(_reader)]
FeedbackGiver = Annotated[Caller, Depends(_feedback_giver)]
Admin = Annotated[Caller, Depends(_admin)]


def _page(items: list[object], more: bool, limit: int, offset: int) -> dict[str, object]:
    return {"items": items, "limit": limit, "offset": offset, "next_offset": offset + limit if more else None}


def create_api(pool: LazyPool, redis: ArqRedis) -> FastAPI:
    api = FastAPI(
        title="COMPASS API",
        version="1",
        description="Incidents, their alerts, investigations (timeline, verdict, evidence), feedback, costs.",
        docs_url="/docs",
        redoc_url=None,
        responses=problem_responses(401, 403, 422, 503),
    )
    api.state.pool = pool

    @api.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in err.get("loc", ()))
        return problem_response(422, f"invalid {where or 'request'}: {err.get('msg', '')}")

    async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        # The database went away after the pool was opened: the client may retry; it is not a bug.
        return problem_response(503, f"database unavailable: {type(exc).__name__}", {"Retry-After": "5"})

    for error in DB_ERRORS:
        api.add_exception_handler(error, _unavailable)

    @api.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail))

    not_found = problem_responses(404)

    @api.get("/health")
    async def health() -> HealthOut:
        """Liveness of the database and Redis (no token needed)."""
        database, outbox = True, None
        try:
            outbox = int(
                await (await pool.get()).fetchval("SELECT count(*) FROM alerts WHERE enqueued_at IS NULL")
            )
        except (ProblemError, *DB_ERRORS):
            database = False
        try:
            redis_ok = bool(await redis.ping())
        except (RedisError, OSError, ConnectionError):
            redis_ok = False
        status: Literal["ok", "degraded"] = "ok" if database and redis_ok else "degraded"
        return HealthOut(status=status, database=database, redis=redis_ok, alerts_in_outbox=outbox)

    @api.get("/incidents")
    async def list_incidents(
        _: Reader,
        limit: Limit = 50,
        offset: Offset = 0,
        status: IncidentStatus | None = None,
        severity: Severity | None = None,
        category: Category | None = None,
        component: Annotated[FilterText | None, Query()] = None,
    ) -> Page[IncidentOut]:
        """Alert incidents, newest first."""
        filters = {
            "a.status": status,
            "a.severity": severity,
            "a.category": category,
            "a.component": component,
        }
        items, more = await queries.incidents(await pool.get(), filters, limit, offset)
        return Page[IncidentOut].model_validate(_page(list(items), more, limit, offset))

    @api.get("/incidents/{incident_id}", responses=not_found)
    async def get_incident(incident_id: UUID, _: Reader) -> IncidentDetail:
        """One incident with all its alerts."""
        found = await queries.incident(await pool.get(), incident_id)
        if found is None:
            raise ProblemError(404, f"no incident {incident_id}")
        return found

    @api.get("/investigations")
    async def list_investigations(
        _: Reader,
        limit: Limit = 50,
        offset: Offset = 0,
        status: InvestigationStatus | None = None,
        trigger: Literal["slack_thread", "alert", "cli", "api"] | None = None,
        component: Annotated[
            FilterText | None, Query(description="the verdict's root-cause component")
        ] = None,
    ) -> Page[InvestigationOut]:
        """Investigations, newest first."""
        filters = {"v.status": status, "v.trigger": trigger, "d.component": component}
        items, more = await queries.investigations(await pool.get(), filters, limit, offset)
        return Page[InvestigationOut].model_validate(_page(list(items), more, limit, offset))

    @api.get("/investigations/{investigation_id}", responses=not_found)
    async def get_investigation(investigation_id: UUID, _: Reader) -> InvestigationDetail:
        """An investigation's event timeline, hypotheses, evidence, verdict and feedback."""
        found = await queries.investigation(await pool.get(), investigation_id)
        if found is None:
            raise ProblemError(404, f"no investigation {investigation_id}")
        return found

    @api.post(
        "/investigations/{investigation_id}/feedback",
        status_code=202,
        responses={**not_found, **problem_responses(503)},
    )
    async def give_feedback(investigation_id: UUID, body: FeedbackIn, who: FeedbackGiver) -> FeedbackQueued:
        """Confirm the verdict, or correct it with the actual component and fault."""
        if body.kind == "correct" and not body.component:
            raise ProblemError(422, "a correction needs the actual component (and preferably its fault)")
        if not await queries.investigation_exists(await pool.get(), investigation_id):
            raise ProblemError(404, f"no investigation {investigation_id}")
        req = ApiFeedbackRequest(
            investigation_id=str(investigation_id),
            kind=body.kind,
            user=f"api:{who.name}",
            component=body.component,
            fault=body.fault,
            note=body.note,
        )
        try:
            await redis.enqueue_job(JobName.API_FEEDBACK, req.model_dump(mode="json"))
        except (RedisError, OSError, ConnectionError):
            raise ProblemError(503, "the queue is unavailable; try again") from None
        return FeedbackQueued(investigation_id=investigation_id, queued=True)

    @api.get("/costs")
    async def get_costs(_: Reader, period: Period = "7d") -> CostsOut:
        """LLM calls, tokens and dollars over a period, by model and by phase, and calls avoided."""
        return await queries.costs(await pool.get(), datetime.now(UTC) - _PERIODS[period])

    @api.get("/patterns")
    async def list_patterns(_: Reader, limit: Limit = 50, offset: Offset = 0) -> Page[PatternOut]:
        """Learned patterns (knowledge promoted on purpose, redacted)."""
        items, more = await queries.patterns(await pool.get(), limit, offset)
        return Page[PatternOut].model_validate(_page(list(items), more, limit, offset))

    @api.post("/tokens", status_code=201)
    async def new_token(body: TokenIn, who: Admin) -> TokenCreated:
        """Create a token (shown once)."""
        token_id, token = await create_token(await pool.get(), body.name, list(body.scopes), who.name)
        return TokenCreated(id=token_id, name=body.name, scopes=sorted(set(body.scopes)), token=token)

    @api.delete("/tokens/{token_id}", status_code=204, responses=not_found)
    async def revoke_token(token_id: UUID, _: Admin) -> None:
        """Revoke a token."""
        done = await (await pool.get()).execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
        )
        if done.endswith(" 0"):
            raise ProblemError(404, f"no active token {token_id}")

    return api

"""The dashboard's routes under /ui: login, investigations (list, one as a timeline, its live fragment),
costs, memory (with the admins' promote/retire actions) and health.

Every page needs a session (a GET without one is sent to the login page, a fragment answers 401); every
POST that changes something needs the session's CSRF token. Bad input is one clear line with a 4xx.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from compass_bot.settings import BotSettings
from compass_bot.ui import charts
from compass_bot.ui.auth import COOKIE, Authenticator, Session
from compass_bot.ui.settings import UiSettings
from compass_bot.ui.store import LazyStore, StoreUnavailable
from compass_worker.errors import CompassError

if TYPE_CHECKING:
    from compass_worker.knowledge.dashboard import Facets

# The worker's modules (the knowledge store, asyncpg, the MCP client for Health) are imported by the routes
# that use them, on first use: the Slack edge itself stays light and starts fast (tests/bot checks it).

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
# The filters' choices (services, faults, channels) change slowly; reading them scans whole tables.
FACETS_TTL_S = 30.0
# Only our own files run or style the page; nothing may frame it.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class BadInput(Exception):
    """A 400 with one line for the user."""


@dataclass
class Dashboard:
    settings: UiSettings
    bot: BotSettings
    store: LazyStore

    def __post_init__(self) -> None:
        self.auth = Authenticator(self.settings)
        self._facets: tuple[float, Facets] | None = None
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), enable_async=False
        )
        self.env.globals["sparkline"] = charts.sparkline
        self.env.globals["color"] = charts.color

    async def facets(self) -> Facets:
        now = time.monotonic()
        if self._facets is None or now - self._facets[0] > FACETS_TTL_S:
            self._facets = (now, await (await self.store.get()).dashboard.facets())
        return self._facets[1]


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def build_router(ui: Dashboard) -> APIRouter:
    router = APIRouter(prefix="/ui")

    def render(
        request: Request, name: str, session: Session | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        html = ui.env.get_template(name).render(
            request_path=request.url.path,
            session=session,
            csrf=ui.auth.csrf_token(session) if session else "",
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    def error(request: Request, session: Session | None, status: int, message: str) -> HTMLResponse:
        return render(request, "error.html", session, status=status, message=message)

    def session_of(request: Request) -> Session | None:
        return ui.auth.session(request.cookies.get(COOKIE))

    def to_login(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)

    async def guarded(request: Request, page: Any, *, fragment: bool = False) -> Response:
        import asyncpg

        from compass_worker.knowledge.errors import NotFound

        session = session_of(request)
        if session is None:
            return Response("login required", status_code=401) if fragment else to_login(request)
        try:
            response: Response = await page(session)
            return response
        except BadInput as exc:
            return error(request, session, 400, str(exc))
        except NotFound as exc:
            return error(request, session, 404, str(exc))
        except StoreUnavailable as exc:
            return error(request, session, 503, f"the knowledge store is unavailable: {exc}")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:  # the database went away
            return error(request, session, 503, f"the knowledge store did not answer: {type(exc).__name__}")

    async def posted(request: Request, action: Any) -> Response:
        session = session_of(request)
        if session is None:
            return error(request, None, 401, "your session has ended: log in again")
        form = _form(await request.body())
        if not ui.auth.csrf_ok(session, form.get("csrf")):
            return error(request, session, 403, "this form has expired (CSRF check failed): reload the page")
        try:
            response: Response = await action(session, form)
            return response
        except (BadInput, CompassError) as exc:
            return error(request, session, 400, str(exc))
        except StoreUnavailable as exc:
            return error(request, session, 503, f"the knowledge store is unavailable: {exc}")

    # -- login -------------------------------------------------------------------------------------------
    def safe_next(value: str | None) -> str:
        # Only a path of ours: never an absolute URL that would send the user elsewhere after login.
        if value and value.startswith("/ui") and not value.startswith("//"):
            return value
        return "/ui/investigations"

    @router.get("", include_in_schema=False)
    @router.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/investigations", status_code=303)

    @router.get("/login", include_in_schema=False)
    async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
        return render(
            request, "login.html", None, next=safe_next(next), configured=ui.auth.configured, problem=None
        )

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = _form(await request.body())
        session = ui.auth.login(form.get("token", "").strip())
        if session is None:
            problem = "that token is not valid" if ui.auth.configured else "no dashboard token is configured"
            return render(
                request,
                "login.html",
                None,
                status=401,
                next=safe_next(form.get("next")),
                configured=ui.auth.configured,
                problem=problem,
            )
        response = RedirectResponse(safe_next(form.get("next")), status_code=303)
        response.set_cookie(
            COOKIE,
            ui.auth.cookie(session),
            max_age=ui.auth.max_age_s,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/ui",
        )
        return response

    @router.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        async def act(_: Session, __: Mapping[str, str]) -> Response:
            response = RedirectResponse("/ui/login", status_code=303)
            response.delete_cookie(COOKIE, path="/ui")
            return response

        return await posted(request, act)

    # -- investigations ----------------------------------------------------------------------------------
    @router.get("/investigations", include_in_schema=False)
    async def investigations(request: Request) -> Response:
        from compass_worker.knowledge.dashboard import InvestigationFilter
        from compass_worker.knowledge.records import InvestigationStatus

        q = request.query_params

        async def page(session: Session) -> Response:
            raw = {
                "status": _blank(q.get("status")),
                "service": _blank(q.get("service")),
                "fault": _blank(q.get("fault")),
                "channel": _blank(q.get("channel")),
                "since": _blank(q.get("since")),
                "until": _blank(q.get("until")),
                "search": _blank(q.get("q")),
            }
            try:
                number = int(q.get("page") or 1)
                if number < 1:
                    raise ValueError
            except ValueError:
                raise BadInput("page must be a whole number from 1") from None
            try:
                wanted = InvestigationFilter.model_validate(
                    {**raw, "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE}
                )
            except ValidationError as exc:
                err = exc.errors()[0]
                field = {"search": "q"}.get(str(err["loc"][0]), str(err["loc"][0]))
                raise BadInput(f"invalid filter {field}: {err['msg']}") from None
            store = await ui.store.get()
            found = await store.dashboard.investigations(wanted)
            facets = await ui.facets()
            keep = {k: v for k, v in {**raw, "q": raw["search"]}.items() if v and k != "search"}
            return render(
                request,
                "investigations.html",
                session,
                page=found,
                facets=facets,
                filters=raw,
                statuses=[s.value for s in InvestigationStatus],
                number=number,
                pages=max(1, -(-found.total // PAGE_SIZE)),
                query=keep,
            )

        return await guarded(request, page)

    async def timeline_context(iid: str) -> dict[str, Any]:
        try:
            investigation_id = UUID(iid)
        except ValueError:
            raise BadInput(f"{iid!r} is not an investigation id") from None
        store = await ui.store.get()
        snap = await store.investigations.snapshot(investigation_id)
        checks: dict[str, list[Any]] = {}
        for check in snap.checks:
            checks.setdefault(check.hypothesis_id, []).append(check)
        return {
            "snap": snap,
            "rec": snap.record,
            "checks": checks,
            "corrections": await store.feedback.corrections(investigation_id),
            "resolutions": await store.feedback.resolutions(investigation_id),
            "channel": await store.dashboard.channel_of(investigation_id),
            "poll_s": ui.settings.poll_s,
        }

    @router.get("/investigations/{iid}", include_in_schema=False)
    async def investigation(request: Request, iid: str) -> Response:
        async def page(session: Session) -> Response:
            return render(request, "investigation.html", session, **await timeline_context(iid))

        return await guarded(request, page)

    @router.get("/investigations/{iid}/timeline", include_in_schema=False)
    async def timeline(request: Request, iid: str) -> Response:
        async def page(session: Session) -> Response:
            return render(request, "_timeline.html", session, **await timeline_context(iid))

        return await guarded(request, page, fragment=True)

    # -- costs -------------------------------------------------------------------------------------------
    @router.get("/costs", include_in_schema=False)
    async def costs(request: Request) -> Response:
        from compass_worker.reasoners.settings import LlmSettings

        async def page(session: Session) -> Response:
            try:
                days = int(request.query_params.get("days") or 14)
                if not 1 <= days <= 90:
                    raise ValueError
            except ValueError:
                raise BadInput("days must be a whole number from 1 to 90") from None
            now = datetime.now(UTC)
            today = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
            since = today - timedelta(days=days - 1)
            store = await ui.store.get()
            breakdown = await store.dashboard.costs(since, today)
            labels = [(since.date() + timedelta(days=i)) for i in range(days)]
            models = sorted({c.model for c in breakdown.cells})
            per_model = {m: {d: Decimal(0) for d in labels} for m in models}
            for cell in breakdown.cells:
                per_model[cell.model][cell.day] += cell.usd
            series = [(m, [per_model[m][d] for d in labels]) for m in models]
            chart = charts.stacked_bars(
                [d.strftime("%m-%d") for d in labels],
                series,
                title=f"LLM spend per day by model, last {days} days: ${breakdown.total_usd:.2f} in total",
            )
            try:
                budgets = LlmSettings().budgets()
            except (ValidationError, CompassError):
                budgets = None
            return render(
                request,
                "costs.html",
                session,
                days=days,
                b=breakdown,
                chart=chart,
                models=models,
                model_totals={m: sum(per_model[m].values(), Decimal(0)) for m in models},
                budgets=budgets,
            )

        return await guarded(request, page)

    # -- memory ------------------------------------------------------------------------------------------
    @router.get("/memory", include_in_schema=False)
    async def memory(request: Request) -> Response:
        from compass_worker.knowledge.scope import Scope

        async def page(session: Session) -> Response:
            store = await ui.store.get()
            known = await store.dashboard.known_causes()
            by_scope = {s.value: [k for k in known if k.ownership.scope is s] for s in Scope}
            flash = request.query_params.get("done")
            return render(request, "memory.html", session, by_scope=by_scope, flash=flash)

        return await guarded(request, page)

    def whole(form: Mapping[str, str], name: str) -> int:
        try:
            return int(form.get(name, ""))
        except ValueError:
            raise BadInput(f"{name} must be a number") from None

    @router.post("/memory/promote", include_in_schema=False)
    async def promote(request: Request) -> Response:
        from compass_worker.knowledge.scope import Ownership, Viewer

        async def act(session: Session, form: Mapping[str, str]) -> Response:
            if not session.is_admin:
                return error(request, session, 403, "promoting needs the admin scope")
            signature_id = whole(form, "signature_id")
            target = form.get("to", "")
            if target == "org":
                to = Ownership.org()
            elif target == "team" and form.get("team", "").strip():
                to = Ownership.team(form["team"].strip())
            else:
                raise BadInput("promote to org, or to team with a team id")
            store = await ui.store.get()
            owner = await store.dashboard.signature_ownership(signature_id)
            if owner is None:
                raise BadInput(f"no signature {signature_id}")
            viewer = Viewer(user=owner.owner, teams=(owner.team_id,) if owner.team_id else ())
            pattern = await store.patterns.promote(signature_id, to, by=session.name, viewer=viewer)
            done = quote(f"promoted to {pattern.ownership.scope.value}: {pattern.cause}")
            return RedirectResponse(f"/ui/memory?done={done}", status_code=303)

        return await posted(request, act)

    @router.post("/memory/retire", include_in_schema=False)
    async def retire(request: Request) -> Response:
        async def act(session: Session, form: Mapping[str, str]) -> Response:
            if not session.is_admin:
                return error(request, session, 403, "retiring needs the admin scope")
            store = await ui.store.get()
            pattern = await store.patterns.retire(whole(form, "pattern_id"))
            done = quote(f"retired from {pattern.ownership.scope.value}: {pattern.cause}")
            return RedirectResponse(f"/ui/memory?done={done}", status_code=303)

        return await posted(request, act)

    # -- health ------------------------------------------------------------------------------------------
    @router.get("/health", include_in_schema=False)
    async def health(request: Request) -> Response:
        from compass_bot.ui.health import run_checks
        from compass_worker.health import Status

        async def page(session: Session) -> Response:
            results = await run_checks(ui.bot, ui.settings.health_timeout_s)
            failed = sum(r.status is Status.FAIL for r in results)
            return render(request, "health.html", session, results=results, failed=failed)

        return await guarded(request, page)

    return router

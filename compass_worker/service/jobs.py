"""The ARQ job functions (registered under the names in compass_worker.contracts).

Every job validates its payload first and answers in the thread whatever happens: a result, or an honest
failure. `investigate_mention` is idempotent on the thread's key: a retry (the worker died) resumes the
same investigation record and updates the same Slack messages, so the thread gets exactly one verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from arq import Retry

from compass_worker.contracts import (
    CostRequest,
    FeedbackRequest,
    FollowUpRequest,
    InvestigateRequest,
    MessageTag,
    RedisKeys,
    ResolutionRequest,
    SlackThread,
)
from compass_worker.domain.events import FanoutSink
from compass_worker.domain.models import Incident
from compass_worker.engine.incident import build_incident
from compass_worker.errors import CompassError, ConfigError, ServerUnavailable
from compass_worker.knowledge.errors import InvalidInput
from compass_worker.knowledge.records import Cause, FeedbackChannel, InvestigationStatus, Trigger
from compass_worker.knowledge.scope import Ownership, Viewer
from compass_worker.knowledge.signature import IncidentSignature
from compass_worker.knowledge.sink import StoreSink
from compass_worker.runner import investigate
from compass_worker.service.alert_jobs import pin_alert_cause
from compass_worker.service.context import ServiceContext, service
from compass_worker.service.corrections import OTHER, ask_component, component_from_text, fault_from_text
from compass_worker.service.costs import cost_report, viewer_team
from compass_worker.service.followup import answer
from compass_worker.service.leases import Lease
from compass_worker.service.ledger import MessageLedger
from compass_worker.service.memory import memory_priors
from compass_worker.service.outage import DEPENDENCY_ERRORS, is_outage
from compass_worker.service.slack_sink import SlackSink
from compass_worker.service.thread_notices import ThreadNotices
from compass_worker.slack.cost import cost_blocks
from compass_worker.slack.replies import failure_text, follow_up_blocks, unreachable_text

log = logging.getLogger(__name__)

# The investigation stops a little before the job's hard timeout, so it can still say so in Slack.
TIMEOUT_MARGIN_S = 10.0
TIMEOUT_MARGIN_SHARE = 0.2
# Feedback can arrive before the investigation's record exists (the job has not started yet).
FEEDBACK_RETRY_S = 1.0
# An MCP server that dies mid-investigation gets one more attempt (a fresh session) before the thread is told.
TELEMETRY_TRIES = 2
FAILED_OUTCOMES = frozenset({"bad input", "unreachable", "timeout", "failed"})
INTERNAL_ERROR = "an internal error (details in the worker log)"
OUTAGE_ERROR = "its database or queue was unreachable for too long; mention me again to retry"
NOTHING_TO_CONFIRM = (
    "There is no root cause to confirm here — reply with what it actually was and I'll remember it."
)


async def _team(svc: ServiceContext, channel: str) -> str:
    """The channel's team; an unmapped channel becomes its own team (so its knowledge stays together)."""
    team = await svc.store.slack.team_for_channel(channel)
    if team is None:
        await svc.store.slack.map_channel(channel, channel)
        team = channel
    return team


async def investigate_mention(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = InvestigateRequest.model_validate(payload)
    svc = service(ctx)
    key = req.thread.investigation_key
    lease_s = svc.config.service.lease_s
    if key in svc.running:
        return "already running in this worker"  # a duplicate job, picked while the first one runs
    svc.running.add(key)
    try:
        return await _investigate_leased(ctx, svc, req, lease_s)
    finally:
        svc.running.discard(key)


async def _investigate_leased(
    ctx: dict[Any, Any], svc: ServiceContext, req: InvestigateRequest, lease_s: float
) -> str:
    key = req.thread.investigation_key
    await svc.jobs.ensure(key, req.model_dump(mode="json"))  # an edge without a database wrote none
    lease = await svc.jobs.acquire(key, svc.owner, lease_s)
    if lease is None:
        return "held by another worker, or over"  # a duplicate job of a running or finished investigation
    outcome = "failed"
    try:
        async with heartbeat(svc, key):
            outcome = await _investigate(svc, req, lease)
    except LeaseLost:
        # Our lease ran out (a late heartbeat under load) and another worker resumed the investigation:
        # this copy stops where it is and touches neither the row nor the thread again.
        return "lease lost: another worker continues"
    except TelemetryLost:
        await svc.jobs.release(key, svc.owner, "telemetry server lost")
        raise Retry(defer=1.0) from None
    except Exception as exc:
        if is_outage(exc):
            return await _outage(ctx, svc, req, exc)
        log.exception("investigation %s failed", key)  # a bug: the thread still hears about it
        await ThreadNotices(svc.slack, svc.redis).failed(req.thread, INTERNAL_ERROR, req.status_ts)
        await svc.jobs.finish(key, svc.owner, "failed", INTERNAL_ERROR)
        raise
    await svc.jobs.finish(key, svc.owner, "failed" if outcome in FAILED_OUTCOMES else "done")
    return outcome


async def _outage(ctx: dict[Any, Any], svc: ServiceContext, req: InvestigateRequest, exc: Exception) -> str:
    """Redis or PostgreSQL went away mid-investigation: give the lease back and retry with back-off;
    after the last try, say so in the thread (the reconciler re-enqueues it once the store is back)."""
    key, reason = req.thread.investigation_key, f"{type(exc).__name__} while investigating"
    with contextlib.suppress(*DEPENDENCY_ERRORS):
        await svc.jobs.release(key, svc.owner, reason)
    tries = int(ctx.get("job_try") or 1)
    if tries < svc.config.service.max_tries:
        raise Retry(defer=min(30.0, 2.0**tries)) from exc
    with contextlib.suppress(*DEPENDENCY_ERRORS):
        await ThreadNotices(svc.slack, svc.redis).failed(req.thread, OUTAGE_ERROR, req.status_ts)
    return "dependency down"


class LeaseLost(Exception):
    """The investigation's lease is another worker's now: this copy must stop."""


@contextlib.asynccontextmanager
async def heartbeat(svc: ServiceContext, key: str) -> AsyncIterator[None]:
    """Extend the lease every third of its length while the block runs (a missed beat is retried).
    When the lease turns out to be another worker's, the block is cancelled and `LeaseLost` raised:
    two copies of one investigation must not run side by side."""
    lease_s = svc.config.service.lease_s
    me = asyncio.current_task()
    lost = False

    async def beat() -> None:
        nonlocal lost
        while True:
            await asyncio.sleep(lease_s / 3)
            try:
                if not await svc.jobs.heartbeat(key, svc.owner, lease_s):
                    log.warning("lost the lease of %s (another worker took it over): stopping this copy", key)
                    lost = True
                    if me is not None:
                        me.cancel()
                    return
            except Exception as exc:
                if not is_outage(exc):
                    raise

    task = asyncio.create_task(beat())
    try:
        yield
    except asyncio.CancelledError:
        # Our own cancellation (and no other pending one, e.g. ARQ's job timeout): the lease was lost.
        if lost and me is not None and me.uncancel() == 0:
            raise LeaseLost(key) from None
        raise
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _investigate(svc: ServiceContext, req: InvestigateRequest, lease: Lease) -> str:
    thread, key = req.thread, req.thread.investigation_key
    # A retry reads back from Slack what an earlier attempt posted but may not have recorded; so does a
    # first attempt without the edge's status ts (the edge may have posted it and died before saving it).
    recovering = lease.attempt > 1 or req.status_ts is None
    recover = (
        (lambda: svc.slack.tagged_replies(thread.channel, thread.thread_ts, key)) if recovering else None
    )
    ledger = MessageLedger(svc.redis, key, recover=recover)
    sink = SlackSink(svc.slack, ledger, thread, interval_s=svc.config.service.status_interval_s)
    status_ts = await sink.open(req.status_ts)
    if lease.attempt > 1:
        sink.retrying(f"{lease.last_error or 'retry'} — retrying (attempt {lease.attempt})")
    try:
        try:
            incident = build_incident(req.text, service=None, at=str(req.at), window=None)
        except ConfigError as exc:
            await sink.fail(failure_text(str(exc)), str(exc))
            return "bad input"
        team = await _team(svc, thread.channel)
        started = await svc.store.investigations.start(
            idempotency_key=key,
            incident=incident,
            trigger=Trigger(req.trigger),
            ownership=Ownership.team(team),
            requested_by=req.user,
            trigger_ref=f"{thread.channel}/{thread.thread_ts}",
        )
        inv_id = started.record.id
        await svc.store.slack.link_thread(
            thread.channel, thread.thread_ts, inv_id, status_message_ts=status_ts
        )
        if started.resumed:
            done = await svc.store.investigations.verdict(inv_id)
            if done is not None:  # an earlier attempt concluded; make sure the thread shows it, once
                if done.verdict == "root_cause" and done.root_causes:
                    await _pin_alert_incident(svc, key, done.root_causes[0].component)
                await sink.finish(done)
                return "verdict (resumed)"
        viewer = Viewer(user=req.user, teams=(team,))
        return await _run(
            svc, sink, incident, inv_id, viewer, key=key, retry_telemetry=lease.attempt < TELEMETRY_TRIES
        )
    finally:
        await sink.close()


class TelemetryLost(Exception):
    """The MCP server died mid-investigation (a crash, not a wrong config): worth one more attempt."""


async def _run(
    svc: ServiceContext,
    sink: SlackSink,
    incident: Incident,
    inv_id: UUID,
    viewer: Viewer,
    *,
    key: str,
    retry_telemetry: bool = False,
) -> str:
    limit = svc.config.service.job_timeout_s
    budget = limit - min(TIMEOUT_MARGIN_S, limit * TIMEOUT_MARGIN_SHARE)
    store_sink = StoreSink(svc.store.investigations, inv_id)
    try:
        async with asyncio.timeout(budget):
            result = await investigate(
                incident,
                svc.mcp,
                svc.config.engine,
                FanoutSink(store_sink, sink),
                catalogs=svc.catalogs,
                memory=memory_priors(svc.store, viewer, exclude=inv_id),
                reasoner=svc.reasoners.for_investigation(inv_id) if svc.reasoners else None,
                sessions=svc.sessions,
            )
    except ServerUnavailable as exc:
        if retry_telemetry:  # a crashed mcp-grafana: the retry's lease opens fresh sessions
            raise TelemetryLost(str(exc)) from exc
        await svc.store.investigations.finish(inv_id, InvestigationStatus.FAILED)
        await sink.fail(unreachable_text(str(exc)), "no telemetry reachable")
        return "unreachable"
    except TimeoutError:
        await svc.store.investigations.finish(inv_id, InvestigationStatus.FAILED)
        reason = f"it ran out of time ({budget:.0f}s) before reaching a verdict"
        await sink.fail(failure_text(reason), reason)
        return "timeout"
    except CompassError as exc:
        await svc.store.investigations.finish(inv_id, InvestigationStatus.FAILED)
        await sink.fail(failure_text(str(exc)), str(exc))
        return "failed"
    except Exception as exc:
        if is_outage(exc):
            raise  # investigate_mention retries it (the investigation resumes from the store)
        # A bug must not leave the thread saying "Investigating …" forever; ARQ records the failure.
        log.exception("investigation %s failed", inv_id)
        await svc.store.investigations.finish(inv_id, InvestigationStatus.FAILED)
        await sink.fail(failure_text("an internal error (details in the worker log)"), "internal error")
        raise
    verdict = result.verdict
    await svc.store.investigations.record_verdict(inv_id, verdict)  # the StoreSink's write may have been lost
    components = tuple(
        dict.fromkeys(
            [*(c.component for c in verdict.root_causes), *(e.component for e in verdict.eliminated)]
        )
    )
    try:
        signature = IncidentSignature.from_incident(incident, components, verdict.anomalies)
        await svc.store.memory.record_signature(inv_id, signature)
    except CompassError as exc:  # memory is an aid: the verdict still goes out
        log.warning("could not record the signature of %s: %s", inv_id, exc)
    if verdict.verdict == "root_cause" and verdict.root_causes:
        await _pin_alert_incident(svc, key, verdict.root_causes[0].component)
    await sink.finish(verdict)
    return verdict.verdict


async def _pin_alert_incident(svc: ServiceContext, key: str, component: str) -> None:
    """An alert incident's investigation (or a correction in its thread) named the root component: later
    alerts are grouped against it and those off its path leave (compass_worker/alerts/grouping.py).
    Other threads have no incident."""
    await pin_alert_cause(svc, key, component)


async def _investigation(ctx: dict[Any, Any], thread: SlackThread) -> UUID:
    """The thread's investigation; until the investigate job has created it, retry shortly."""
    inv_id = await service(ctx).store.slack.investigation_for_thread(thread.channel, thread.thread_ts)
    if inv_id is None:
        raise Retry(defer=FEEDBACK_RETRY_S)
    return inv_id


async def record_feedback(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = FeedbackRequest.model_validate(payload)
    svc = service(ctx)
    inv_id = await _investigation(ctx, req.thread)
    if req.kind == "confirm":
        try:
            await svc.store.feedback.confirm(inv_id, author=req.user, channel=FeedbackChannel.SLACK)
        except InvalidInput:
            await svc.slack.post(
                req.thread.channel,
                req.thread.thread_ts,
                NOTHING_TO_CONFIRM,
            )
            return "nothing to confirm"
        return "confirmed"
    snapshot = await svc.store.investigations.snapshot(inv_id)
    known = {h.component.lower() for h in snapshot.hypotheses}
    if req.component:
        component, fault = req.component.strip().lower(), req.fault or OTHER
    else:
        found = component_from_text(req.text or "", known)
        component, fault = found or "", fault_from_text(req.text or "") or OTHER
    if known and component not in known:
        # Corrections stay inside the incident: a name it never saw is asked about, not stored.
        await svc.redis.delete(RedisKeys.awaiting_resolution(req.thread))  # the next reply is the answer
        await svc.slack.post(req.thread.channel, req.thread.thread_ts, ask_component(component, known))
        return "asked which component"
    cause = Cause(component=component or "unknown", fault=fault)
    await svc.store.feedback.correct(
        inv_id, cause, author=req.user, channel=FeedbackChannel.SLACK, note=req.text
    )
    await _pin_alert_incident(svc, req.thread.investigation_key, component)
    return f"corrected: {cause}"


async def record_resolution(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = ResolutionRequest.model_validate(payload)
    inv_id = await _investigation(ctx, req.thread)
    await service(ctx).store.feedback.resolve(inv_id, req.text, author=req.user)
    return "resolved"


async def answer_follow_up(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = FollowUpRequest.model_validate(payload)
    svc = service(ctx)
    inv_id = await _investigation(ctx, req.thread)
    snapshot = await svc.store.investigations.snapshot(inv_id)
    ledger = MessageLedger(svc.redis, req.thread.investigation_key)
    part = f"followup:{req.message_ts}"
    if await ledger.get(part) is not None:
        return "already answered"
    try:
        items, unknown = await answer(svc, snapshot.record.incident, snapshot.hypotheses, req.text)
    except ServerUnavailable as exc:
        items, unknown = [], unreachable_text(str(exc))
    text, blocks = follow_up_blocks(req.text, items, unknown)
    tag = MessageTag(investigation=req.thread.investigation_key, part=part)
    ts = await svc.slack.post(req.thread.channel, req.thread.thread_ts, text, blocks, tag=tag)
    if ts is not None:
        await ledger.set(part, ts)
    return "answered" if items else "no answer"


async def cost_report_job(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = CostRequest.model_validate(payload)
    svc = service(ctx)
    # Costs are scoped to the asking user's team (their channel's); admins see the organisation.
    team = None if req.user in svc.config.service.admins else await viewer_team(svc.store, req.channel)
    view = await cost_report(svc.store, req.period, llm_configured=svc.config.llm.configured, team=team)
    text, blocks = cost_blocks(view)
    await svc.slack.ephemeral(req.channel, req.user, text, blocks)
    return "reported"
